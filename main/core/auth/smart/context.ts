/** What every endpoint of the authorization server shares, built once by createAuthHandler. */
import type { Accounts } from '../accounts';
import type { IdTokens } from './id-token';
import type { LoginFormTokens, PendingConsents } from './pending';
import type { SmartDeps } from './types';

export interface SmartContext {
  deps: SmartDeps;
  accounts: Accounts;
  now: () => number;
  loginForms: LoginFormTokens;
  pending: PendingConsents;
  idTokens: IdTokens;
}
