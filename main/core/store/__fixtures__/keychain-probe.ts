/**
 * Child process for the keychain tests: runs one KeytarSecretStore call against whatever
 * D-Bus session it was started in and prints the outcome as JSON (a fresh process, because
 * libsecret keeps its first D-Bus connection for the life of the process).
 *   node child.mjs <service> get|set|delete <account> [value]
 */
import { KeytarSecretStore } from '../../secrets/keytar-secret-store';

const [service, op, account, value] = process.argv.slice(2);
const store = new KeytarSecretStore({ service: service ?? 'flint' });
try {
  const result =
    op === 'get' ? await store.get(account ?? '') : op === 'set' ? await store.set(account ?? '', value ?? '') : await store.delete(account ?? '');
  process.stdout.write(JSON.stringify({ ok: true, result: result ?? null }));
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, name: (err as Error).name, message: (err as Error).message }));
}
