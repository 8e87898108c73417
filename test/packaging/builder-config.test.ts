/**
 * electron-builder.yml against electron-builder's own configuration schema
 * (app-builder-lib/scheme.json, JSON Schema draft-07), with the validator shown to reject
 * a wrong key and a wrong type; then the settings the desktop app relies on, and the icon
 * files the configuration names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

type Config = Record<string, unknown> & {
  asarUnpack: string[];
  files: string[];
  npmRebuild: boolean;
  directories: { buildResources: string };
  linux: { target: string[]; icon: string; category: string };
  deb: { depends: string[] };
  nsis: { perMachine: boolean; oneClick: boolean; shortcutName: string };
  win: { target: string[]; icon: string };
  mac: { target: string[]; icon: string; category: string; hardenedRuntime: boolean };
};

const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Config;
const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as { $schema: string };
// electron-builder's own options (app-builder-lib's schemaValidator), less coerceTypes:
// a string where a boolean belongs is an error here, not something to convert.
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function errorsOf(candidate: unknown): ErrorObject[] {
  return validate(candidate) ? [] : (validate.errors ?? []);
}

describe('electron-builder.yml', () => {
  it('is draft-07 JSON Schema that ajv compiles', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('matches electron-builder’s configuration schema', () => {
    expect(errorsOf(config)).toEqual([]);
  });

  it('would be rejected with an unknown key (the validator can fail)', () => {
    const wrong = { ...config, nsis: { ...config.nsis, perUser: true } };
    const errors = errorsOf(wrong);
    expect(errors.some((e) => e.instancePath === '/nsis' && e.keyword === 'additionalProperties' && e.params['additionalProperty'] === 'perUser')).toBe(true);
  });

  it('would be rejected with a wrong type', () => {
    const errors = errorsOf({ ...config, npmRebuild: 'yes' });
    expect(errors.some((e) => e.instancePath === '/npmRebuild' && e.keyword === 'type')).toBe(true);
    expect(errorsOf({ ...config, productName: 42 }).length).toBeGreaterThan(0);
  });

  it('rebuilds native modules for Electron and unpacks them from the asar', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['**/*.node', 'node_modules/keytar/**', 'node_modules/better-sqlite3-multiple-ciphers/**']));
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist/**']));
  });

  it('builds the installers of issue 14 for each OS', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.deb.depends).toContain('libsecret-1-0'); // keytar on Linux
    expect(config.win.target).toEqual(['nsis']);
    expect(config.nsis).toMatchObject({ perMachine: false, oneClick: false, shortcutName: 'Flint' });
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac).toMatchObject({ category: 'public.app-category.medical', hardenedRuntime: true });
  });

  it('names icons that exist in assets/, in the sizes each OS wants', () => {
    const resources = join(root, config.directories.buildResources);
    expect(existsSync(join(resources, config.win.icon))).toBe(true);
    expect(existsSync(join(resources, config.mac.icon))).toBe(true);
    for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
      expect(existsSync(join(resources, config.linux.icon, `${size}x${size}.png`)), `${size}x${size}.png`).toBe(true);
    }
  });
});
