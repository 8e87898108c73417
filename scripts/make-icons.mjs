// Renders the hand-drawn SVGs in assets/ into every raster the installers and the tray use
// (`npm run icons`); the results are committed as build resources. Same SVGs, same bytes:
// no fonts, no dates, and the containers are written here (docs/packaging.md says why).
//
//   assets/icon.svg          -> assets/icon.png (1024), assets/icons/<n>x<n>.png (Linux),
//                               assets/icon.ico (Windows), assets/icon.icns (macOS)
//   assets/tray.svg          -> assets/tray/tray-<state>.png and @2x: the tray icon with the
//                               sync state's badge (shared/desktop-api.ts DesktopSyncState)
//   assets/tray-template.svg -> assets/tray/trayTemplate.png and @2x (macOS menu bar)
//
//   node scripts/make-icons.mjs [--out DIR]   (default: assets/; the tests write elsewhere)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const assets = join(root, 'assets');

/** Linux wants one PNG per size; the others come from the same renders. */
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
/** Windows: the Explorer, taskbar and installer sizes; 256 is the largest ICO allows. */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/**
 * macOS: each ICNS element type and its pixel size. The PNG-holding types (macOS 10.7+);
 * ic11-ic14 are the @2x variants of 16, 32, 128 and 256, ic10 of 512.
 */
export const ICNS_TYPES = [
  ['icp4', 16],
  ['ic11', 32],
  ['icp5', 32],
  ['ic12', 64],
  ['icp6', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];
/** The tray at 1x; @2x is twice that. */
export const TRAY_SIZE = 16;

/**
 * The sync state badges, drawn over the tray icon's bottom right quarter (in its 32x32
 * viewBox): a colour per state, and a white mark so that the states differ by shape too
 * (legible at @2x; the tooltip says it in words). 'not-configured' has no badge.
 */
export const TRAY_BADGES = {
  'not-configured': '',
  'up-to-date': badge('#16a34a', '<path d="M20.5 24.2 L22.9 26.5 L27.4 21.6" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>'),
  syncing: badge('#2563eb', '<path d="M20.6 24 A3.4 3.4 0 1 1 24 27.4" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/><path d="M18.9 22.6 L20.6 24.6 L22.4 22.7" fill="none" stroke="#fff" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/>'),
  offline: badge('#6b7280', '<path d="M20.5 24 L27.5 24" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>'),
  paused: badge('#475569', '<path d="M22.4 21 L22.4 27 M25.6 21 L25.6 27" stroke="#fff" stroke-width="2" stroke-linecap="round"/>'),
  error: badge('#dc2626', '<path d="M24 20.6 L24 24.8" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/><circle cx="24" cy="27.4" r="1.2" fill="#fff"/>'),
  conflicts: badge('#d97706', '<path d="M20.8 22.6 L27.2 22.6 M20.8 25.6 L27.2 25.6" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/>'),
};

function badge(fill, mark) {
  // A dark ring keeps the badge apart from the stone and from light panels.
  return `<circle cx="24" cy="24" r="7.25" fill="${fill}" stroke="#0f172a" stroke-width="1.5"/>${mark}`;
}

/** One size of an SVG as PNG bytes. No system fonts: the drawings have no text, and a font
 * scan would make the output depend on the machine. */
export function renderPng(svg, size) {
  const resvg = new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } });
  return Buffer.from(resvg.render().asPng());
}

/** Straight (not premultiplied) RGBA pixels of one size, for the ICO's bitmaps. */
function renderRgba(svg, size) {
  const resvg = new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } });
  const image = resvg.render();
  const px = Buffer.from(image.pixels); // premultiplied RGBA
  for (let i = 0; i < px.length; i += 4) {
    const a = px[i + 3];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) px[i + c] = Math.min(255, Math.round((px[i + c] * 255) / a));
  }
  return px;
}

/**
 * An ICO file: a directory of images. 256 is stored as PNG (as Windows itself does);
 * the smaller sizes as 32-bit bitmaps, which every reader of ICO files takes (NSIS's and
 * rcedit's included), PNG entries not always.
 */
export function buildIco(svg, sizes) {
  const images = sizes.map((size) => (size >= 256 ? renderPng(svg, size) : icoBitmap(renderRgba(svg, size), size)));
  const header = Buffer.alloc(6 + 16 * sizes.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1: icon
  header.writeUInt16LE(sizes.length, 4);
  let offset = header.length;
  sizes.forEach((size, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, entry); // 0 means 256
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    header.writeUInt8(0, entry + 2); // no palette
    header.writeUInt8(0, entry + 3);
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(images[i].length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += images[i].length;
  });
  return Buffer.concat([header, ...images]);
}

/** A BITMAPINFOHEADER, the BGRA rows bottom-up, then the 1-bit AND mask (all zero: the
 * alpha channel decides). The header's height counts both, hence twice the size. */
function icoBitmap(rgba, size) {
  const info = Buffer.alloc(40);
  info.writeUInt32LE(40, 0);
  info.writeInt32LE(size, 4);
  info.writeInt32LE(size * 2, 8);
  info.writeUInt16LE(1, 12); // planes
  info.writeUInt16LE(32, 14); // bits per pixel
  info.writeUInt32LE(0, 16); // BI_RGB
  info.writeUInt32LE(size * size * 4, 20);
  const xor = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = ((size - 1 - y) * size + x) * 4;
      const to = (y * size + x) * 4;
      xor[to] = rgba[from + 2];
      xor[to + 1] = rgba[from + 1];
      xor[to + 2] = rgba[from];
      xor[to + 3] = rgba[from + 3];
    }
  }
  const maskRow = Math.ceil(size / 32) * 4; // rows padded to 32 bits
  return Buffer.concat([info, xor, Buffer.alloc(maskRow * size)]);
}

/** An ICNS file: 'icns', the total length, then (type, length, PNG) elements; big-endian. */
export function buildIcns(svg, types) {
  const elements = types.map(([type, size]) => {
    const png = renderPng(svg, size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + elements.reduce((n, e) => n + e.length, 0), 4);
  return Buffer.concat([head, ...elements]);
}

/** The tray SVG with a state's badge added. */
export function traySvg(glyph, state) {
  return glyph.replace('</svg>', `${TRAY_BADGES[state]}</svg>`);
}

/** Every file, as [path relative to assets/, bytes]. */
export function iconFiles(dir = assets) {
  const icon = readFileSync(join(dir, 'icon.svg'), 'utf8');
  const tray = readFileSync(join(dir, 'tray.svg'), 'utf8');
  const template = readFileSync(join(dir, 'tray-template.svg'), 'utf8');
  const renders = new Map(LINUX_SIZES.map((size) => [size, renderPng(icon, size)]));
  const files = [
    ['icon.png', renders.get(1024)],
    ...LINUX_SIZES.map((size) => [`icons/${size}x${size}.png`, renders.get(size)]),
    ['icon.ico', buildIco(icon, ICO_SIZES)],
    ['icon.icns', buildIcns(icon, ICNS_TYPES)],
  ];
  for (const state of Object.keys(TRAY_BADGES)) {
    const svg = traySvg(tray, state);
    files.push([`tray/tray-${state}.png`, renderPng(svg, TRAY_SIZE)], [`tray/tray-${state}@2x.png`, renderPng(svg, TRAY_SIZE * 2)]);
  }
  files.push(['tray/trayTemplate.png', renderPng(template, TRAY_SIZE)], ['tray/trayTemplate@2x.png', renderPng(template, TRAY_SIZE * 2)]);
  return files;
}

function main() {
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? resolve(process.argv[at + 1]) : assets;
  const started = performance.now();
  const files = iconFiles();
  for (const [name, bytes] of files) {
    mkdirSync(join(out, name, '..'), { recursive: true });
    writeFileSync(join(out, name), bytes);
  }
  console.log(`icons: ${files.length} files in ${out} (${Math.round(performance.now() - started)} ms)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
