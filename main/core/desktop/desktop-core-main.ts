/**
 * The entry of the desktop app's core process (built to dist/desktop-core.js, beside
 * dist/cli.js so that the core finds its worker files and the UI as it does there). The
 * shell forks it with Electron's utilityProcess.fork (main/shell/core-host.ts); tests and
 * benchmarks with Node's child_process.fork. Started by hand, it has no parent to talk to.
 *
 *   desktop-core.js [--data-dir DIR]
 */
import { parseArgs } from 'node:util';
import { runDesktopCore } from './desktop-core';
import { parentPortOf } from './parent-port';

const port = parentPortOf();
if (!port) {
  process.stderr.write('flint: this is the desktop app\'s core process; run `flint serve` to serve headless.\n');
  process.exit(2);
}
const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } }, allowPositionals: false });
const code = await runDesktopCore(port, values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] });
process.exit(code);
