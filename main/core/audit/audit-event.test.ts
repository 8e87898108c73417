/**
 * The BALP AuditEvent builder: every event it makes is valid R4 (the project's validator)
 * and indexable (the search extractor gives the AuditEvent search parameters values).
 */
import type { AuditEvent, AuditEventAgent, Coding } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../fhir/definitions';
import { createValidator, type Validator } from '../fhir/validation/validator';
import { createExtractor, type Extractor } from '../search/extract/extract';
import { accessEvent, outcomeOf, securityEvent } from './audit-event';
import type { AccessRecord, AuditAgent, RestInteraction, SecurityKind, SecurityRecord } from './types';

const WS = { workstationId: 'ab12cd', baseUrl: 'http://127.0.0.1:8765/fhir' };
const RECORDED = new Date('2026-12-01T10:00:00.123Z');
const USER: AuditAgent = { userId: 'u1', username: 'alice', fhirUser: 'Practitioner/p1', clientId: 'app-1', address: '127.0.0.1' };

let validator: Validator;
let extractor: Extractor;
beforeAll(() => {
  validator = createValidator();
  extractor = createExtractor(loadDefinitions());
});

function access(interaction: RestInteraction, extra: Partial<AccessRecord> = {}): AccessRecord {
  return { interaction, status: 200, agent: USER, patients: [], recorded: RECORDED, ...extra };
}

function security(kind: SecurityKind, extra: Partial<SecurityRecord> = {}): SecurityRecord {
  return { kind, ok: true, agent: USER, subject: 'user:bob', recorded: RECORDED, ...extra };
}

/** The codings of a CodeableConcept list as `system|code`. */
const codes = (cs: Coding[] | undefined) => (cs ?? []).map((c) => `${c.system}|${c.code}`);
const agentType = (a: AuditEventAgent) => codes(a.type?.coding);
const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

function expectValid(event: AuditEvent) {
  const errors = validator.validate(event).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  expect(errors, JSON.stringify(errors)).toEqual([]);
}

const INTERACTIONS: Array<[RestInteraction, Partial<AccessRecord>]> = [
  ['read', { type: 'Observation', id: 'o1', patients: ['x'] }],
  ['vread', { type: 'Observation', id: 'o1', vid: '2.ab12cd', patients: ['x'] }],
  ['update', { type: 'Observation', id: 'o1', vid: '3.ab12cd', patients: ['x'] }],
  ['patch', { type: 'Observation', id: 'o1', patients: ['x'] }],
  ['delete', { type: 'Observation', id: 'o1', patients: ['x'] }],
  ['history-instance', { type: 'Observation', id: 'o1', query: '_count=10' }],
  ['history-type', { type: 'Observation', query: '' }],
  ['history-system', { query: '_since=2026-01-01' }],
  ['create', { type: 'Observation', id: 'o2', status: 201, patients: ['x'] }],
  ['search-type', { type: 'Observation', query: 'code=1234-5&patient=Patient/x', patients: ['x', 'y'] }],
  ['search-system', { query: '_type=Patient' }],
  ['search-compartment', { type: 'Observation', query: 'category=laboratory', patients: ['x'] }],
  ['batch', {}],
  ['transaction', {}],
  ['capabilities', {}],
  ['operation', { operation: '$everything', type: 'Patient', id: 'x', patients: ['x'] }],
  ['operation', { operation: '$reindex' }],
];

const SECURITY_KINDS: SecurityKind[] = [
  'login-success', 'login-failure', 'logout', 'lockout', 'token-issued', 'token-refreshed', 'token-revoked',
  'app-registered', 'app-revoked', 'user-changed', 'role-changed', 'settings-changed',
]; // prettier-ignore

describe('accessEvent', () => {
  it('is checked by a validator that does catch a broken AuditEvent', () => {
    const e = accessEvent(access('read', { type: 'Patient', id: 'x' }), WS);
    const broken = { ...e, outcome: '5', agent: e.agent.map(({ requestor: _r, ...a }) => a) } as unknown as AuditEvent;
    expect(validator.validate(broken).filter((i) => i.severity === 'error').length).toBeGreaterThan(0);
  });

  it.each(INTERACTIONS)('is valid R4 for %s', (interaction, extra) => {
    expectValid(accessEvent(access(interaction, extra), WS));
    expectValid(accessEvent(access(interaction, { ...extra, status: 500, agent: { address: '::1' } }), WS));
    expectValid(accessEvent(access(interaction, { ...extra, bundleEntry: 3 }), { workstationId: 'ab12cd' }));
  });

  it('codes the event as a RESTful interaction with the interaction as subtype', () => {
    const e = accessEvent(access('vread', { type: 'Observation', id: 'o1', vid: '2.ab12cd' }), WS);
    expect(codes([e.type])).toEqual(['http://terminology.hl7.org/CodeSystem/audit-event-type|rest']);
    expect(codes(e.subtype)).toEqual(['http://hl7.org/fhir/restful-interaction|vread']);
    expect(e.recorded).toBe('2026-12-01T10:00:00.123Z');
    expect(e.source).toEqual({
      observer: { identifier: { system: 'urn:flint:workstation', value: 'ab12cd' }, display: 'flint:ab12cd' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    });
  });

  it('records a compartment search as search-type and names an operation', () => {
    expect(codes(accessEvent(access('search-compartment', { type: 'Observation' }), WS).subtype)).toEqual([
      'http://hl7.org/fhir/restful-interaction|search-type',
    ]);
    expect(codes(accessEvent(access('operation', { operation: '$everything', type: 'Patient', id: 'x' }), WS).subtype)).toEqual([
      'http://hl7.org/fhir/restful-interaction|operation',
      'urn:flint:audit-subtype|$everything',
    ]);
  });

  it('maps interactions to actions (BALP: searches are E)', () => {
    const action = (i: RestInteraction) => accessEvent(access(i), WS).action;
    expect(action('create')).toBe('C');
    for (const i of ['read', 'vread', 'history-instance', 'history-type', 'history-system', 'capabilities'] as const) expect(action(i)).toBe('R');
    expect(action('update')).toBe('U');
    expect(action('patch')).toBe('U');
    expect(action('delete')).toBe('D');
    for (const i of ['search-type', 'search-system', 'search-compartment', 'batch', 'transaction', 'operation'] as const) expect(action(i)).toBe('E');
  });

  it('maps the HTTP status to the outcome and says nothing but the status', () => {
    const outcome = (status: number) => accessEvent(access('read', { type: 'Patient', id: 'x', status }), WS);
    expect([200, 201, 304, 403, 404, 500].map((s) => outcome(s).outcome)).toEqual(['0', '0', '0', '4', '4', '8']);
    expect(outcome(404).outcomeDesc).toBe('HTTP 404');
    expect(outcomeOf(503)).toBe('8');
  });

  it('names the user, the client app with its address, and this workstation', () => {
    const e = accessEvent(access('read', { type: 'Observation', id: 'o1' }), WS);
    const [user, app, server, ...rest] = e.agent;
    expect(rest).toEqual([]);
    expect(user).toEqual({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      requestor: true,
      who: { reference: 'Practitioner/p1', identifier: { system: 'urn:flint:user', value: 'alice' }, display: 'alice' },
      name: 'alice',
      altId: 'u1',
    });
    expect(app?.who).toEqual({ identifier: { system: 'urn:flint:client', value: 'app-1' }, display: 'app-1' });
    expect(app?.network).toEqual({ address: '127.0.0.1', type: '2' });
    expect(app?.requestor).toBe(false);
    // BALP Read: the data flows to the client (Destination), from the server (Source).
    expect(agentType(app as AuditEventAgent)).toEqual(['http://dicom.nema.org/resources/ontology/DCM|110152']);
    expect(agentType(server as AuditEventAgent)).toEqual(['http://dicom.nema.org/resources/ontology/DCM|110153']);
    expect(server?.network).toEqual({ address: WS.baseUrl, type: '5' });
    expect(server?.requestor).toBe(false);
  });

  it('types the agents of writes and searches after BALP Create/Query and Delete', () => {
    const create = accessEvent(access('create', { type: 'Observation', id: 'o1' }), WS);
    expect(create.agent.map(agentType)).toEqual([
      ['http://terminology.hl7.org/CodeSystem/v3-ParticipationType|AUT'],
      ['http://dicom.nema.org/resources/ontology/DCM|110153'],
      ['http://dicom.nema.org/resources/ontology/DCM|110152'],
    ]);
    const del = accessEvent(access('delete', { type: 'Observation', id: 'o1' }), WS);
    expect(del.agent.map(agentType).slice(1)).toEqual([
      ['http://dicom.nema.org/resources/ontology/DCM|110150'],
      ['http://terminology.hl7.org/CodeSystem/provenance-participant-type|custodian'],
    ]);
    const search = accessEvent(access('search-type', { type: 'Observation' }), WS);
    expect(search.agent.map(agentType)[0]).toEqual(['http://terminology.hl7.org/CodeSystem/v3-ParticipationType|IRCP']);
  });

  it('records an unauthenticated attempt with only its address as the requestor', () => {
    const e = accessEvent(access('read', { type: 'Patient', id: 'x', status: 401, agent: { address: '127.0.0.1' } }), WS);
    const callers = e.agent.filter((a) => a.requestor);
    expect(callers).toEqual([
      { type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110152', display: 'Destination Role ID' }] }, requestor: true, network: { address: '127.0.0.1', type: '2' } },
    ]);
    expect(e.agent).toHaveLength(2); // and the workstation as the server
    expect(e.outcome).toBe('4');
    expect(accessEvent(access('read', { agent: { address: 'localhost' } }), WS).agent[0]?.network?.type).toBe('1');
  });

  it('makes a backend service (no user) the requestor', () => {
    const e = accessEvent(access('search-type', { type: 'Observation', agent: { clientId: 'svc', address: '127.0.0.1' } }), WS);
    expect(e.agent[0]?.requestor).toBe(true);
    expect(e.agent[0]?.who?.identifier?.value).toBe('svc');
  });

  it('addresses the resource, its version, and every patient (once)', () => {
    const e = accessEvent(access('vread', { type: 'Observation', id: 'o1', vid: '2.ab12cd', patients: ['x', 'y', 'x'] }), WS);
    expect(e.entity).toEqual([
      {
        what: { reference: 'Observation/o1/_history/2.ab12cd' },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
      },
      ...['x', 'y'].map((id) => ({
        what: { reference: `Patient/${id}` },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      })),
    ]);
  });

  it('records a search as a BALP query entity: the raw request, base64', () => {
    const query = 'code=http%3A%2F%2Floinc.org%7C1234-5&_count=10';
    const e = accessEvent(access('search-type', { type: 'Observation', query }), WS);
    const q = e.entity?.find((x) => x.role?.code === '24');
    expect(q?.type?.code).toBe('2');
    expect(q?.what).toBeUndefined();
    expect(decode(q?.query)).toBe(`Observation?${query}`);
    expect(new URLSearchParams(decode(q?.query).split('?')[1]).get('code')).toBe('http://loinc.org|1234-5');
    const sys = accessEvent(access('search-system', { query: '_type=Patient' }), WS);
    expect(decode(sys.entity?.[0]?.query)).toBe('?_type=Patient');
    const hist = accessEvent(access('history-type', { type: 'Patient' }), WS);
    expect(decode(hist.entity?.[0]?.query)).toBe('Patient/_history?');
  });

  it('marks a Bundle entry with its index', () => {
    const e = accessEvent(access('create', { type: 'Observation', id: 'o1', bundleEntry: 2 }), WS);
    expect(e.entity?.[0]?.detail).toEqual([{ type: 'bundle-entry', valueString: '2' }]);
    const failed = accessEvent(access('create', { type: 'Observation', status: 422, bundleEntry: 0 }), WS);
    expect(failed.entity).toEqual([{ type: expect.objectContaining({ code: '2' }), detail: [{ type: 'bundle-entry', valueString: '0' }] }]);
  });

  it('gives the AuditEvent search parameters values', () => {
    const e = accessEvent(access('read', { type: 'Observation', id: 'o1', patients: ['x'] }), WS);
    const rows = extractor.extract(e);
    for (const p of ['patient', 'agent', 'agent-name', 'altid', 'address', 'action', 'type', 'subtype', 'outcome', 'entity', 'entity-type', 'entity-role', 'date', 'source']) {
      expect(rows.present.has(p), p).toBe(true);
    }
    expect(rows.references).toContainEqual(expect.objectContaining({ param: 'patient', targetType: 'Patient', targetId: 'x' }));
    expect(rows.references).toContainEqual(expect.objectContaining({ param: 'agent', targetType: 'Practitioner', targetId: 'p1' }));
    expect(rows.references).toContainEqual(expect.objectContaining({ param: 'agent', identifierSystem: 'urn:flint:client', identifierValue: 'app-1' }));
    expect(rows.references).toContainEqual(expect.objectContaining({ param: 'entity', targetType: 'Observation', targetId: 'o1' }));
    expect(rows.tokens).toContainEqual(expect.objectContaining({ param: 'action', code: 'R' }));
    expect(rows.tokens).toContainEqual(expect.objectContaining({ param: 'type', system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' }));
    expect(rows.tokens).toContainEqual(expect.objectContaining({ param: 'subtype', system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }));
    expect(rows.tokens).toContainEqual(expect.objectContaining({ param: 'outcome', code: '0' }));
    expect(rows.dates).toContainEqual(expect.objectContaining({ param: 'date', start: RECORDED.getTime() }));
    expect(extractor.failures.size).toBe(0);
  });
});

describe('securityEvent', () => {
  it.each(SECURITY_KINDS)('is valid R4 for %s', (kind) => {
    expectValid(securityEvent(security(kind), WS));
    expectValid(securityEvent(security(kind, { ok: false, agent: { username: 'mallory', address: '10.0.0.9' }, subject: undefined, detail: 'refused' }), WS));
    expectValid(securityEvent(security(kind, { agent: {}, subject: 'settings' }), WS));
  });

  it('codes logins and logouts as DICOM User Authentication', () => {
    const login = securityEvent(security('login-success'), WS);
    expect(codes([login.type])).toEqual(['http://dicom.nema.org/resources/ontology/DCM|110114']);
    expect(codes(login.subtype)).toEqual(['http://dicom.nema.org/resources/ontology/DCM|110122', 'urn:flint:audit-subtype|login-success']);
    expect(login.action).toBe('E');
    expect(login.outcome).toBe('0');
    expect(codes(securityEvent(security('logout'), WS).subtype)[0]).toBe('http://dicom.nema.org/resources/ontology/DCM|110123');
  });

  it('codes tokens after IHE IUA and changes as DICOM Security Alert', () => {
    const sub = (k: SecurityKind) => codes(securityEvent(security(k), WS).subtype);
    expect(sub('token-issued')).toEqual(['urn:ihe:event-type-code|ITI-71', 'urn:flint:audit-subtype|token-issued']);
    expect(sub('token-refreshed')[0]).toBe('urn:ihe:event-type-code|ITI-71');
    expect(sub('token-revoked')).toEqual(['urn:flint:audit-subtype|token-revoked']);
    const dcm = (code: string) => `http://dicom.nema.org/resources/ontology/DCM|${code}`;
    for (const [k, code] of [['lockout', '110137'], ['user-changed', '110137'], ['role-changed', '110136'], ['app-registered', '110129'], ['app-revoked', '110129'], ['settings-changed', '110129']] as const) {
      const e = securityEvent(security(k), WS);
      expect(codes([e.type]), k).toEqual([dcm('110113')]);
      expect(codes(e.subtype), k).toEqual([dcm(code), `urn:flint:audit-subtype|${k}`]);
    }
    expect(securityEvent(security('app-registered'), WS).action).toBe('C');
    expect(securityEvent(security('role-changed'), WS).action).toBe('U');
  });

  it('records a failed login with the claimed username as text only', () => {
    const e = securityEvent(security('login-failure', { ok: false, agent: { username: 'mallory', address: '10.0.0.9' }, subject: 'user:mallory' }), WS);
    expect(e.outcome).toBe('4');
    expect(e.agent[0]).toEqual({ type: { coding: [expect.objectContaining({ code: 'humanuser' })] }, requestor: true, who: { display: 'mallory' } });
    expect(e.agent[1]).toEqual(expect.objectContaining({ requestor: false, network: { address: '10.0.0.9', type: '2' } }));
    expect(e.entity).toEqual([
      {
        what: { identifier: { system: 'urn:flint:user', value: 'mallory' }, display: 'mallory' },
        type: expect.objectContaining({ code: '1' }),
        role: expect.objectContaining({ code: '11' }),
      },
    ]);
  });

  it('names the subject in Flint identifier systems', () => {
    const what = (subject: string) => securityEvent(security('user-changed', { subject }), WS).entity?.[0]?.what?.identifier;
    expect(what('user:bob')).toEqual({ system: 'urn:flint:user', value: 'bob' });
    expect(what('app:app-1')).toEqual({ system: 'urn:flint:client', value: 'app-1' });
    expect(what('role:auditor')).toEqual({ system: 'urn:flint:role', value: 'auditor' });
    expect(what('settings')).toEqual({ system: 'urn:flint:subject', value: 'settings' });
  });

  it('gives the AuditEvent search parameters values', () => {
    const rows = extractor.extract(securityEvent(security('role-changed'), WS));
    for (const p of ['agent', 'agent-name', 'action', 'type', 'subtype', 'outcome', 'entity', 'entity-type', 'entity-role', 'date', 'address', 'source']) {
      expect(rows.present.has(p), p).toBe(true);
    }
    expect(rows.references).toContainEqual(expect.objectContaining({ param: 'entity', identifierSystem: 'urn:flint:user', identifierValue: 'bob' }));
    expect(rows.tokens).toContainEqual(expect.objectContaining({ param: 'subtype', system: 'urn:flint:audit-subtype', code: 'role-changed' }));
  });
});
