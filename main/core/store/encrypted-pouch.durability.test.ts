/**
 * Durability: a writer process is killed with SIGKILL mid-stream; every write it had
 * acknowledged must be in the store afterwards, and a bulkDocs is all or nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildChild, type ChildScript } from './__fixtures__/build-child';
import { openEncryptedPouch } from './encrypted-pouch';

let child: ChildScript;
let dir: string;
let key: Buffer;

beforeAll(async () => {
  child = await buildChild(fileURLToPath(new URL('./__fixtures__/durable-writer.ts', import.meta.url)));
});
afterAll(() => child.dispose());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-durable-'));
  key = randomBytes(32);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the writer until it prints `killAt`, SIGKILLs it `delayMs` later, and returns every
 * acknowledgement it printed (read to the end: some may arrive after the kill).
 */
function runAndKill(args: string[], killAt: string, delayMs = 0): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child.script, join(dir, 'store.db'), key.toString('hex'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: string[] = [];
    let buffered = '';
    let stderr = '';
    let killed = false;
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('ack ')) acks.push(line.slice(4));
        if (line === killAt && !killed) {
          killed = true;
          setTimeout(() => proc.kill('SIGKILL'), delayMs);
        }
      }
    });
    proc.on('error', reject);
    proc.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer ended without being killed: ${stderr}`));
      else resolve(acks);
    });
  });
}

describe('durability under SIGKILL', () => {
  it('keeps every acknowledged put', async () => {
    const acks = await runAndKill(['put'], 'ack doc-000300');
    expect(acks.length).toBeGreaterThanOrEqual(300);
    const db = await openEncryptedPouch({ file: join(dir, 'store.db'), key });
    try {
      const stored = new Set((await db.allDocs()).rows.map((r) => r.id));
      expect(acks.filter((id) => !stored.has(id))).toEqual([]);
      // At most the one put in flight at the kill may have landed without its ack.
      expect(stored.size - acks.length).toBeLessThanOrEqual(1);
    } finally {
      await db.close();
    }
  });

  it('leaves only whole bulkDocs batches', async () => {
    const size = 2000;
    // A batch takes ~100 ms; the kill lands inside the transaction of batch 3 (its pages
    // beyond the 2 MB page cache already spilled, uncommitted, to the WAL).
    const acks = await runAndKill(['bulk', String(size)], 'begin 3', 40);
    expect(acks.slice(0, 3)).toEqual(['0', '1', '2']);
    const db = await openEncryptedPouch({ file: join(dir, 'store.db'), key });
    try {
      const perBatch = new Map<string, number>();
      for (const row of (await db.allDocs()).rows) {
        const batch = String(Number(row.id.slice(1, 7)));
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      for (const [batch, count] of perBatch) expect({ batch, count }).toEqual({ batch, count: size });
      for (const batch of acks) expect(perBatch.get(batch)).toBe(size);
      expect(perBatch.size - acks.length).toBeLessThanOrEqual(1);
    } finally {
      await db.close();
    }
  });
});
