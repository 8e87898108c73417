/** Where a workstation keeps its data, and the server's defaults. */
import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_PORT = 8787;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The OS-conventional data dir, shared by the desktop app and `flint serve`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const os = platform();
  if (os === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Flint');
  if (os === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Flint');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'flint');
}

/** --data-dir wins, then FLINT_DATA_DIR, then the OS default. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.FLINT_DATA_DIR ?? defaultDataDir(env));
}
