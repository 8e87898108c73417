/**
 * Test helper: bundles a TypeScript child-process entry with esbuild (Node 20 cannot run
 * .ts itself and tsx is not installed) into a temp folder whose node_modules links to the
 * repo's, so packages and native addons resolve as they do for the app.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ChildScript {
  /** The bundled .mjs to run with `node`. */
  script: string;
  dispose(): void;
}

export async function buildChild(entry: string): Promise<ChildScript> {
  const dir = mkdtempSync(join(tmpdir(), 'flint-child-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const script = join(dir, 'child.mjs');
  await build({
    entryPoints: [entry],
    outfile: script,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  // rmSync does not follow the node_modules symlink.
  return { script, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
