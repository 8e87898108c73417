/**
 * The icons in assets/ are what `npm run icons` makes from the SVGs (run for real into a
 * scratch folder, byte for byte), and the ICO and ICNS containers hold the sizes Windows
 * and macOS look for, each image of the size its directory entry claims.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const assets = join(root, 'assets');
const scratch = mkdtempSync(join(tmpdir(), 'flint-icons-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'))
    .sort();
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Each ICO directory entry's claimed size, and the size of the image it points to. */
function icoImages(ico: Buffer): { claimed: number; actual: [number, number] }[] {
  expect(ico.readUInt16LE(0)).toBe(0);
  expect(ico.readUInt16LE(2)).toBe(1); // an icon, not a cursor
  const count = ico.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => {
    const entry = 6 + 16 * i;
    const claimed = ico.readUInt8(entry) || 256;
    const image = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8));
    if (image.subarray(0, 8).equals(PNG_SIGNATURE)) return { claimed, actual: pngSize(image) };
    // A BITMAPINFOHEADER: the height counts the colour rows and the mask rows.
    expect(image.readUInt32LE(0)).toBe(40);
    expect(image.readUInt16LE(14)).toBe(32);
    return { claimed, actual: [image.readInt32LE(4), image.readInt32LE(8) / 2] };
  });
}

/** The ICNS elements: type and the PNG's size. */
function icnsImages(icns: Buffer): Map<string, number> {
  expect(icns.toString('latin1', 0, 4)).toBe('icns');
  expect(icns.readUInt32BE(4)).toBe(icns.length);
  const found = new Map<string, number>();
  for (let at = 8; at < icns.length; ) {
    const length = icns.readUInt32BE(at + 4);
    const [width, height] = pngSize(icns.subarray(at + 8, at + length));
    expect(width).toBe(height);
    found.set(icns.toString('latin1', at, at + 4), width);
    at += length;
  }
  return found;
}

describe('the icons', () => {
  it('are exactly what scripts/make-icons.mjs makes from the SVGs', () => {
    execFileSync(process.execPath, [join(root, 'scripts/make-icons.mjs'), '--out', scratch], { stdio: 'pipe' });
    const made = filesUnder(scratch);
    expect(made.length).toBeGreaterThan(20);
    const committed = filesUnder(assets).filter((f) => /\.(png|ico|icns)$/.test(f));
    expect(committed).toEqual(made);
    const differing = made.filter((f) => !readFileSync(join(scratch, f)).equals(readFileSync(join(assets, f))));
    expect(differing, 'run `npm run icons` and commit the result').toEqual([]);
  });

  it('include every Linux size, each PNG of its size', () => {
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
      expect(pngSize(readFileSync(join(assets, `icons/${size}x${size}.png`)))).toEqual([size, size]);
    }
    expect(pngSize(readFileSync(join(assets, 'icon.png')))).toEqual([1024, 1024]);
  });

  it('hold 16 to 256 px in the Windows ICO, each image of its entry’s size', () => {
    const images = icoImages(readFileSync(join(assets, 'icon.ico')));
    expect(images.map((i) => i.claimed)).toEqual([16, 24, 32, 48, 64, 128, 256]);
    for (const { claimed, actual } of images) expect(actual).toEqual([claimed, claimed]);
  });

  it('hold 16 to 1024 px in the macOS ICNS, @2x variants included', () => {
    const images = icnsImages(readFileSync(join(assets, 'icon.icns')));
    expect(Object.fromEntries(images)).toEqual({
      icp4: 16, ic11: 32, icp5: 32, ic12: 64, icp6: 64, ic07: 128, ic13: 256, ic08: 256, ic14: 512, ic09: 512, ic10: 1024,
    });
  });

  it('give the tray one image per sync state at 16 px and @2x, and a macOS template', () => {
    // shared/desktop-api.ts DesktopSyncState, every value.
    const states = ['not-configured', 'up-to-date', 'syncing', 'offline', 'paused', 'error', 'conflicts'];
    for (const name of [...states.map((s) => `tray-${s}`), 'trayTemplate']) {
      expect(pngSize(readFileSync(join(assets, 'tray', `${name}.png`))), name).toEqual([16, 16]);
      expect(pngSize(readFileSync(join(assets, 'tray', `${name}@2x.png`))), name).toEqual([32, 32]);
    }
    // The states must look different from one another, not be copies of one image.
    const distinct = new Set(states.map((s) => readFileSync(join(assets, 'tray', `tray-${s}@2x.png`)).toString('base64')));
    expect(distinct.size).toBe(states.length);
  });
});
