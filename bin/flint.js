#!/usr/bin/env node
// The `flint` command. The program itself is bundled into dist/cli.js by
// `npm run build`, which runs on import and reads process.argv.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('Flint is not built: run `npm run build`');
  process.exit(1);
}
await import(cli.href);
