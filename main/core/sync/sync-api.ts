/**
 * `/flint/sync` and `/flint/conflicts` (docs/sync.md), transport-free: the HTTP layer
 * authenticates, decodes and serializes; this decides who may do what and does it.
 * Errors are FhirErrors (OperationOutcome with a status), like the FHIR API's.
 *
 *   GET  /flint/sync                    the status (any signed-in user)
 *   GET  /flint/sync/events             the status as server-sent events (any signed-in user)
 *   PUT  /flint/sync {"paused": bool}   pause or resume (admin)
 *   GET  /flint/sync/quarantine         what arrived invalid (admin)
 *   GET  /flint/sync/settings           where it syncs to, never the password (admin)
 *   PUT  /flint/sync/settings           what `flint sync configure` does (admin)
 *   DELETE /flint/sync/settings         what `flint sync remove` does (admin)
 *   GET  /flint/conflicts               open conflicts of the types the caller may read
 *   POST /flint/conflicts/{type}/{id}   {"keep": vid} | {"resource": {...}} (update right on the type)
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, conflict, forbidden, invalidResource, methodNotAllowed, notFound, unprocessable } from '../../../shared/fhir/outcome';
import { DUPLICATE_REVIEWED_CODE, SYNC_SYSTEM, withoutConflictTag } from '../../../shared/fhir/sync-tags';
import { decide } from '../auth/access-policy';
import type { SyncSettingsView } from '../../../shared/api/sync-settings';
import type { Principal } from '../auth/principal';
import type { AuditRecorder } from '../audit/recorder';
import type { SecurityRecord } from '../audit/types';
import { agentOf } from '../flint-api/agent-of';
import { objectBody, stringMember } from '../flint-api/body';
import type { SecretStore } from '../secrets/secret-store';
import { hasErrors, type Validator } from '../fhir/validation/validator';
import type { ConflictRow, DuplicateRow } from '../search/index/index-db';
import { lockKey, type ResourceStore } from '../store/resource-store';
import type { SyncEngine } from './sync-engine';
import { auditRemoteOf, DEFAULT_MAX_RETRY_DELAY_S, readSyncSettings, type SyncSettings } from './sync-config';
import { configureSync, planSync, removeSync, setSyncPaused, type SyncPlan, type SyncSetupInput } from './sync-setup';
import type { AuthedFlintRequest, FlintApiResponse, FlintApiRequest, FlintRoute } from '../flint-api/types';

type SyncApiRequest = AuthedFlintRequest;
type SyncApiResponse = FlintApiResponse;

export interface SyncApiOptions {
  dataDir: string;
  workstationId: string;
  /** Where the sync password goes (the OS keychain). */
  secrets: SecretStore;
  engine: SyncEngine;
  store: ResourceStore;
  validator: Validator;
  conflicts: () => ConflictRow[];
  duplicates: () => DuplicateRow[];
  isKnownType: (type: string) => boolean;
  audit?: AuditRecorder;
}

export type { ConflictEntry } from '../../../shared/api/sync';
import type { ConflictEntry } from '../../../shared/api/sync';

/**
 * What GET /flint/conflicts lists: the open conflicts of the types `mayRead` allows, then
 * each Patient of an unreviewed duplicate group once (when Patients may be read). The
 * sync status counts the same entries (everything readable).
 */
export function conflictEntries(conflicts: readonly ConflictRow[], duplicates: readonly DuplicateRow[], mayRead: (type: string) => boolean = () => true): ConflictEntry[] {
  const out: ConflictEntry[] = [];
  for (const c of conflicts) {
    if (!mayRead(c.type)) continue;
    out.push({ type: c.type, id: c.id, kind: c.kind, current: c.current, versions: c.versions });
  }
  if (!mayRead('Patient')) return out;
  const listed = new Set(out.filter((e) => e.type === 'Patient').map((e) => e.id));
  for (const d of duplicates) {
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
  return out;
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
  const listConflicts = (p: Principal): ConflictEntry[] =>
    conflictEntries(o.conflicts(), o.duplicates(), (type) => decide(p, type, 'read').allow);

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

  async function recordSettings(req: SyncApiRequest, detail: string): Promise<void> {
    const r: SecurityRecord = { kind: 'settings-changed', ok: true, agent: agentOf(req), subject: 'sync', detail, recorded: new Date() };
    await o.audit?.record([r]);
  }

  function settingsView(): SyncSettingsView {
    let s: SyncSettings | undefined;
    try {
      s = readSyncSettings(o.dataDir);
    } catch {
      throw conflict('The sync settings file (sync.json) is damaged: save the sync settings again');
    }
    if (!s) return { configured: false };
    const v: SyncSettingsView = {
      configured: true,
      remote: s.remote,
      username: s.username,
      auditRemote: auditRemoteOf(s),
      paused: s.paused === true,
      maxRetryDelaySeconds: s.maxRetryDelay ?? DEFAULT_MAX_RETRY_DELAY_S,
      customCa: s.caFile !== undefined,
    };
    return v;
  }

  /** `flint sync configure` over HTTP: every member checked before the keychain and sync.json are written. */
  async function putSettings(req: SyncApiRequest): Promise<SyncApiResponse> {
    const b = objectBody(req, ['remote', 'username', 'password', 'caPem', 'auditRemote', 'maxRetryDelaySeconds'], '{"remote", "username", "password", "caPem"?, "auditRemote"?}');
    const input: SyncSetupInput = { remote: stringMember(b, 'remote', { required: true }), username: stringMember(b, 'username', { required: true }) };
    const password = stringMember(b, 'password');
    if (!password) throw badRequest('"password" is required: the password of the user on the server');
    const caPem = stringMember(b, 'caPem');
    if (caPem !== undefined && caPem.trim() !== '') input.caPem = caPem;
    const auditRemote = stringMember(b, 'auditRemote');
    if (auditRemote !== undefined && auditRemote.trim() !== '') input.auditRemote = auditRemote.trim();
    const delay = b['maxRetryDelaySeconds'];
    if (delay !== undefined) {
      if (typeof delay !== 'number') throw badRequest('"maxRetryDelaySeconds" must be a number of seconds');
      input.maxRetryDelay = delay;
    }
    let plan: SyncPlan;
    try {
      plan = planSync({ ...input, remote: input.remote.trim() });
    } catch (e) {
      if (e instanceof RangeError) throw badRequest(sentence(e.message));
      throw e;
    }
    const settings = await configureSync({ dir: o.dataDir, workstationId: o.workstationId }, o.secrets, plan, password);
    await o.engine.reload();
    await recordSettings(req, `sync configured: ${settings.remote} as ${settings.username}`);
    return { status: 200, body: settingsView() };
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
      if (!setSyncPaused(o.dataDir, paused)) throw conflict('Sync is not configured: set it up first (PUT /flint/sync/settings or flint sync configure)');
      await o.engine.reload();
      await recordSettings(req, paused ? 'sync paused' : 'sync resumed');
      return { status: 200, body: o.engine.status.value };
    }
    if (first === 'sync' && second === 'settings' && third === undefined) {
      if (!req.principal.admin) throw forbidden('The sync settings need the admin role');
      if (req.method === 'GET' || req.method === 'HEAD') return { status: 200, body: settingsView() };
      if (req.method === 'PUT') return putSettings(req);
      if (req.method === 'DELETE') {
        const had = await removeSync({ dir: o.dataDir, workstationId: o.workstationId }, o.secrets); // the running engine keeps its inbox
        await o.engine.reload();
        if (had) await recordSettings(req, 'sync removed');
        return { status: 200, body: settingsView() };
      }
      throw methodNotAllowed('Allowed here: GET, PUT, DELETE');
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

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
