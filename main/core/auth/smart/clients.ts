/**
 * Which client a client id names: Flint's own UI (built in, its redirect URI on this
 * server's origin) or an active registered app.
 */
import type { Accounts } from '../accounts';
import type { App } from '../apps';
import { UI_CLIENT_ID, uiApp } from '../ui-client';

export function clientApp(accounts: Accounts, clientId: string, origin: string): App | undefined {
  return clientId === UI_CLIENT_ID ? uiApp(origin) : accounts.apps.active(clientId);
}

export const isUiClient = (clientId: string): boolean => clientId === UI_CLIENT_ID;
