import type { AuditEvent } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { actionText, decodeQuery, entitiesText, outcomeText, subtypeText, typeText, whoOf, whoText } from './audit-format';

// Shapes as main/core/audit/audit-event.ts builds them.
const server = { type: { coding: [{ code: '110153' }] }, requestor: false, who: { identifier: { system: 'urn:flint:workstation', value: 'ws1' }, display: 'flint:ws1' } };
const read: AuditEvent = {
  resourceType: 'AuditEvent',
  id: 'ws1-7',
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' },
  subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read', display: 'read' }],
  action: 'R',
  recorded: '2026-03-01T10:00:00.000Z',
  outcome: '0',
  outcomeDesc: 'HTTP 200',
  agent: [
    { type: { coding: [{ code: 'IRCP' }] }, requestor: true, name: 'rita', who: { identifier: { system: 'urn:flint:user', value: 'rita' }, display: 'rita', reference: 'Practitioner/9' }, altId: 'u1' },
    { type: { coding: [{ code: '110152' }] }, requestor: false, who: { identifier: { system: 'urn:flint:client', value: 'flint-ui' }, display: 'flint-ui' }, network: { address: '127.0.0.1', type: '2' } },
    server,
  ],
  source: { observer: { display: 'flint:ws1' } },
  entity: [
    { what: { reference: 'Patient/p1' }, type: { code: '2' }, role: { code: '4' } },
    { what: { reference: 'Patient/p1' }, type: { code: '1' }, role: { code: '1' } },
  ],
};

describe('who', () => {
  it('names the user and the app', () => {
    expect(whoText(whoOf(read))).toBe('rita via flint-ui');
  });

  it('marks the name a failed login claimed', () => {
    const failed: AuditEvent = { ...read, agent: [{ type: { coding: [] }, requestor: true, who: { display: 'mallory' } }, { requestor: false, who: { identifier: { system: 'urn:flint:client', value: 'flint-ui' } } }, server] };
    expect(whoText(whoOf(failed))).toBe('mallory (claimed) via flint-ui');
  });

  it('names the central server of a sync event, and the workstation when nobody else acted', () => {
    const sync: AuditEvent = { ...read, agent: [server, { requestor: false, who: { display: 'http://couch/clinic' }, network: { address: 'http://couch/clinic', type: '5' } }] };
    expect(whoText(whoOf(sync))).toBe('http://couch/clinic');
    expect(whoText(whoOf({ ...read, agent: [server] }))).toBe('this workstation');
  });
});

describe('what and how', () => {
  it('reads codes as words', () => {
    expect(actionText('E')).toBe('Execute / search');
    expect(outcomeText('12')).toBe('Major failure');
    expect(typeText(read)).toBe('Restful Operation');
    expect(subtypeText({ ...read, subtype: [{ code: '110122', display: 'Login' }, { code: 'login-failure' }] })).toBe('Login, login-failure');
  });

  it('lists each entity once, with a search’s query decoded', () => {
    expect(entitiesText(read)).toBe('Patient/p1');
    // As the core encodes it: the UTF-8 bytes of the request, base64.
    const query = btoa(String.fromCharCode(...new TextEncoder().encode('Patient?name=Åsa')));
    const search: AuditEvent = { ...read, entity: [{ type: { code: '2' }, role: { code: '24' }, query }] };
    expect(entitiesText(search)).toBe('Patient?name=Åsa');
    expect(decodeQuery('%%%')).toBeUndefined();
  });
});
