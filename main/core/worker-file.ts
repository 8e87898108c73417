/**
 * Files the build makes that the core reads at run time.
 *
 * Where a built worker thread script of the core is: `dist/<name>.js`, beside the bundle
 * that imports this (dist/cli.js, or dist/shell/main.js one level down). Undefined when the
 * core runs from TypeScript sources (vitest), where callers do the work on their own thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The built UI (the Vite output, dist/renderer): beside dist/cli.js, one level up from
 * dist/shell/main.js, or in the repository's dist/ when the core runs from sources.
 */
export function builtUiDir(): string | undefined {
  for (const rel of ['./renderer/', '../renderer/', '../../dist/renderer/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

export function builtWorkerFile(name: string): string | undefined {
  for (const rel of [`./${name}.js`, `../${name}.js`]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}
