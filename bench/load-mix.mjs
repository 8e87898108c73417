/**
 * The request mix of bench/load.mjs, and the seeding it needs. Kept apart from the loops
 * (bench/load-run.mjs) so that the closed loop and the open loop send exactly the same
 * requests: request i of a run is always make(i), whatever the loop.
 *
 *   50% reads         GET Patient/<id> or Observation/<id> of seeded resources
 *   20% searches      Observation?patient=<seeded>, Patient?family=<seeded>, Observation?code=<LOINC of a seeded one>
 *   15% creates       POST Patient (the typical Synthea Patient)
 *   10% updates       PUT Patient/<id> of a Patient created by seed(), with a changed name
 *                     (no If-Match: concurrent updates of one Patient are last-writer-wins, never 412)
 *    5% transactions  a Bundle of 3 POSTs (a Patient and two Observations pointing at it)
 *
 * in a fixed interleaving of 20, so every second sees the same proportions.
 */
import { randomUUID } from 'node:crypto';
import { keepAliveAgent, request } from './lib.mjs';

export const LOINC = 'http://loinc.org';
export const ACCEPT = { accept: 'application/fhir+json' };
const JSON_HEADERS = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
const MINIMAL = { ...JSON_HEADERS, prefer: 'return=minimal' };
/** The mix, interleaved: 10 reads, 4 searches, 3 creates, 2 updates, 1 transaction in 20. */
export const MIX = ['read', 'search', 'read', 'create', 'read', 'update', 'read', 'search', 'read', 'create', 'read', 'transaction', 'read', 'search', 'read', 'create', 'read', 'update', 'read', 'search'];
export const KINDS = ['read', 'search', 'create', 'update', 'transaction'];

const pick = (xs, i) => xs[i % xs.length];

/**
 * Seeds the server: each bundle as a transaction, then `patientCount` Patients created one
 * by one (the update targets). Returns what the mix reads and searches for.
 */
export async function seed(flint, bundles, patientCount, patientBody) {
  const agent = keepAliveAgent(2);
  const ids = { Patient: [], Observation: [] };
  const families = new Set();
  const codes = new Set();
  try {
    for (const b of bundles) {
      const res = await request(agent, flint, 'POST', '/fhir', JSON.stringify(b), MINIMAL);
      if (res.status !== 200) throw new Error(`seed: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
      const reply = JSON.parse(res.body.toString('utf8'));
      reply.entry.forEach((e, i) => {
        const [, type, id] = /(?:^|\/)(\w+)\/([^/]+)\/_history\//.exec(e.response?.location ?? '') ?? [];
        const r = b.entry[i].resource;
        if (type === 'Patient') {
          ids.Patient.push(id);
          for (const n of r.name ?? []) if (n.family) families.add(n.family);
        } else if (type === 'Observation') {
          ids.Observation.push(id);
          for (const c of r.code?.coding ?? []) if (c.system === LOINC) codes.add(c.code);
        }
      });
    }
    const created = [];
    for (let i = 0; i < patientCount; i++) {
      const res = await request(agent, flint, 'POST', '/fhir/Patient', patientBody, MINIMAL);
      if (res.status !== 201) throw new Error(`seed create: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
      created.push(/\/Patient\/([^/]+)/.exec(res.headers.location)[1]);
    }
    return { ids, familyList: [...families], codeList: [...codes], created };
  } finally {
    agent.destroy();
  }
}

/**
 * make(i): request i of the mix, as { kind, sub?, method, path, body?, headers, expect,
 * entries? }. Deterministic in i, except for the transactions' urn:uuid fullUrls and the
 * updates' running name counter.
 */
export function mixMaker({ ids, familyList, codeList, created }, patient, patientBody) {
  const enc = encodeURIComponent;
  let updates = 0;
  return (i) => {
    const kind = MIX[i % MIX.length];
    const j = Math.floor(i / MIX.length);
    switch (kind) {
      case 'read': {
        const obs = j % 2 === 1;
        const list = obs ? ids.Observation : ids.Patient;
        return { kind, method: 'GET', path: `/fhir/${obs ? 'Observation' : 'Patient'}/${pick(list, j * 7919)}`, headers: ACCEPT, expect: 200 };
      }
      case 'search': {
        const which = j % 3;
        const path =
          which === 0
            ? `/fhir/Observation?patient=${pick(ids.Patient, j)}`
            : which === 1
              ? `/fhir/Patient?family=${enc(pick(familyList, j))}`
              : `/fhir/Observation?code=${enc(`${LOINC}|${pick(codeList, j * 31)}`)}`;
        return { kind, sub: ['search: Observation?patient', 'search: Patient?family', 'search: Observation?code'][which], method: 'GET', path, headers: ACCEPT, expect: 200 };
      }
      case 'create':
        return { kind, method: 'POST', path: '/fhir/Patient', body: patientBody, headers: MINIMAL, expect: 201 };
      case 'update': {
        const id = pick(created, j * 13);
        const n = ++updates;
        const body = JSON.stringify({ ...patient, id, name: [{ use: 'official', family: `Loadtest${n % 1000}`, given: ['Update', String(n)] }] });
        return { kind, method: 'PUT', path: `/fhir/Patient/${id}`, body, headers: MINIMAL, expect: 200 };
      }
      case 'transaction':
        return { kind, method: 'POST', path: '/fhir', body: JSON.stringify(transactionBundle(j)), headers: MINIMAL, expect: 200, entries: 3 };
    }
    throw new Error(kind);
  };
}

/** A transaction of 3 POSTs: a Patient and two Observations pointing at it by urn:uuid. */
function transactionBundle(j) {
  const p = `urn:uuid:${randomUUID()}`;
  const obs = (code, value) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code }] },
      subject: { reference: p },
      effectiveDateTime: '2026-12-07T10:00:00Z',
      valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    },
    request: { method: 'POST', url: 'Observation' },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: p, resource: { resourceType: 'Patient', name: [{ family: `Tx${j % 1000}`, given: ['Load'] }], gender: 'female', birthDate: '1980-01-01' }, request: { method: 'POST', url: 'Patient' } },
      obs('29463-7', 70 + (j % 30)),
      obs('29463-7', 71 + (j % 30)),
    ],
  };
}
