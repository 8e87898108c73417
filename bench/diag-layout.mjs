/**
 * Diagnostic, not a benchmark: what the store layout costs, with raw bulkDocs into the
 * encrypted store (openEncryptedPouch), one bulkDocs per Synthea bundle, nothing else.
 *   one      one document per resource (no history: not an option for Flint)
 *   two      Flint's layout: an immutable version document and a head, both with the resource
 *   pointer  the version with the resource and a head holding only its metadata (vid, n, ts)
 * Variants alternate, each into a fresh store, for --rounds rounds.
 *
 *   node bench/diag-layout.mjs [--bundles 60] [--rounds 2]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS, f0, openBaselinePouch, table } from './lib.mjs';

const { values } = parseArgs({ options: { bundles: { type: 'string' }, rounds: { type: 'string' } } });
const dir = join(CORPUS, 'synthea/smart-2019');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .slice(0, Number(values.bundles ?? 60));
const bundles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).entry.map((e) => e.resource));
const total = bundles.reduce((n, b) => n + b.length, 0);
const meta = (r, id) => ({ type: r.resourceType, id, vid: '1.x', n: 1, ts: new Date().toISOString(), method: 'POST', deleted: false });

const VARIANTS = {
  one: (rs) => rs.map((r) => ({ ...r, _id: `${r.resourceType}/${randomUUID()}` })),
  two: (rs) =>
    rs.flatMap((r) => {
      const id = randomUUID();
      const rec = { ...meta(r, id), resource: { ...r, id } };
      return [
        { ...rec, _id: `h:${r.resourceType}/${id}/1.x`, kind: 'version' },
        { ...rec, _id: `r:${r.resourceType}/${id}`, kind: 'head' },
      ];
    }),
  pointer: (rs) =>
    rs.flatMap((r) => {
      const id = randomUUID();
      return [
        { ...meta(r, id), resource: { ...r, id }, _id: `h:${r.resourceType}/${id}/1.x`, kind: 'version' },
        { ...meta(r, id), _id: `r:${r.resourceType}/${id}`, kind: 'head' },
      ];
    }),
};

const rows = [];
for (let round = 1; round <= Number(values.rounds ?? 2); round++) {
  for (const [name, docsOf] of Object.entries(VARIANTS)) {
    const { db, close } = await openBaselinePouch();
    try {
      await db.bulkDocs([{ _id: 'warm' }]);
      const t0 = performance.now();
      for (const b of bundles) {
        const res = await db.bulkDocs(docsOf(b));
        if (res.some((x) => x.error)) throw new Error(`${name}: bulkDocs rejected documents`);
      }
      const ms = performance.now() - t0;
      rows.push([name, round, f0((ms / total) * 1000), f0((total / ms) * 1000)]);
    } finally {
      await close();
    }
  }
}
console.log(`${bundles.length} Synthea bundles, ${f0(total)} resources, one bulkDocs per bundle\n`);
console.log(table(rows, ['layout', 'round', 'µs per resource', 'resources/s']));
