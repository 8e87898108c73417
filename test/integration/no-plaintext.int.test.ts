/**
 * No plaintext at rest: resources carrying a unique marker string everywhere PHI can sit
 * (ids, names, identifiers, telecom, extension values, narrative, a Binary whose data is
 * the marker in base64, a transaction, a conditional create, a patch, an update and a
 * delete so that history holds the marked versions, and a rejected request) are written
 * over the API; then every byte of every file under the data dir is scanned, while the
 * server runs (store, -wal, -shm) and after a clean stop, for the marker in UTF-8 (as
 * written, lower- and upper-case), UTF-16LE and base64. The marker must also be readable
 * over the API, so a write that silently stored nothing cannot pass.
 */
import type { Binary, Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirClient } from '../support/fhir-client';
import { forgetDataDir } from '../support/keychain';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from '../support/workstation';

// Mixed case on purpose: an index that normalizes strings would store another spelling.
const MARKER = `FlintMarker${randomBytes(8).toString('hex')}Zq`;
const SYSTEM = 'http://flint.test/no-plaintext';

interface Needle {
  label: string;
  bytes: Buffer;
}

/** base64 of `text` as it appears inside a longer base64 string, at each of the 3 byte alignments. */
function base64Needles(text: string): Needle[] {
  const raw = Buffer.from(text, 'utf8');
  const out: Needle[] = [{ label: 'base64', bytes: Buffer.from(raw.toString('base64'), 'ascii') }];
  for (const shift of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64');
    // Drop the quantum holding the filler bytes at the start and the partial one at the end.
    const usable = b64.slice(shift === 0 ? 0 : 4, 4 * Math.floor((shift + raw.length) / 3));
    out.push({ label: `base64 (offset ${shift})`, bytes: Buffer.from(usable, 'ascii') });
  }
  // base64url: the same minus '+' and '/'.
  out.push({ label: 'base64url', bytes: Buffer.from(raw.toString('base64url'), 'ascii') });
  return out;
}

function needlesFor(text: string): Needle[] {
  const spellings = [...new Set([text, text.toLowerCase(), text.toUpperCase()])];
  return [
    ...spellings.map((s) => ({ label: `utf8 "${s}"`, bytes: Buffer.from(s, 'utf8') })),
    ...spellings.map((s) => ({ label: `utf16le "${s}"`, bytes: Buffer.from(s, 'utf16le') })),
    { label: 'utf16be', bytes: Buffer.from(text, 'utf16le').swap16() },
    ...base64Needles(text),
  ];
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

interface ScanResult {
  files: Array<{ name: string; size: number }>;
  hits: string[];
}

function scan(dir: string, needles: Needle[]): ScanResult {
  const result: ScanResult = { files: [], hits: [] };
  for (const file of listFiles(dir)) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // e.g. a -shm removed meanwhile
      throw e;
    }
    result.files.push({ name: relative(dir, file), size: data.length });
    for (const n of needles) {
      const at = data.indexOf(n.bytes);
      if (at >= 0) result.hits.push(`${relative(dir, file)}: ${n.label} at byte ${at}`);
    }
  }
  return result;
}

const needles = needlesFor(MARKER);

describe('the marker scanner itself', () => {
  it('finds the marker in every encoding it looks for, and nothing in clean files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-scan-control-'));
    try {
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      writeFileSync(join(dir, 'utf8'), `xx${MARKER.toLowerCase()}yy`);
      writeFileSync(join(dir, 'utf16'), Buffer.from(`..${MARKER}..`, 'utf16le'));
      writeFileSync(join(dir, 'b64-0'), b64(MARKER));
      writeFileSync(join(dir, 'b64-3'), b64(`abc${MARKER}tail`));
      writeFileSync(join(dir, 'b64-1'), b64(`a${MARKER}tail`));
      writeFileSync(join(dir, 'b64-2'), b64(`ab${MARKER}t`));
      writeFileSync(join(dir, 'clean'), randomBytes(1 << 16));
      const { hits, files } = scan(dir, needles);
      const hitFiles = new Set(hits.map((h) => h.split(':')[0]));
      expect(files).toHaveLength(7);
      expect([...hitFiles].sort()).toEqual(['b64-0', 'b64-1', 'b64-2', 'b64-3', 'utf16', 'utf8']);
    } finally {
      removeDir(dir);
    }
  });
});

describe('no plaintext in the data dir', () => {
  let ws: RunningWorkstation | undefined;
  let client: FhirClient;
  const dataDir = tempDataDir('flint-noplain-');
  const ids = {
    patient: `${MARKER}-p1`,
    deleted: `${MARKER}-del`,
    binary: `${MARKER}-bin`,
    observation: `${MARKER}-obs`,
    patched: `${MARKER}-patch`,
  };
  let conditionalId = '';
  let transactionPatientId = '';

  const marked = (id?: string): Patient => ({
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${MARKER}</div>` },
    identifier: [{ system: SYSTEM, value: MARKER }],
    name: [{ family: MARKER, given: [MARKER] }],
    telecom: [{ system: 'email', value: `${MARKER}@example.org` }],
    extension: [{ url: 'http://flint.test/ext', valueString: MARKER }],
  });

  beforeAll(async () => {
    ws = await startWorkstation({ dataDir });
    client = ws.client();
    const ok = (status: number, what: string) => expect(status, what).toBeLessThan(300);

    ok((await client.put(`Patient/${ids.patient}`, marked(ids.patient))).status, 'PUT marked patient');
    // Update: the marked version stays in history, the current one drops the marked fields.
    ok((await client.put(`Patient/${ids.patient}`, { resourceType: 'Patient', id: ids.patient, name: [{ family: 'Updated' }] })).status, 'update');
    // Delete: history keeps the marked version.
    ok((await client.put(`Patient/${ids.deleted}`, marked(ids.deleted))).status, 'PUT to delete');
    ok((await client.delete(`Patient/${ids.deleted}`)).status, 'DELETE');
    // Binary whose data is the marker.
    const bin: Binary = { resourceType: 'Binary', id: ids.binary, contentType: 'text/plain', data: Buffer.from(MARKER).toString('base64') };
    ok((await client.put(`Binary/${ids.binary}`, bin)).status, 'PUT Binary');
    // Conditional create keyed on the marker.
    const cond = await client.post<Patient>('Patient', marked(), {
      'if-none-exist': `identifier=${encodeURIComponent(`${SYSTEM}|${MARKER}-cond`)}`,
    });
    ok(cond.status, 'conditional create');
    conditionalId = cond.body.id!;
    // A transaction: a POSTed patient and an Observation that references it.
    const urn = 'urn:uuid:8f4f3c7e-5a0b-4c55-9d0b-0123456789ab';
    const tx = await client.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: urn, resource: { ...marked(), identifier: [{ system: SYSTEM, value: `${MARKER}-tx` }] }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: {
            resourceType: 'Observation',
            id: ids.observation,
            status: 'final',
            code: { text: MARKER },
            valueString: MARKER,
            subject: { reference: urn, display: MARKER },
          } satisfies Observation,
          request: { method: 'PUT', url: `Observation/${ids.observation}` },
        },
      ],
    });
    ok(tx.status, 'transaction');
    transactionPatientId = /Patient\/([^/]+)\//.exec(tx.body.entry?.[0]?.response?.location ?? '')?.[1] ?? '';
    // A patch that writes the marker into a new field.
    ok((await client.put(`Patient/${ids.patched}`, { resourceType: 'Patient', id: ids.patched })).status, 'PUT to patch');
    const patched = await client.patch(`Patient/${ids.patched}`, [{ op: 'add', path: '/name', value: [{ family: MARKER }] }], {
      'content-type': 'application/json-patch+json',
    });
    ok(patched.status, 'PATCH');
    // A rejected request holding the marker (wrong resourceType): must leave no trace either.
    const rejected = await client.put<OperationOutcome>(`Patient/${MARKER}-rejected`, { ...marked(`${MARKER}-rejected`), resourceType: 'Person' });
    expect(rejected.status).toBe(400);
  });

  afterAll(async () => {
    await ws?.stop();
    await forgetDataDir(dataDir);
  });

  it('the marker is stored: readable over the API in every place it was written', async () => {
    const v1 = await client.get<Patient>(`Patient/${ids.patient}/_history/${(await firstVid(ids.patient))}`);
    expect(v1.status).toBe(200);
    expect(JSON.stringify(v1.body)).toContain(`"family":"${MARKER}"`);
    expect(v1.body.extension?.[0]?.valueString).toBe(MARKER);
    expect((await client.get<Patient>(`Patient/${ids.patient}`)).body.name?.[0]?.family).toBe('Updated');

    expect((await client.get(`Patient/${ids.deleted}`)).status).toBe(410);
    const delHistory = await client.get<Bundle<Patient>>(`Patient/${ids.deleted}/_history`);
    expect(delHistory.body.total).toBe(2);
    expect(delHistory.body.entry?.find((e) => e.resource)?.resource?.identifier?.[0]?.value).toBe(MARKER);

    const bin = await client.get<Binary>(`Binary/${ids.binary}`);
    expect(Buffer.from(bin.body.data ?? '', 'base64').toString('utf8')).toBe(MARKER);

    const cond = await client.get<Patient>(`Patient/${conditionalId}`);
    expect(cond.body.name?.[0]?.family).toBe(MARKER);

    const obs = await client.get<Observation>(`Observation/${ids.observation}`);
    expect(obs.body.valueString).toBe(MARKER);
    expect(obs.body.subject?.reference).toBe(`Patient/${transactionPatientId}`);
    const txPatient = await client.get<Patient>(`Patient/${transactionPatientId}`);
    expect(txPatient.body.identifier?.[0]?.value).toBe(`${MARKER}-tx`);

    expect((await client.get<Patient>(`Patient/${ids.patched}`)).body.name?.[0]?.family).toBe(MARKER);
    expect((await client.get(`Patient/${MARKER}-rejected`)).status).toBe(404);

    const search = await client.get<Bundle>(`Patient?identifier=${encodeURIComponent(`${SYSTEM}|${MARKER}`)}`);
    expect(search.body.total).toBeGreaterThanOrEqual(1);
  });

  it('while the server runs: no file (store, -wal, -shm) holds the marker in any encoding', () => {
    const { files, hits } = scan(dataDir, needles);
    const names = files.map((f) => f.name);
    expect(names, 'the live store and its write-ahead log were scanned').toEqual(expect.arrayContaining(['flint.json']));
    expect(names.some((n) => n.endsWith('-wal')), `a -wal file while running: ${names.join(', ')}`).toBe(true);
    expect(files.reduce((n, f) => n + f.size, 0), 'bytes scanned').toBeGreaterThan(10_000);
    expect(hits, `files: ${JSON.stringify(files)}`).toEqual([]);
  });

  it('after a clean stop: no file holds the marker, and the data is still there on restart', async () => {
    expect(await ws!.stop()).toBe(0);
    ws = undefined;
    const { files, hits } = scan(dataDir, needles);
    expect(files.length).toBeGreaterThan(0);
    expect(hits, `files: ${JSON.stringify(files)}`).toEqual([]);

    ws = await startWorkstation({ dataDir });
    client = ws.client();
    const bin = await client.get<Binary>(`Binary/${ids.binary}`);
    expect(bin.status).toBe(200);
    expect(Buffer.from(bin.body.data ?? '', 'base64').toString('utf8')).toBe(MARKER);
    expect((await client.get<Observation>(`Observation/${ids.observation}`)).body.valueString).toBe(MARKER);
    // Reading does not spill the marker to disk either.
    expect(scan(dataDir, needles).hits).toEqual([]);
  });

  async function firstVid(id: string): Promise<string> {
    const h = await client.get<Bundle>(`Patient/${id}/_history`);
    const oldest = h.body.entry?.[h.body.entry.length - 1];
    return /W\/"(.+)"/.exec(oldest?.response?.etag ?? '')?.[1] ?? 'missing';
  }
});
