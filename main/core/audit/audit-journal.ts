/**
 * The audit journal (`<dataDir>/audit.journal`): where the serving process writes audit
 * events the moment they happen, before they are chained into audit.db in batches
 * (docs/audit.md, "Recording"). One append-only file, owned by the process that holds the
 * data dir's lock; emptied after each batch is committed.
 *
 * A record is one group of events, sealed with AES-256-GCM:
 *
 *   u32 BE length of the rest | 12-byte random nonce | ciphertext | 16-byte tag
 *   plaintext: {"n":<record number>,"events":[<AuditEvent JSON>, ...]}
 *
 * The key is derived from the audit purpose key (HKDF, "flint/v1/audit-journal"), so the
 * file reveals nothing and a changed byte fails authentication. Record numbers rise across
 * restarts (audit.db remembers the last one committed), so a record that was committed
 * but not yet emptied from the file is not replayed twice.
 *
 * No fsync per record, like audit.db's synchronous=NORMAL: a record survives a crash of
 * the process, not necessarily a power loss.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

const AAD = Buffer.from('flint-audit-journal/1');
const NONCE = 12;
const TAG = 16;
const HEADER = 4;

export interface JournalRecord {
  n: number;
  /** Each event as JSON, as it was handed to append(). */
  events: string[];
}

/** A record as read back: its events parsed. */
export interface ReadRecord {
  n: number;
  events: unknown[];
}

export interface JournalContents {
  records: ReadRecord[];
  /** Bytes at the end that do not form a whole, authentic record: a write cut short by a crash. */
  tornBytes: number;
}

/** A record before the last one fails authentication: the file was changed or damaged. */
export class JournalDamagedError extends Error {
  constructor(readonly offset: number) {
    super(`the audit journal is damaged at byte ${offset} (a record fails authentication)`);
    this.name = 'JournalDamagedError';
  }
}

/** Random nonces drawn from a pool: one randomFill per 512 records instead of one each. */
let pool = Buffer.alloc(0);
let poolAt = 0;
function nextNonce(): Buffer {
  if (poolAt + NONCE > pool.length) {
    pool = randomBytes(NONCE * 512);
    poolAt = 0;
  }
  const nonce = pool.subarray(poolAt, poolAt + NONCE);
  poolAt += NONCE;
  return nonce;
}

export const journalKey = (auditKey: Buffer): Buffer =>
  Buffer.from(hkdfSync('sha256', auditKey, Buffer.alloc(0), 'flint/v1/audit-journal', 32));

export class AuditJournal {
  private fd: number;

  /** Opens (creating, owner-only) the journal for appending. */
  constructor(
    readonly file: string,
    private readonly key: Buffer,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Appends one record in one write(2). Throws if it could not be written whole. */
  append(record: JournalRecord): void {
    const plain = Buffer.from(`{"n":${record.n},"events":[${record.events.join(',')}]}`, 'utf8');
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const out = Buffer.allocUnsafe(HEADER + NONCE + body.length + TAG);
    out.writeUInt32BE(NONCE + body.length + TAG, 0);
    nonce.copy(out, HEADER);
    body.copy(out, HEADER + NONCE);
    cipher.getAuthTag().copy(out, HEADER + NONCE + body.length);
    const written = writeSync(this.fd, out);
    if (written !== out.length) {
      // The file now ends in a torn record; it is discarded on the next read.
      throw Object.assign(new Error('short write to the audit journal'), { code: 'EIO' });
    }
  }

  /** Empties the file (after its records are committed to audit.db). */
  clear(): void {
    ftruncateSync(this.fd, 0);
  }

  size(): number {
    return fstatSync(this.fd).size;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Every whole record; a torn tail is counted, not returned; earlier damage throws. */
export function readJournal(file: string, key: Buffer): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornBytes: 0 };
    throw err;
  }
  const records: ReadRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const rest = buf.length - at;
    const len = rest >= HEADER ? buf.readUInt32BE(at) : -1;
    const whole = len >= NONCE + TAG && HEADER + len <= rest;
    const record = whole ? open(buf.subarray(at + HEADER, at + HEADER + len), key) : undefined;
    if (!record) {
      // Only the last record may be torn: anything after a bad one means the file was changed.
      if (!whole || HEADER + len === rest) return { records, tornBytes: rest };
      throw new JournalDamagedError(at);
    }
    records.push(record);
    at += HEADER + len;
  }
  return { records, tornBytes: 0 };
}

function open(sealed: Buffer, key: Buffer): ReadRecord | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
    decipher.setAAD(AAD);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plain = Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
    const parsed = JSON.parse(plain.toString('utf8')) as { n?: unknown; events?: unknown };
    if (!Number.isSafeInteger(parsed.n) || !Array.isArray(parsed.events)) return undefined;
    return { n: parsed.n as number, events: parsed.events as unknown[] };
  } catch {
    return undefined;
  }
}
