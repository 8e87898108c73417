/**
 * Proves the layering rules in eslint.config.js: each layer may import only what sits
 * below it, and only main/shell may import electron. Lints source text as if it were
 * a file at the given path; the files need not exist.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The layering violations ESLint reports for `code` placed at `file` (repo-relative). */
async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  if (!result) throw new Error(`ESLint returned no result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`ESLint could not parse ${file}: ${fatal[0]?.message}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const importOf = (spec: string) => `import * as x from '${spec}';\nexport { x };\n`;

/** [file the import is written in, import specifier]. */
type Case = [file: string, spec: string];

const forbidden: Case[] = [
  ['renderer/app.tsx', '../main/core/x'],
  ['renderer/patients/list.tsx', '../../main/core/app'],
  ['renderer/patients/list.tsx', '../../main/shell/preload'],
  ['renderer/app.tsx', 'electron'],
  ['renderer/app.tsx', 'electron/renderer'],
  ['renderer/app.tsx', 'node:fs'],
  ['renderer/app.tsx', 'fs/promises'],
  ['shared/fhir/x.ts', '../../main/core/x'],
  ['shared/fhir/x.ts', '../../renderer/app'],
  ['shared/x.ts', '../renderer/app'],
  ['shared/fhir/x.ts', 'electron'],
  ['shared/fhir/x.ts', 'node:crypto'],
  ['shared/fhir/x.ts', 'path'],
  ['shared/fhir/x.test.ts', '../../main/core/x'],
  ['main/core/app.ts', 'electron'],
  ['main/core/http/server.ts', 'electron/main'],
  ['main/core/app.ts', '../shell/main'],
  ['main/core/http/server.ts', '../../shell/security'],
  ['main/core/http/server.ts', '../../../main/shell/security'],
  ['main/core/app.ts', '../../renderer/app'],
  ['main/shell/main.ts', '../../renderer/app'],
  ['test/integration/x.test.ts', 'electron'],
  ['bench/search.bench.ts', 'electron'],
  ['scripts/tool.mjs', 'electron'],
];

const allowed: Case[] = [
  ['renderer/app.tsx', 'react'],
  ['renderer/app.tsx', '../shared/fhir/ids'],
  ['renderer/patients/list.tsx', '../../shared/fhir/outcome'],
  ['renderer/patients/list.tsx', './main-panel'],
  ['renderer/patients/list.test.tsx', 'node:fs'],
  ['shared/fhir/x.ts', './ids'],
  ['shared/fhir/x.ts', '@medplum/fhirtypes'],
  ['shared/fhir/x.test.ts', 'node:fs'],
  ['main/core/app.ts', 'node:http'],
  ['main/core/app.ts', '../../shared/fhir/ids'],
  ['main/core/http/server.ts', '../fhir/router'],
  ['main/shell/main.ts', 'electron'],
  ['main/shell/main.ts', '../core/app'],
  ['main/shell/main.ts', '../../shared/fhir/ids'],
  ['test/integration/x.test.ts', '../../main/core/app'],
];

describe('layering lint rules', () => {
  it.each(forbidden)('%s may not import %s', async (file, spec) => {
    expect(await violations(file, importOf(spec))).toHaveLength(1);
  });

  it.each(allowed)('%s may import %s', async (file, spec) => {
    expect(await violations(file, importOf(spec))).toEqual([]);
  });

  it('also catches re-exports and type-only imports', async () => {
    const code = [
      "export { handle } from '../main/core/fhir/router';",
      "import type { BrowserWindow } from 'electron';",
      'export type W = BrowserWindow;',
    ].join('\n');
    expect(await violations('renderer/app.tsx', code)).toHaveLength(2);
  });
});
