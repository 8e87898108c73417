/**
 * What the router tells the audit trail about each request (main/core/audit): the
 * interaction, the resource, the query, the answer's status, who asked, and the patients
 * whose data went out or in. Built from the request and the response only, so that
 * recording stays one call around the handler.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AccessRecord, AuditAgent, RestInteraction } from '../audit/types';
import { interactionOf } from './route-interaction';
import type { Principal } from '../auth/principal';
import type { PendingWrite } from '../store/resource-store';
import type { RouteParams } from './interactions/route';
import type { Route } from './registry';
import type { FhirRequest, FhirResponse } from './types';

export function agentOf(principal: Principal | undefined, address: string | undefined): AuditAgent {
  const a: AuditAgent = {};
  if (principal?.username) a.username = principal.username;
  if (principal && !principal.subject.includes(':')) a.userId = principal.subject;
  if (principal?.fhirUser) a.fhirUser = principal.fhirUser;
  if (principal) a.clientId = principal.clientId;
  if (address) a.address = address;
  return a;
}

/** One record for a request the router answered (writes are recorded before they commit: writeRecords). */
export function accessRecord(req: FhirRequest, route: Route | undefined, params: RouteParams, res: FhirResponse): AccessRecord {
  const interaction = interactionOf(route, req);
  const r: AccessRecord = {
    interaction,
    status: res.status,
    agent: agentOf(req.principal, req.clientAddress),
    patients: patientsIn(res.body),
    recorded: new Date(),
  };
  if (route?.operation) r.operation = `$${route.operation}`;
  const type = params.type ?? (typeof req.path[0] === 'string' && /^[A-Z]/.test(req.path[0]) ? req.path[0] : undefined);
  if (type) r.type = params.target && params.target !== '*' && route?.pattern.length === 3 ? params.target : type;
  if (params.id) r.id = params.id;
  if (params.vid) r.vid = params.vid;
  if (interaction.startsWith('search') || interaction.startsWith('history')) {
    const q = new URLSearchParams(req.query);
    q.delete('_cursor');
    if (typeof req.body === 'string') for (const [k, v] of new URLSearchParams(req.body)) q.append(k, v);
    r.query = q.toString();
  }
  if (params.type === 'Patient' && params.id && !r.patients.includes(params.id) && res.status < 400) r.patients.push(params.id);
  return r;
}

/** The records of writes about to be committed: one per resource written. */
export function writeRecords(req: FhirRequest, writes: readonly PendingWrite[], existed: (w: PendingWrite) => boolean): AccessRecord[] {
  return writes.map((w) => {
    const interaction: RestInteraction = w.method === 'DELETE' ? 'delete' : w.method === 'PATCH' ? 'patch' : existed(w) ? 'update' : 'create';
    const r: AccessRecord = {
      interaction,
      type: w.type,
      id: w.id,
      status: 200,
      agent: agentOf(req.principal, req.clientAddress),
      patients: w.resource ? patientsOf(w.resource) : [],
      recorded: new Date(),
    };
    return r;
  });
}

/** Patient ids a response carries: Patients themselves and top-level references to a Patient. */
export function patientsIn(body: Resource | undefined): string[] {
  if (!body) return [];
  if (body.resourceType !== 'Bundle') return patientsOf(body);
  const out = new Set<string>();
  for (const e of (body as Bundle).entry ?? []) if (e.resource) for (const p of patientsOf(e.resource)) out.add(p);
  return [...out];
}

/**
 * Cheap by design (it runs on every read): the patient itself, or the Patient references
 * among a resource's top-level elements (subject, patient, beneficiary, ...).
 */
export function patientsOf(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  if (resource.resourceType === 'OperationOutcome') return [];
  const out = new Set<string>();
  const look = (v: unknown) => {
    const ref = (v as { reference?: unknown } | null)?.reference;
    if (typeof ref === 'string' && ref.startsWith('Patient/')) out.add(ref.slice(8).split('/')[0]!);
  };
  for (const v of Object.values(resource)) {
    if (Array.isArray(v)) v.forEach(look);
    else if (v && typeof v === 'object') look(v);
  }
  return [...out];
}
