/**
 * What the desktop app tells the user when the core cannot start: a sentence that holds no
 * PHI. An arbitrary error's message may quote anything the core was reading (a resource, a
 * search value), so only errors whose messages are written for this purpose pass through
 * (the data dir's and the keychain's: paths and keychain account names, no record content);
 * a system error is described by its code and call; anything else by its class name.
 */
import { KeychainUnavailableError } from '../secrets/secret-store';
import { DataDirInvalidError, DataDirLockedError, MissingKeyError } from '../store/data-dir';

const WORD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The system errors a data folder meets most, in words. */
const IN_WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EEXIST: 'a file is in the way: it is not a folder',
  ENOTDIR: 'a file is in the way: it is not a folder',
  ENOSPC: 'the disk is full',
  EROFS: 'the disk is read-only',
};

export function startFailureMessage(err: unknown, dataDir: string): string {
  if (err instanceof DataDirLockedError || err instanceof DataDirInvalidError || err instanceof MissingKeyError || err instanceof KeychainUnavailableError) {
    return `Flint could not start: ${err.message}`;
  }
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  if (e && typeof e.code === 'string' && WORD.test(e.code)) {
    const call = typeof e.syscall === 'string' && WORD.test(e.syscall) ? e.syscall : undefined;
    const words = IN_WORDS[e.code];
    const why = words ? `${words} (${e.code}${call ? `, ${call}` : ''})` : `the system answered ${e.code}${call ? ` to ${call}` : ''}`;
    return `Flint could not start: its data folder ${dataDir} cannot be used: ${why}.`;
  }
  const name = err instanceof Error && WORD.test(err.name) ? err.name : 'an unknown error';
  return `Flint could not start (${name}). Run \`flint serve --data-dir "${dataDir}"\` in a terminal to see why.`;
}
