/**
 * $validate branches the HTTP tests cannot reach: over HTTP the router refuses every POST on
 * AuditEvent (405) before the handler runs, so the handler's own answer for AuditEvents
 * (never written or deleted through the API while the audit trail keeps them) is checked
 * here, with a stand-in context.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { FhirContext } from '../context';
import type { FhirRequest } from '../types';
import { validate } from './validate';

const context = (auditTrail: boolean): FhirContext =>
  ({
    defs: { isResourceType: () => true },
    validator: { validate: () => [] },
    store: { head: async () => ({ vid: '1', deleted: false }) },
    ...(auditTrail ? { auditView: {} } : {}),
  }) as unknown as FhirContext;

const request = (query: string, body?: unknown): FhirRequest => ({ method: 'POST', path: [], query: new URLSearchParams(query), headers: {}, body, baseUrl: 'http://127.0.0.1:1/fhir' });

describe('$validate for AuditEvents', () => {
  it('says an AuditEvent can never be deleted or written while the audit trail keeps them', async () => {
    const del = await validate(request('mode=delete'), context(true), { type: 'AuditEvent', id: 'a1' });
    expect(del.status).toBe(200);
    expect((del.body as OperationOutcome).issue.map((i) => `${i.severity} ${i.code}`)).toEqual(['error forbidden']);
    const create = await validate(request('mode=create', { resourceType: 'AuditEvent' }), context(true), { type: 'AuditEvent' });
    expect((create.body as OperationOutcome).issue.map((i) => `${i.severity} ${i.code}`)).toEqual(['error forbidden']);
  });

  it('without an audit trail an AuditEvent is a resource like any other', async () => {
    const del = await validate(request('mode=delete'), context(false), { type: 'AuditEvent', id: 'a1' });
    expect((del.body as OperationOutcome).issue.map((i) => i.severity)).toEqual(['information']);
  });
});
