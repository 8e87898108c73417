/**
 * Bundle rules beyond the bdl-* invariants: fullUrl form and agreement with the resource,
 * uniqueness, entries that need a body, document completeness and closure, message focus,
 * at any nesting; and the official examples keep passing (but three that disagree with
 * their own fullUrls).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable } from '../../../../test/support/corpus';
import { bundleIssues } from './bundle-rules';

type Entry = Record<string, unknown>;
const bundle = (type: string, entry: Entry[], extra: Entry = {}) => ({ resourceType: 'Bundle', type, entry, ...extra });
const patient = (id?: string, extra: Entry = {}) => ({ resourceType: 'Patient', ...(id ? { id } : {}), ...extra });
const at = (r: unknown) => bundleIssues(r).map((i) => `${i.severity} ${i.expression?.[0]}`);
const UUID = 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520';
const UUID2 = 'urn:uuid:9b8a3f1e-0c4d-4e5f-8a6b-7c8d9e0f1a2b';

describe('fullUrl', () => {
  it('ignores resources that are not Bundles', () => {
    expect(bundleIssues({ resourceType: 'Patient', id: 'x' })).toEqual([]);
    expect(bundleIssues(null)).toEqual([]);
  });

  it('must be absolute, a well-formed urn:uuid or urn:oid', () => {
    expect(at(bundle('collection', [{ fullUrl: 'Patient/1', resource: patient('1') }]))).toEqual(['error Bundle.entry[0].fullUrl']);
    expect(at(bundle('collection', [{ fullUrl: UUID.toUpperCase().replace('URN:UUID:', 'urn:uuid:'), resource: patient('1') }]))).toEqual(['error Bundle.entry[0].fullUrl']);
    expect(at(bundle('collection', [{ fullUrl: 'urn:uuid:1234', resource: patient('1') }]))).toEqual(['error Bundle.entry[0].fullUrl']);
    expect(at(bundle('collection', [{ fullUrl: 'urn:oid:1.2.03', resource: patient('1') }]))).toEqual(['error Bundle.entry[0].fullUrl']);
    expect(at(bundle('collection', [{ fullUrl: UUID, resource: patient('1') }, { fullUrl: 'urn:oid:2.16.840.1.113883', resource: patient('2') }]))).toEqual([]);
  });

  it('a RESTful fullUrl names the entry resource type and id: an error where fullUrls resolve references, a warning elsewhere', () => {
    expect(at(bundle('collection', [{ fullUrl: 'http://x.org/fhir/Patient/1', resource: patient('1') }]))).toEqual([]);
    for (const type of ['document', 'transaction', 'batch']) {
      const request = type === 'document' ? {} : { request: { method: 'PUT', url: 'Patient/1' } };
      expect(at(bundle(type, [{ fullUrl: 'http://x.org/fhir/Observation/1', resource: patient('1'), ...request }])), type).toContain('error Bundle.entry[0].fullUrl');
      expect(at(bundle(type, [{ fullUrl: 'http://x.org/fhir/Patient/2', resource: patient('1'), ...request }])), type).toContain('error Bundle.entry[0].fullUrl');
    }
    expect(at(bundle('collection', [{ fullUrl: 'http://x.org/fhir/Observation/1', resource: patient('1') }]))).toEqual(['warning Bundle.entry[0].fullUrl']);
    expect(at(bundle('message', [{ fullUrl: 'http://x.org/fhir/Patient/2', resource: patient('1') }]))).toContain('warning Bundle.entry[0].fullUrl');
    // Version-specific form (bdl-8 is the invariant's): the type and id still agree.
    expect(at(bundle('collection', [{ fullUrl: 'http://x.org/fhir/Patient/2/_history/1', resource: patient('1') }]))).toEqual(['warning Bundle.entry[0].fullUrl']);
    // Not a RESTful URL (no resource type), so nothing to agree with.
    expect(at(bundle('collection', [{ fullUrl: 'http://x.org/Documents/abc', resource: patient('1') }]))).toEqual([]);
  });

  it('is required except in transactions, batches and their responses; a warning in searchsets and history', () => {
    expect(at(bundle('collection', [{ resource: patient('1') }]))).toEqual(['error Bundle.entry[0]']);
    expect(at(bundle('document', [{ resource: { resourceType: 'Composition' } }]))).toContain('error Bundle.entry[0]');
    expect(at(bundle('searchset', [{ resource: patient('1'), search: { mode: 'match' } }]))).toEqual(['warning Bundle.entry[0]']);
    expect(at(bundle('searchset', [{ resource: { resourceType: 'OperationOutcome', id: 'w' }, search: { mode: 'outcome' } }]))).toEqual([]);
    expect(at(bundle('transaction', [{ resource: patient(), request: { method: 'POST', url: 'Patient' } }]))).toEqual([]);
    expect(at(bundle('batch-response', [{ resource: patient('1'), response: { status: '200' } }]))).toEqual([]);
  });

  it('never quotes the value it refuses', () => {
    const text = bundleIssues(bundle('collection', [{ fullUrl: 'urn:uuid:SECRET-VALUE', resource: patient('1') }]))[0]!.diagnostics!;
    expect(text).not.toContain('SECRET');
    expect(text).toContain('Bundle.entry[0].fullUrl');
  });
});

describe('uniqueness', () => {
  it('refuses a fullUrl twice with the same version, except in history (bdl-7)', () => {
    const twice = [{ fullUrl: UUID, resource: patient('1') }, { fullUrl: UUID, resource: patient('1') }];
    expect(at(bundle('collection', twice))).toEqual(['error Bundle.entry[1].fullUrl']);
    const versions = [
      { fullUrl: UUID, resource: patient('1', { meta: { versionId: '1' } }) },
      { fullUrl: UUID, resource: patient('1', { meta: { versionId: '2' } }) },
    ];
    expect(at(bundle('collection', versions))).toEqual([]);
    const history = twice.map((e) => ({ ...e, request: { method: 'PUT', url: 'Patient/1' }, response: { status: '200' } }));
    expect(at(bundle('history', history))).toEqual([]);
  });

  it('refuses the same resource version twice in collections, documents, messages and searchsets', () => {
    const same = [{ fullUrl: UUID, resource: patient('1') }, { fullUrl: UUID2, resource: patient('1') }];
    expect(at(bundle('collection', same))).toEqual(['error Bundle.entry[1].resource.id']);
    expect(at(bundle('searchset', same))).toEqual(['error Bundle.entry[1].resource.id']);
    // Other servers' resources with the same id are other resources; transactions decide for themselves.
    expect(at(bundle('collection', [{ fullUrl: 'http://a.org/fhir/Patient/1', resource: patient('1') }, { fullUrl: 'http://b.org/fhir/Patient/1', resource: patient('1') }]))).toEqual([]);
    expect(at(bundle('transaction', same.map((e) => ({ ...e, request: { method: 'PUT', url: 'Patient/1' } }))))).toEqual([]);
  });
});

describe('entries', () => {
  it('a POST or PUT in a transaction, batch or history carries a resource', () => {
    expect(at(bundle('transaction', [{ request: { method: 'PUT', url: 'Patient/1' } }, { request: { method: 'DELETE', url: 'Patient/2' } }]))).toEqual(['error Bundle.entry[0]']);
    expect(at(bundle('batch', [{ request: { method: 'POST', url: 'Patient' } }]))).toEqual(['error Bundle.entry[0]']);
  });

  it('judges Bundles inside entries, with paths from the outer Bundle', () => {
    const inner = bundle('collection', [{ fullUrl: UUID, resource: patient('1') }, { fullUrl: 'Patient/2', resource: patient('2') }], { id: 'in' });
    expect(at(bundle('collection', [{ fullUrl: 'http://x.org/fhir/Bundle/in', resource: inner }]))).toEqual(['error Bundle.entry[0].resource.entry[1].fullUrl']);
  });
});

describe('documents and messages', () => {
  const composition = (extra: Entry = {}) => ({
    resourceType: 'Composition',
    id: 'c',
    status: 'final',
    type: { text: 'note' },
    date: '2020-01-01',
    title: 'Note',
    subject: { reference: 'Patient/p' },
    author: [{ reference: 'urn:uuid:9b8a3f1e-0c4d-4e5f-8a6b-7c8d9e0f1a2b' }],
    ...extra,
  });
  const doc = (entries: Entry[], extra: Entry = {}) =>
    bundle('document', [{ fullUrl: 'http://x.org/fhir/Composition/c', resource: composition(extra) }, ...entries], { identifier: { system: 'urn:ietf:rfc:3986', value: UUID }, timestamp: '2020-01-01T00:00:00Z' });
  const pat = { fullUrl: 'http://x.org/fhir/Patient/p', resource: patient('p') };
  const author = { fullUrl: UUID2, resource: { resourceType: 'Practitioner', id: 'a' } };

  it('holds every resource the Composition refers to', () => {
    expect(at(doc([pat, author]))).toEqual([]);
    expect(at(doc([author]))).toEqual(['error Bundle.entry[0].resource.subject']);
    const sections = { section: [{ title: 's', entry: [{ reference: 'Observation/o' }], section: [{ title: 't', entry: [{ reference: 'Observation/missing' }] }] }] };
    const obs = { fullUrl: 'http://x.org/fhir/Observation/o', resource: { resourceType: 'Observation', id: 'o', subject: { reference: 'Patient/p' } } };
    expect(at(doc([pat, author, obs], sections))).toEqual(['error Bundle.entry[0].resource.section[0].section[0].entry[0]']);
    // Local (#) references and references by identifier only are not looked for.
    expect(at(doc([pat, author], { custodian: { identifier: { value: 'x' } }, encounter: { reference: '#e' } }))).toEqual([]);
  });

  it('holds only what the Composition reaches, its stylesheet and Provenance of its content', () => {
    const stray = { fullUrl: 'http://x.org/fhir/Observation/z', resource: { resourceType: 'Observation', id: 'z' } };
    expect(at(doc([pat, author, stray]))).toEqual(['error Bundle.entry[3]']);
    // Reached indirectly: the Composition -> Patient -> Organization.
    const org = { fullUrl: 'http://x.org/fhir/Organization/o', resource: { resourceType: 'Organization', id: 'o' } };
    const patWithOrg = { ...pat, resource: patient('p', { managingOrganization: { reference: 'Organization/o' } }) };
    expect(at(doc([patWithOrg, author, org]))).toEqual([]);
    const provenance = { fullUrl: 'http://x.org/fhir/Provenance/v', resource: { resourceType: 'Provenance', id: 'v', target: [{ reference: 'Composition/c' }] } };
    const css = { fullUrl: 'http://x.org/fhir/Binary/css', resource: { resourceType: 'Binary', id: 'css', contentType: 'text/css' } };
    const withCss = { ...doc([pat, author, provenance, css]), link: [{ relation: 'stylesheet', url: 'http://x.org/fhir/Binary/css' }] };
    expect(at(withCss)).toEqual([]);
  });

  it('warns when a message focus is not in the Bundle', () => {
    const header = { resourceType: 'MessageHeader', id: 'h', eventCoding: { code: 'x' }, source: { endpoint: 'urn:x' }, focus: [{ reference: 'Patient/p' }, { reference: 'Patient/q' }] };
    expect(at(bundle('message', [{ fullUrl: 'http://x.org/fhir/MessageHeader/h', resource: header }, pat]))).toEqual(['warning Bundle.entry[0].resource.focus[1]']);
  });
});

/** Official examples whose RESTful fullUrls disagree with their resource ids (e.g. .../Patient/pat12 holding Patient pat2). */
const DISAGREEING = ['Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json', 'Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json', 'Bundle-lri-example.json'];

describe.runIf(corpusAvailable())('official R4 example Bundles', () => {
  it('pass; three (two messages, a collection) whose fullUrls disagree with their resources get warnings', () => {
    const rows = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; resourceType: string });
    const failing: string[] = [];
    const warned: string[] = [];
    for (const row of rows.filter((r) => r.resourceType === 'Bundle')) {
      const issues = bundleIssues(JSON.parse(readFileSync(join(CORPUS, 'r4-examples', row.file), 'utf8')));
      if (issues.some((i) => i.severity === 'error')) failing.push(row.file);
      if (issues.some((i) => i.severity === 'warning' && /disagree|not the entry's resource id/.test(i.diagnostics ?? ''))) warned.push(row.file);
    }
    expect(failing).toEqual([]);
    expect(warned.sort()).toEqual(DISAGREEING);
  });
});
