// ESLint flat config: the recommended rules of ESLint and typescript-eslint (not
// type-aware, so lint stays fast), plus layering rules that keep dependencies
// pointing one way:
//
//   shared  <-  main/core  <-  main/shell        shared  <-  renderer
//
// Only main/shell/** may import 'electron'. test/lint/layering.test.ts proves the rules.
//
// The rules match import strings, not resolved files: a relative import that climbs
// (`../`) into a folder named main, renderer or shell counts as leaving the layer,
// so do not name a sub-folder of a layer `main`, `renderer` or `shell`.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const EXT = '{ts,tsx,mts,cts,js,mjs,cjs,jsx}';
const SOURCES = [`**/*.${EXT}`];
/** Source files under a folder (a pattern ending in /** alone would not select files). */
const under = (dir) => [`${dir}/**/*.${EXT}`];
const testsUnder = (dir) => [`${dir}/**/*.test.{ts,tsx}`];

const electron = {
  regex: '^electron(/.*)?$',
  message: "Only main/shell/** may import 'electron'; everything else is plain Node or browser code.",
};
const builtins = builtinModules.filter((m) => !m.startsWith('_') && !m.includes('/'));
const nodeBuiltins = {
  regex: `^(node:.*|(${builtins.join('|')})(/.*)?)$`,
  message: 'This layer runs in the renderer too: no Node built-ins.',
};
const intoMain = {
  regex: '^(\\.\\./)+main(/.*)?$',
  message: 'renderer/ and shared/ may not import main/: talk to the core over HTTP, share code through shared/.',
};
const intoRenderer = {
  regex: '^(\\.\\./)+renderer(/.*)?$',
  message: 'Nothing may import renderer/: move shared code to shared/.',
};
const intoShell = {
  // From main/core/**: ../shell, ../../shell, ../../main/shell, ...
  regex: '^(\\.\\./)+(main/)?shell(/.*)?$',
  message: 'main/core must not depend on main/shell: the shell wraps the core, not the reverse.',
};

/** One no-restricted-imports setting. Flat config does not merge a rule's options: the
 * last matching object wins, so each layer lists every pattern that applies to it. */
const restrict = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default defineConfig(
  { ignores: ['dist/**', 'release/**', 'coverage/**', '**/*.d.ts', '**/.build/**'] },
  {
    files: SOURCES,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Plain JS (bin/, scripts/, this file) runs on Node; TypeScript checks the rest.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
        URLSearchParams: 'readonly',
        structuredClone: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
  },

  // ---- Layering ------------------------------------------------------------------
  // Outside main/shell (test/, bench/, scripts/, bin/ included): no electron.
  restrict(SOURCES, [electron], under('main/shell')),
  restrict(under('main/core'), [electron, intoShell, intoRenderer]),
  restrict(under('main/shell'), [intoRenderer]),
  restrict(under('renderer'), [electron, intoMain, nodeBuiltins]),
  restrict(under('shared'), [electron, intoMain, intoRenderer, nodeBuiltins]),
  // Tests of browser-side code run under vitest on Node and may read fixtures from disk.
  restrict(testsUnder('renderer'), [electron, intoMain]),
  restrict(testsUnder('shared'), [electron, intoMain, intoRenderer]),
);
