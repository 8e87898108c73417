/**
 * The WAL bound of checkpoint-thread.test.ts on a machine whose every core is busy. It
 * runs on its own, after the rest of the suite (the `stress` project, vitest.config.ts):
 * the processes it spins would otherwise slow every test that runs beside it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WITHIN_ONE_COMMIT, sustainedWrites } from './__fixtures__/wal-writes';

let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'flint-ckpt-stress-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('keeps the WAL within one commit of its limit when every core is busy, where the thread is never idle between two requests', async () => {
  // Before the writer waited for the thread (WalBound), this reached 163 MB: CI's red run.
  const spinners = Array.from({ length: availableParallelism() + 1 }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  try {
    expect(await sustainedWrites(dir, randomBytes(32))).toBeLessThan(WITHIN_ONE_COMMIT);
  } finally {
    for (const s of spinners) s.kill('SIGKILL');
  }
}, 180_000);
