/**
 * What the installers would hold: electron-builder packs the app for real (Linux, `dir`
 * target, into a scratch folder) with electron-builder.yml, and the test reads the
 * resulting app.asar and app.asar.unpacked. Electron itself cannot be downloaded here, so
 * `electronDist` points at a stand-in: a folder holding an `electron` executable, which is
 * all electron-builder copies and renames for a Linux `dir` build. The stand-in carries a
 * fuse wire as Electron's binary does (the sentinel, version, length, one byte per fuse),
 * so electron-builder flips the configured fuses in it and the test reads them back.
 * `npmRebuild` is off for this run only: the rebuild would download Electron's headers.
 * Everything else is the real configuration.
 *
 * Needs the build (`node scripts/build.mjs`; `npm test` builds first).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFile, listPackage, statFile } from '@electron/asar';
import { build, Platform } from 'electron-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const scratch = mkdtempSync(join(tmpdir(), 'flint-packaging-'));
const resources = join(scratch, 'out', 'linux-unpacked', 'resources');
const asarFile = join(resources, 'app.asar');
/** Paths in the archive, relative, with forward slashes ('dist/shell/main.js'). */
let packed: string[] = [];
let packedSet = new Set<string>();

/** @electron/fuses' marker before the fuse wire, and its version 1 fuses in wire order. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSES = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
] as const;
/** Electron's own defaults ('1' on, '0' off), as an unflipped binary has them. */
const DEFAULT_WIRE = '10110001';

/** The stand-in executable: a script with the fuse wire in a comment. */
function standInElectron(): Buffer {
  return Buffer.concat([
    Buffer.from('#!/bin/sh\n# '),
    Buffer.from(FUSE_SENTINEL, 'latin1'),
    Buffer.from([1, FUSES.length]),
    Buffer.from(DEFAULT_WIRE, 'latin1'),
    Buffer.from('\necho "a stand-in for Electron (test/packaging)"\n'),
  ]);
}

/** The fuses as the packed executable has them: true on, false off. */
function fusesOf(executable: string): Record<string, boolean> {
  const bytes = readFileSync(executable);
  const at = bytes.indexOf(FUSE_SENTINEL, 0, 'latin1') + FUSE_SENTINEL.length;
  return Object.fromEntries(FUSES.map((name, i) => [name, bytes[at + 2 + i] === 0x31]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'));
}

function isUnpacked(path: string): boolean {
  const stat = statFile(asarFile, path, false) as { unpacked?: boolean };
  return stat.unpacked === true && existsSync(join(resources, 'app.asar.unpacked', path));
}

beforeAll(async () => {
  for (const file of [pkg.main, 'dist/shell/preload.cjs', 'dist/cli.js', 'dist/renderer/index.html']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`node scripts/build.mjs\` first (npm test does)`);
  }
  const electronDist = join(scratch, 'electron');
  mkdirSync(electronDist);
  writeFileSync(join(electronDist, 'electron'), standInElectron());
  chmodSync(join(electronDist, 'electron'), 0o755);

  await build({
    projectDir: root,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    config: {
      electronDist,
      npmRebuild: false,
      directories: { output: join(scratch, 'out') },
    },
  });
  packed = listPackage(asarFile, { isPack: false }).map((p) => p.split('\\').join('/').replace(/^\//, ''));
  packedSet = new Set(packed);
}, 110_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed app', () => {
  it('holds the executable renamed by electron-builder and an app.asar', () => {
    expect(existsSync(join(scratch, 'out', 'linux-unpacked', 'flint'))).toBe(true);
    expect(packed.length).toBeGreaterThan(100);
  });

  it('puts the README beside app.asar, where Help > Documentation looks for it', () => {
    expect(readFileSync(join(resources, 'README.md'), 'utf8')).toBe(readFileSync(join(root, 'README.md'), 'utf8'));
  });

  it('has Electron’s fuses flipped: no plain-Node mode, no inspector, the app only from app.asar', () => {
    expect(fusesOf(join(scratch, 'out', 'linux-unpacked', 'flint'))).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: true, // kept: it carries NODE_EXTRA_CA_CERTS
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('has the shell, the core bundle and its workers, and the definitions', () => {
    for (const file of [
      'package.json',
      'dist/shell/main.js',
      'dist/shell/preload.cjs',
      'dist/cli.js',
      'dist/receive-worker.js',
      'dist/index-writer-worker.js',
      'dist/definitions/r4-index.json',
      'dist/definitions/r4-profiles.json',
      'dist/definitions/r4-terminology.json',
    ]) {
      expect(packedSet.has(file), file).toBe(true);
    }
  });

  it('has every file the build made, but for the source maps', () => {
    const built = filesUnder(join(root, 'dist'))
      .filter((f) => !f.endsWith('.map') && !f.startsWith('.'))
      .map((f) => `dist/${f}`);
    expect(built).toContain('dist/renderer/index.html');
    expect(built.some((f) => /^dist\/renderer\/assets\/index-.*\.js$/.test(f))).toBe(true);
    expect(built.filter((f) => !packedSet.has(f))).toEqual([]);
  });

  it('has the tray images and the window icon', () => {
    const tray = filesUnder(join(root, 'assets/tray')).map((f) => `assets/tray/${f}`);
    expect(tray).toContain('assets/tray/tray-up-to-date.png');
    expect(tray.filter((f) => !packedSet.has(f))).toEqual([]);
    expect(packedSet.has('assets/icon.png')).toBe(true);
  });

  it('has a package.json that starts the shell, without scripts or dev dependencies', () => {
    const packedPkg = JSON.parse(extractFile(asarFile, 'package.json').toString('utf8')) as Record<string, unknown>;
    expect(packedPkg['main']).toBe('dist/shell/main.js');
    expect(packedPkg['type']).toBe('module');
    expect(packedPkg['desktopName']).toBe('flint.desktop');
    expect(packedPkg['scripts']).toBeUndefined();
    expect(packedPkg['devDependencies']).toBeUndefined();
  });

  it('has every production dependency', () => {
    const missing = Object.keys(pkg.dependencies).filter((name) => !packedSet.has(`node_modules/${name}/package.json`));
    expect(missing).toEqual([]);
  });

  it('keeps keytar and better-sqlite3-multiple-ciphers, with their addons, outside the asar', () => {
    for (const file of [
      'node_modules/keytar/build/Release/keytar.node',
      'node_modules/keytar/lib/keytar.js',
      'node_modules/better-sqlite3-multiple-ciphers/build/Release/better_sqlite3.node',
      'node_modules/better-sqlite3-multiple-ciphers/lib/index.js',
    ]) {
      expect(isUnpacked(file), file).toBe(true);
    }
    const addons = packed.filter((f) => f.endsWith('.node'));
    expect(addons.length).toBeGreaterThanOrEqual(2);
    expect(addons.filter((f) => !isUnpacked(f))).toEqual([]);
  });

  it('leaves out tests, benchmarks, docs, sources, source maps and data', () => {
    const forbidden = [
      /^(test|bench|docs|main|renderer|shared|scripts|release|coverage)\//,
      /^\.?test-results\//,
      /(^|\/)\.flint-[^/]*\//, // data directories of the tests and benches
      /fhir-corpus|synthea/i,
      /(^|\/)\.env(\.[^/]*)?$/,
      /\.(ts|tsx|mts|cts|map|cpuprofile)$/,
      /^node_modules\/\.bin\//,
      /^assets\/.*\.(svg|ico|icns)$/, // build resources, not read by the app
      /^node_modules\/better-sqlite3-multiple-ciphers\/(deps|src)\//, // C sources (14 MB)
      /\/build\/Release\/(obj|obj\.target|\.deps)\//,
      /test_extension\.node$/,
    ];
    const leaked = packed.filter((f) => forbidden.some((re) => re.test(f)));
    expect(leaked.slice(0, 20)).toEqual([]);
  });

  it('leaves out the dev dependencies: test runners, builders, compilers, linters, Electron', () => {
    const devOnly = Object.keys(pkg.devDependencies).filter((name) => !(name in pkg.dependencies));
    expect(devOnly).toEqual(expect.arrayContaining(['vitest', 'playwright-core', 'electron-builder', 'typescript', 'eslint', 'electron', 'vite']));
    const packedDev = devOnly.filter((name) => packed.some((f) => f.startsWith(`node_modules/${name}/`)));
    expect(packedDev).toEqual([]);
    const tools = ['app-builder-lib', '@playwright/test', 'playwright', 'typescript-eslint', '@electron/rebuild'];
    expect(tools.filter((name) => packed.some((f) => f.startsWith(`node_modules/${name}/`)))).toEqual([]);
  });
});
