/**
 * `/flint/sync` and `/flint/conflicts` (docs/sync.md), transport-free: the HTTP layer
 * authenticates, decodes and serializes; this decides who may do what and does it.
 * Errors are FhirErrors (OperationOutcome with a status), like the FHIR API's.
 *
 *   GET  /flint/sync                    the status (any signed-in user)
 *   GET  /flint/sync/events             the status as server-sent events (any signed-in user)
 *   PUT  /flint/sync {"paused": bool}   pause or resume (admin)
 *   GET  /flint/sync/quarantine         what arrived invalid (admin)
 *   GET  /flint/conflicts               open conflicts of the types the caller may read
 *   POST /flint/conflicts/{type}/{id}   {"keep": vid} | {"resource": {...}} (update right on the type)
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, conflict, forbidden, invalidResource, methodNotAllowed, notFound, unprocessable } from '../../../shared/fhir/outcome';
import { DUPLICATE_REVIEWED_CODE, SYNC_SYSTEM, withoutConflictTag } from '../../../shared/fhir/sync-tags';
import { decide } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import type { AuditRecorder } from '../audit/recorder';
import type { AccessRecord, SecurityRecord } from '../audit/types';
import { hasErrors, type Validator } from '../fhir/validation/validator';
import type { ConflictRow, DuplicateRow } from '../search/index/index-db';
import { lockKey, type ResourceStore } from '../store/resource-store';
import type { SyncEngine } from './sync-engine';
import { readSyncSettings, writeSyncSettings } from './sync-config';
import type { AuthedFlintRequest, FlintApiResponse, FlintApiRequest, FlintRoute } from '../flint-api/types';

type SyncApiRequest = AuthedFlintRequest;
type SyncApiResponse = FlintApiResponse;

export interface SyncApiOptions {
  dataDir: string;
  engine: SyncEngine;
  store: ResourceStore;
  validator: Validator;
  conflicts: () => ConflictRow[];
  duplicates: () => DuplicateRow[];
  isKnownType: (type: string) => boolean;
  audit?: AuditRecorder;
}

export interface ConflictEntry {
  type: string;
  id: string;
  kind: 'edit' | 'delete' | 'duplicate';
  current: string;
  versions: string[];
  /** For duplicates: the other Patients sharing the identifier. */
  duplicates?: string[];
  identifier?: { system: string; value: string };
}

/** The `sync` and `conflicts` routes of /flint. */
export function createSyncRoutes(o: SyncApiOptions): FlintRoute[] {
  const handle = createSyncApi(o);
  return [
    { prefix: 'sync', handle },
    { prefix: 'conflicts', handle },
  ];
}

function createSyncApi(o: SyncApiOptions): (req: FlintApiRequest) => Promise<SyncApiResponse> {
  const agentOf = (req: SyncApiRequest) => {
    const p = req.principal;
    const a: AccessRecord['agent'] = { clientId: p.clientId };
    if (p.username) a.username = p.username;
    if (p.fhirUser) a.fhirUser = p.fhirUser;
    if (!p.subject.startsWith('client:') && !p.subject.startsWith('cli:')) a.userId = p.subject;
    if (req.address) a.address = req.address;
    return a;
  };

  function listConflicts(p: Principal): ConflictEntry[] {
    const out: ConflictEntry[] = [];
    for (const c of o.conflicts()) {
      if (!decide(p, c.type, 'read').allow) continue;
      out.push({ type: c.type, id: c.id, kind: c.kind, current: c.current, versions: c.versions });
    }
    if (decide(p, 'Patient', 'read').allow) {
      const listed = new Set(out.filter((e) => e.type === 'Patient').map((e) => e.id));
      for (const d of o.duplicates()) {
        for (const patient of d.patients) {
          if (listed.has(patient.id)) continue;
          listed.add(patient.id);
          out.push({
            type: 'Patient',
            id: patient.id,
            kind: 'duplicate',
            current: patient.vid,
            versions: [patient.vid],
            duplicates: d.patients.filter((x) => x.id !== patient.id).map((x) => `Patient/${x.id}`),
            identifier: { system: d.system, value: d.value },
          });
        }
      }
    }
    return out;
  }

  async function resolve(req: SyncApiRequest, type: string, id: string): Promise<SyncApiResponse> {
    if (!o.isKnownType(type)) throw notFound(`Unknown resource type ${type}`);
    const decision = decide(req.principal, type, 'update');
    if (!decision.allow || decision.restrictions) throw forbidden(`Resolving a conflict needs the right to update every ${type}`);
    const body = req.body as { keep?: unknown; resource?: unknown } | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Send {"keep": "<versionId>"} or {"resource": {...}}');
    const hasKeep = body.keep !== undefined;
    const hasResource = body.resource !== undefined;
    if (hasKeep === hasResource) throw badRequest('Send exactly one of "keep" and "resource"');
    if (hasKeep && typeof body.keep !== 'string') throw badRequest('"keep" must be a versionId string');
    let given: Resource | undefined;
    if (hasResource) {
      const r = body.resource as Resource;
      if (!r || typeof r !== 'object' || Array.isArray(r) || r.resourceType !== type) throw badRequest(`"resource" must be a ${type}`);
      if (r.id !== undefined && r.id !== id) throw badRequest(`"resource".id must be ${id}`);
      given = withoutConflictTag({ ...r, id } as Resource);
      const issues = o.validator.validate(given);
      if (hasErrors(issues)) throw invalidResource(issues);
    }
    const open = o.conflicts().find((c) => c.type === type && c.id === id);
    const duplicate = !open && type === 'Patient' ? o.duplicates().find((d) => d.patients.some((p) => p.id === id)) : undefined;
    if (!open && !duplicate) throw notFound(`${type}/${id} has no open conflict`);
    const result = await o.store.locks.resources([lockKey(type, id)], async () => {
      if (open) {
        let content = given;
        let deleted = false;
        if (hasKeep) {
          const keep = body.keep as string;
          if (!open.versions.includes(keep)) throw unprocessable(`${keep} is not one of the versions in conflict (${open.versions.join(', ')})`);
          const v = await o.store.version(type, id, keep);
          if (!v) throw unprocessable(`version ${keep} is not on this workstation yet`);
          deleted = v.deleted || !v.resource;
          content = v.resource;
        }
        const record = await o.store.resolve(type, id, deleted ? undefined : content);
        if (!record) throw notFound(`${type}/${id} has no open conflict any more`);
        return record;
      }
      // A possible duplicate: a new version marked as reviewed (kept as is, or as given).
      const head = await o.store.head(type, id);
      if (!head?.resource || head.deleted) throw notFound(`${type}/${id} is not a current Patient`);
      if (hasKeep && body.keep !== head.vid) throw unprocessable(`keep must name the current version ${head.vid}`);
      const base = given ?? head.resource;
      const tags = (base.meta?.tag ?? []).filter((t) => !(t.system === SYNC_SYSTEM && t.code === DUPLICATE_REVIEWED_CODE));
      const resource = { ...base, meta: { ...base.meta, tag: [...tags, { system: SYNC_SYSTEM, code: DUPLICATE_REVIEWED_CODE }] } } as Resource;
      const heads = new Map([[lockKey(type, id), head]]);
      const [record] = await o.store.commit([{ type, id, method: 'PUT', resource }], heads);
      return record!;
    });
    await o.audit?.record([{ interaction: 'update', type, id, vid: result.vid, status: 200, agent: agentOf(req), patients: type === 'Patient' ? [id] : [], recorded: new Date() }]);
    await o.engine.refresh().catch(() => undefined);
    return { status: 200, body: { resolved: { type, id, versionId: result.vid, deleted: result.deleted } } };
  }

  return async (anyReq) => {
    const req = anyReq as SyncApiRequest;
    const [first, second, third, ...rest] = req.path;
    if (first === 'sync' && second === undefined) {
      if (req.method === 'GET' || req.method === 'HEAD') return { status: 200, body: o.engine.status.value };
      if (req.method !== 'PUT') throw methodNotAllowed('Allowed here: GET, PUT');
      if (!req.principal.admin) throw forbidden('Pausing and resuming sync needs the admin role');
      const paused = (req.body as { paused?: unknown } | undefined)?.paused;
      if (typeof paused !== 'boolean') throw badRequest('Send {"paused": true} or {"paused": false}');
      const settings = readSyncSettings(o.dataDir);
      if (!settings) throw conflict('Sync is not configured: run flint sync configure first');
      if (paused) settings.paused = true;
      else delete settings.paused;
      writeSyncSettings(o.dataDir, settings);
      await o.engine.reload();
      const r: SecurityRecord = { kind: 'settings-changed', ok: true, agent: agentOf(req), subject: 'sync', detail: paused ? 'sync paused' : 'sync resumed', recorded: new Date() };
      await o.audit?.record([r]);
      return { status: 200, body: o.engine.status.value };
    }
    if (first === 'sync' && second === 'events' && third === undefined) {
      if (req.method !== 'GET') throw methodNotAllowed('Allowed here: GET');
      return { status: 200, events: o.engine.status.changes, eventName: 'status' };
    }
    if (first === 'sync' && second === 'quarantine' && third === undefined) {
      if (req.method !== 'GET') throw methodNotAllowed('Allowed here: GET');
      if (!req.principal.admin) throw forbidden('The quarantine list needs the admin role');
      return { status: 200, body: { quarantine: await o.engine.quarantine() } };
    }
    if (first === 'conflicts' && second === undefined) {
      if (req.method !== 'GET') throw methodNotAllowed('Allowed here: GET');
      return { status: 200, body: { conflicts: listConflicts(req.principal) } };
    }
    if (first === 'conflicts' && second && third && rest.length === 0) {
      if (req.method !== 'POST') throw methodNotAllowed('Allowed here: POST');
      return resolve(req, second, third);
    }
    throw notFound('Not found under /flint');
  };
}
