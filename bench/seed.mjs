/**
 * Seeds a CouchDB-protocol database with `count` resources exactly as Flint stores them
 * (per resource a version document `h:<type>/<id>/<vid>` and a head `r:<type>/<id>`),
 * valid R4: per group of 5, one Patient (`bp<g>`, identifier MRN<g>, names from a small
 * list) then 4 vital-sign Observations of it (with the vital-signs category when
 * `category` is set; bench/sync.mjs seeds them without, as its published figures did). A workstation that syncs with the database
 * then holds them all: the fastest way to a large data dir (bench/sync.mjs, bench/ui.mjs).
 *
 * `post(body)` sends one `_bulk_docs` request and resolves to its JSON answer.
 */
const LOINC = [
  ['8867-4', 'Heart rate', '/min', 50, 110],
  ['8310-5', 'Body temperature', 'Cel', 36, 39],
  ['29463-7', 'Body weight', 'kg', 40, 120],
  ['8302-2', 'Body height', 'cm', 150, 200],
];
export const GIVEN = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];
export const FAMILY = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson'];
const BASE = Date.parse('2026-01-01T00:00:00.000Z');

export function seededResource(i, vid, category = false) {
  const g = Math.floor(i / 5);
  const ts = new Date(BASE + i).toISOString();
  const meta = { versionId: vid, lastUpdated: ts };
  if (i % 5 === 0) {
    return {
      resourceType: 'Patient',
      id: `bp${g}`,
      meta,
      identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: `MRN${g}` }],
      name: [{ use: 'official', family: FAMILY[g % FAMILY.length], given: [GIVEN[(g >> 3) % GIVEN.length]] }],
      gender: g % 2 ? 'female' : 'male',
      birthDate: new Date(Date.UTC(1940 + (g % 70), g % 12, 1 + (g % 28))).toISOString().slice(0, 10),
    };
  }
  const [code, display, unit, lo, hi] = LOINC[(i % 5) - 1];
  return {
    resourceType: 'Observation',
    id: `bo${i}`,
    meta,
    status: 'final',
    ...(category ? { category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] } : {}),
    code: { coding: [{ system: 'http://loinc.org', code, display }], text: display },
    subject: { reference: `Patient/bp${g}` },
    effectiveDateTime: ts,
    valueQuantity: { value: lo + ((i * 7919) % ((hi - lo) * 10)) / 10, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

function docsFor(i, vid, category) {
  const resource = seededResource(i, vid, category);
  const rec = { type: resource.resourceType, id: resource.id, vid, n: 1, ts: resource.meta.lastUpdated, method: 'PUT', deleted: false, resource };
  return [
    { ...rec, _id: `h:${rec.type}/${rec.id}/${vid}`, kind: 'version' },
    { ...rec, _id: `r:${rec.type}/${rec.id}`, kind: 'head' },
  ];
}

/** Two requests in flight, `batch` documents each; throws on any refused document. */
export async function seedRemote(post, count, { vid = '1.bench0', batch = 1000, category = false } = {}) {
  let next = 0;
  const perBatch = batch / 2;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < count) {
        const from = next;
        next = Math.min(count, from + perBatch);
        const docs = [];
        for (let i = from; i < next; i++) docs.push(...docsFor(i, vid, category));
        const res = await post({ docs });
        const bad = res.filter((r) => r.error);
        if (bad.length) throw new Error(`seeding: ${bad.length} documents refused: ${JSON.stringify(bad[0])}`);
      }
    }),
  );
}
