/**
 * Child process for the audit CLI tests: nothing writes audit events through the server
 * yet, so this appends synthetic ones to a data dir's audit log with the real keychain,
 * as the server will, and closes it (which saves the chain head).
 *   node child.mjs <dataDir> <count> <firstRecordedIso> <stepMinutes>
 * Event i (0-based) is a read of Patient/p<i> recorded at first + i * step.
 * Prints "appended <count>".
 */
import { openAuditLogOf } from '../audit-log';
import { KeytarSecretStore } from '../../secrets/keytar-secret-store';
import { openDataDir } from '../../store/data-dir';
import { auditEvent } from './events';

const [dir, count, first, step] = process.argv.slice(2);
const n = Number(count);
const t0 = Date.parse(first ?? '');
if (!dir || !Number.isInteger(n) || !Number.isFinite(t0) || !Number.isFinite(Number(step))) {
  throw new Error('usage: <dataDir> <count> <firstRecordedIso> <stepMinutes>');
}
const secrets = new KeytarSecretStore();
const dataDir = await openDataDir(dir, secrets, { shared: true });
try {
  const log = await openAuditLogOf(dataDir, secrets);
  try {
    // Concurrently, as requests would: exercises group commit through the real keychain too.
    await Promise.all(Array.from({ length: n }, (_, i) => log.append([auditEvent(new Date(t0 + i * Number(step) * 60_000), `p${i}`)])));
  } finally {
    await log.close();
  }
} finally {
  await dataDir.release();
}
process.stdout.write(`appended ${n}\n`);
