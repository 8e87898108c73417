import { describe, expect, it } from 'vitest';
import { KeychainUnavailableError } from '../secrets/secret-store';
import { DataDirLockedError } from '../store/data-dir';
import { startFailureMessage } from './start-failure';

const DIR = '/home/reception/.local/share/flint';
// What an arbitrary error could quote: a resource the core was reading.
const PHI = 'Patient Jane Example, born 1961-04-12, MRN 0042';

describe('startFailureMessage', () => {
  it("passes the data dir's and the keychain's own messages (written for the user, no record content)", () => {
    expect(startFailureMessage(new DataDirLockedError(DIR, 4242), DIR)).toBe(`Flint could not start: ${new DataDirLockedError(DIR, 4242).message}`);
    expect(startFailureMessage(new KeychainUnavailableError('the keyring is locked'), DIR)).toMatch(/^Flint could not start: the OS keychain is not available \(the keyring is locked\)/);
  });

  it('describes a system error by its code and call, never its message', () => {
    const err = Object.assign(new Error(`ENOTDIR: not a directory, open '${PHI}'`), { code: 'ENOTDIR', syscall: 'open' });
    const message = startFailureMessage(err, DIR);
    expect(message).toBe(`Flint could not start: its data folder ${DIR} cannot be used: a file is in the way: it is not a folder (ENOTDIR, open).`);
    expect(message).not.toContain('Jane');
    const rare = Object.assign(new Error(`EMFILE: too many open files, open '${PHI}'`), { code: 'EMFILE', syscall: 'open' });
    expect(startFailureMessage(rare, DIR)).toBe(`Flint could not start: its data folder ${DIR} cannot be used: the system answered EMFILE to open.`);
  });

  it('describes any other error by its class name only', () => {
    const message = startFailureMessage(new TypeError(`cannot read ${PHI}`), DIR);
    expect(message).toBe(`Flint could not start (TypeError). Run \`flint serve --data-dir "${DIR}"\` in a terminal to see why.`);
    expect(message).not.toContain('Jane');
  });

  it('does not trust a code or a name that is not a plain word', () => {
    const err = Object.assign(new Error('x'), { code: PHI, name: PHI });
    const message = startFailureMessage(err, DIR);
    expect(message).not.toContain('Jane');
    expect(message).toContain('an unknown error');
    expect(startFailureMessage('a string thrown', DIR)).toContain('an unknown error');
  });
});
