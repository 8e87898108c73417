/**
 * Files sealed with AES-256-GCM, for data that waits on disk outside the encrypted
 * databases (bulk export output). A file is a header and a sequence of sealed chunks:
 *
 *   "FLS1" | chunk* ;  chunk = u32 length | 12-byte IV | ciphertext | 16-byte tag
 *
 * Each chunk's additional data is the file's label and the chunk's index, so chunks can
 * be neither reordered, nor dropped from the middle, nor moved between files; the last
 * chunk is marked, so a truncated file does not read as a shorter one. Writes go through
 * a FileHandle; nothing is written in plaintext, not even temporarily.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';

const MAGIC = Buffer.from('FLS1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Plaintext per chunk before it is sealed and written. */
const CHUNK_BYTES = 1 << 20;

export class SealedFileError extends Error {}

const aad = (label: string, index: number, last: boolean) => Buffer.from(`${label}\u0000${index}\u0000${last ? 'last' : 'more'}`);

function seal(key: Buffer, plain: Buffer, label: string, index: number, last: boolean): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(label, index, last));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, iv, body, cipher.getAuthTag()]);
}

/** Appends text to a sealed file; close() seals the last chunk. */
export class SealedWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private index = 0;
  /** Plaintext bytes written so far. */
  bytes = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly key: Buffer,
    private readonly label: string,
  ) {}

  static async create(file: string, key: Buffer, label: string): Promise<SealedWriter> {
    const fh = await open(file, 'wx', 0o600);
    await fh.write(MAGIC);
    return new SealedWriter(fh, key, label);
  }

  async write(text: string): Promise<void> {
    const b = Buffer.from(text, 'utf8');
    this.parts.push(b);
    this.size += b.length;
    this.bytes += b.length;
    if (this.size >= CHUNK_BYTES) await this.flush(false);
  }

  private async flush(last: boolean): Promise<void> {
    const plain = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    await this.fh.write(seal(this.key, plain, this.label, this.index++, last));
  }

  /** Seals what is left (an empty last chunk if need be), syncs and closes. */
  async close(): Promise<void> {
    try {
      await this.flush(true);
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }

  /** Closes without sealing the rest (a cancelled export); the caller removes the file. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** The whole plaintext of a sealed file; throws SealedFileError if it was altered or cut. */
export async function readSealed(file: string, key: Buffer, label: string): Promise<Buffer> {
  const data = await readFile(file);
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw new SealedFileError('not a sealed file');
  const out: Buffer[] = [];
  let at = MAGIC.length;
  for (let index = 0; ; index++) {
    if (at + 4 > data.length) throw new SealedFileError('the file is cut short');
    const len = data.readUInt32BE(at);
    const end = at + 4 + IV_BYTES + len + TAG_BYTES;
    if (end > data.length) throw new SealedFileError('the file is cut short');
    const iv = data.subarray(at + 4, at + 4 + IV_BYTES);
    const body = data.subarray(at + 4 + IV_BYTES, at + 4 + IV_BYTES + len);
    const tag = data.subarray(end - TAG_BYTES, end);
    const last = end === data.length;
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad(label, index, last));
    decipher.setAuthTag(tag);
    try {
      out.push(decipher.update(body), decipher.final());
    } catch {
      throw new SealedFileError('the file was altered, cut short or sealed with another key');
    }
    at = end;
    if (last) return Buffer.concat(out);
  }
}
