/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof) into the hottest functions, by self
 * and by inclusive time, and the time per package / source file. Bundled frames in
 * dist/*.js are mapped back to main/ and shared/ through the build's source maps.
 *
 *   node bench/profile-summary.mjs FILE_OR_DIR... [--top 25] [--match TEXT] [--callers TEXT]
 *
 * To profile the server under a bench:  scripts/with-keyring.sh node bench/create.mjs --cpu-prof bench/profiles/create
 * --match restricts the inclusive table to functions whose name or file contain TEXT;
 * --callers TEXT adds a table of who calls the (outermost) frames matching TEXT.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO, table } from './lib.mjs';

const { values, positionals } = parseArgs({
  options: { top: { type: 'string' }, match: { type: 'string' }, callers: { type: 'string' } },
  allowPositionals: true,
});
const TOP = Number(values.top ?? 25);
const files = positionals.flatMap((p) =>
  statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p],
);
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.mjs FILE_OR_DIR... [--top N]');
  process.exit(2);
}

const maps = new Map();
function sourceMapFor(url) {
  if (!maps.has(url)) {
    let map;
    try {
      const path = fileURLToPath(url);
      if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

function place(cf) {
  if (!cf.url) return { file: cf.functionName.startsWith('(') ? cf.functionName : '(native)', line: 0 };
  if (cf.url.startsWith('node:')) return { file: cf.url, line: cf.lineNumber + 1 };
  const map = cf.url.startsWith('file:') ? sourceMapFor(cf.url) : undefined;
  if (map) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber);
    if (e?.originalSource) {
      const src = e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : e.originalSource;
      return { file: relative(REPO, join(REPO, 'dist', src)).replace(/^(\.\.\/)+/, ''), line: e.originalLine + 1 };
    }
  }
  const path = cf.url.startsWith('file:') ? fileURLToPath(cf.url) : cf.url;
  return { file: relative(REPO, path), line: cf.lineNumber + 1 };
}

/** Frames of a package with its own source maps (e.g. @medplum/core) keep the package name. */
function placeWithPackage(cf) {
  const p = place(cf);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(cf.url ?? '')?.[1];
  if (pkg && !p.file.includes('node_modules/')) p.file = `node_modules/${pkg}/${p.file.replace(/^(\.\.\/)+/, '')}`;
  return p;
}

function packageOf(file) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1];
  if (file.startsWith('node:')) return 'node (internal)';
  if (file.startsWith('(')) return file;
  return file;
}

for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map();
  for (const n of prof.nodes) {
    const p = placeWithPackage(n.callFrame);
    n.key = `${n.callFrame.functionName || '(anonymous)'}  ${p.file}${p.line ? `:${p.line}` : ''}`;
    n.file = p.file;
    keyOf.set(n.id, n.key);
  }
  const callers = new Map();
  const self = new Map();
  const incl = new Map();
  const byPkg = new Map();
  const byFile = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i] ?? 0) / 1000; // ms
    const node = byId.get(prof.samples[i]);
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(node.key, (self.get(node.key) ?? 0) + dt);
    byPkg.set(packageOf(node.file), (byPkg.get(packageOf(node.file)) ?? 0) + dt);
    byFile.set(node.file, (byFile.get(node.file) ?? 0) + dt);
    const seen = new Set();
    if (values.callers) {
      let outer;
      for (let id = node.id; id !== undefined; id = parent.get(id)) if (keyOf.get(id).includes(values.callers)) outer = id;
      if (outer !== undefined) {
        const k = `${keyOf.get(parent.get(outer)) ?? '(none)'}  ->  ${keyOf.get(outer).split('  ')[0]}`;
        callers.set(k, (callers.get(k) ?? 0) + dt);
      }
    }
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf.get(id);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const pct = (ms) => `${((ms / busy) * 100).toFixed(1)}%`;
  const top = (m, n = TOP, filter = () => true) =>
    [...m.entries()].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, v.toFixed(0), pct(v)]);

  console.log(`\n##### ${file}`);
  console.log(`profile ${(total / 1000).toFixed(1)} s, busy (non-idle) ${(busy / 1000).toFixed(1)} s\n`);
  console.log(table(top(byPkg, 15), ['self time by package / file', 'ms', '% busy']) + '\n');
  console.log(table(top(self), ['hottest functions (self)', 'ms', '% busy']) + '\n');
  const skip = (k) =>
    !/^\((root|program|garbage collector)\)/.test(k) && !k.startsWith('processTicksAndRejections') && !k.startsWith('processImmediate') && !k.startsWith('listOnTimeout');
  const filt = values.match ? (k) => skip(k) && k.includes(values.match) : skip;
  console.log(table(top(incl, TOP, filt), ['hottest functions (inclusive)', 'ms', '% busy']) + '\n');
  if (values.callers) console.log(table(top(callers), [`callers of ${values.callers}`, 'ms', '% busy']) + '\n');
}
