/**
 * $export kick-off (FHIR Bulk Data Access 2.0): GET or POST [base]/$export (every
 * resource), Patient/$export (the Patient compartments), Group/[id]/$export (the
 * compartments of the Group's member Patients). Needs `Prefer: respond-async`; answers
 * 202 with the status URL in Content-Location; the job (bulk/export-jobs.ts) writes the
 * files. The parameters are checked before anything starts (bulk/export-request.ts).
 *
 * Access: the caller needs the `export` permission (the exporter role, or admin) and may
 * export only what it may read and search: types it may not are left out (or refused,
 * when `_type` names them), and scope restrictions confine each type, as in a search.
 */
import type { Group, Meta, Resource } from '@medplum/fhirtypes';
import { decimalTextsOf, withDecimalTexts } from '../../../../shared/fhir/exact-json';
import { badRequest, forbidden, gone, notFound, tooManyRequests } from '../../../../shared/fhir/outcome';
import { allows, AUDITOR_ONLY_TYPES } from '../../auth/roles';
import { decide } from '../../auth/access-policy';
import type { ExportSource } from '../../bulk/export-jobs';
import { JobError } from '../../bulk/job-registry';
import { parseExportRequest, type ExportLevel, type ExportRequest } from '../../bulk/export-request';
import { parseCriteria, type Criterion } from '../../search/criteria';
import { associatedProvenance } from './export-provenance';
import type { HeadDoc } from '../../store/documents';
import type { FhirContext } from '../context';
import type { Handler } from '../interactions/route';
import { requireId, safeName } from '../resource-input';
import { respond, type FhirRequest } from '../types';

/** Heads read from the store at a time. */
const READ_BATCH = 500;
/**
 * From this many resources on, an export reads the whole change feed once (a page per
 * query) and keeps the wanted heads, rather than reading each one by id.
 */
const FEED_READ_MIN = 5_000;
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

export const exportSystem: Handler = (req, ctx) => kickOff(req, ctx, 'system');

export const exportPatients: Handler = (req, ctx, { type = '' }) => {
  if (type !== 'Patient') throw notFound(`$export is defined on Patient and Group, not ${safeName(type)}`);
  return kickOff(req, ctx, 'patient');
};

export const exportGroup: Handler = (req, ctx, { type = '', id = '' }) => {
  if (type !== 'Group') throw notFound(`$export is defined on Patient and Group, not ${safeName(type)}`);
  requireId(id);
  return kickOff(req, ctx, 'group', id);
};

/** Who owns a job: the principal's subject (anyone, when access control is off). */
export const jobOwner = (req: FhirRequest): string => req.principal?.subject ?? 'anonymous';

/** What an export reads: the FHIR services, or the same parts opened by `flint export`. */
export type ExportServices = Pick<FhirContext, 'store' | 'defs' | 'search' | 'compartments' | 'access'>;

/**
 * Checks an export request against what the caller (none: everything, as for `flint
 * export`) may export, and returns its source. Everything that can be refused is refused
 * here, before any job starts: types, filters, the group and its patients.
 */
export async function planExport(ctx: ExportServices, request: ExportRequest, principal: FhirRequest['principal']): Promise<ExportSource> {
  const types = exportTypes(ctx, principal, request);
  if (request.associated && principal && !mayExport(principal, 'Provenance')) {
    if (!request.lenient) throw forbidden('includeAssociatedData returns Provenance resources, which you are not permitted to export');
    request.ignored.push('includeAssociatedData was ignored: you are not permitted to export Provenance resources');
    delete request.associated;
  }
  const criteria = new Map(types.map((t) => [t, criteriaOf(ctx, t, request)]));
  const patients = request.level === 'system' ? undefined : await patientsOf(ctx, request);
  return sourceOf(ctx, request, types, criteria, patients);
}

async function kickOff(req: FhirRequest, ctx: FhirContext, level: ExportLevel, groupId?: string) {
  if (!ctx.exports) throw notFound('Bulk export is not enabled on this server');
  if (!/respond-async/i.test(req.headers.prefer ?? '')) throw badRequest('A bulk export runs asynchronously: send Prefer: respond-async');
  const principal = req.principal;
  if (principal && !principal.permissions.some((p) => p.interactions.includes('export'))) throw forbidden('You are not permitted to export');
  const parsed = parseExportRequest(req, ctx.defs, level, groupId);
  const source = await planExport(ctx, parsed, principal);
  const url = `${req.baseUrl}/${req.path.join('/')}${req.query.size > 0 ? `?${req.query.toString()}` : ''}`;
  let id: string;
  try {
    id = ctx.exports.start(jobOwner(req), url, req.baseUrl, source, parsed.ignored);
  } catch (e) {
    if (e instanceof JobError) throw tooManyRequests(e.message);
    throw e;
  }
  return respond(202, undefined, { 'Content-Location': `${req.baseUrl}/_export/${id}` });
}

/** The types to export: those asked for (or the level's), of those the caller may export. */
function exportTypes(ctx: ExportServices, principal: FhirRequest['principal'], request: ExportRequest): string[] {
  const levelTypes = request.level === 'system' ? ctx.defs.resourceTypes : ctx.compartments.memberTypes('Patient');
  if (request.types) {
    const outside = request.types.filter((t) => !levelTypes.includes(t));
    if (outside.length > 0) throw badRequest(`_type names types a ${request.level} export does not cover: ${outside.map(safeName).join(', ')}`);
  }
  const wanted = request.types ?? levelTypes.filter((t) => !AUDITOR_ONLY_TYPES.has(t));
  if (!principal) return [...wanted];
  const may = (t: string) => mayExport(principal, t);
  if (request.types && !request.types.every(may)) throw forbidden('You are not permitted to export every type in _type');
  return wanted.filter(may);
}

/** The caller may export, read and search resources of the type. */
function mayExport(principal: NonNullable<FhirRequest['principal']>, type: string): boolean {
  return allows(principal.permissions, type, 'export') && decide(principal, type, 'read').allow && decide(principal, type, 'search').allow;
}

/** Per type: the caller's scope, `_since`, and the `_typeFilter` queries (one of which must match). */
function criteriaOf(ctx: ExportServices, type: string, request: ExportRequest): Criterion[][] {
  const base: Criterion[] = [...(ctx.access?.scopeFor(type, 'search') ?? [])];
  if (request.since !== undefined) {
    const p = ctx.defs.searchParams(type).get('_lastUpdated');
    if (p) base.push({ kind: 'param', param: p, values: [`gt${new Date(request.since).toISOString()}`] });
  }
  const filters = request.typeFilters.get(type);
  if (!filters) return [base];
  const kept: Criterion[][] = [];
  for (const q of filters) {
    const parsed = parseCriteria(ctx.defs, type, q);
    if (parsed.unsupported.length > 0) {
      const what = `a _typeFilter for ${type} uses search parameters it does not have: ${parsed.unsupported.map(safeName).join(', ')}`;
      if (!request.lenient) throw badRequest(what);
      request.ignored.push(`${what}; that filter was ignored`);
      continue;
    }
    kept.push([...base, ...parsed.filters]);
  }
  // Every filter of the type ignored: the type unfiltered, as if none had been given.
  return kept.length > 0 ? kept : [base];
}

/** The patients a patient or group export covers (their ids). */
async function patientsOf(ctx: ExportServices, request: ExportRequest): Promise<string[]> {
  let ids: string[];
  if (request.level === 'group') {
    const head = (await ctx.store.heads([{ type: 'Group', id: request.groupId! }])).get(`Group/${request.groupId}`);
    if (!head) throw notFound(`Group/${safeName(request.groupId!)} is not known`);
    if (head.deleted || !head.resource) throw gone(`Group/${safeName(request.groupId!)} has been deleted`);
    const group = head.resource as Group;
    ids = (group.member ?? [])
      .filter((m) => m.inactive !== true)
      .map((m) => /^(?:.*\/)?Patient\/([^/]+)$/.exec(m.entity?.reference ?? '')?.[1])
      .filter((x): x is string => x !== undefined);
  } else {
    ids = ctx.search.matchIds('Patient', ctx.access?.scopeFor('Patient', 'search') ?? []);
  }
  if (request.patients) {
    const asked = new Set(request.patients);
    const unknown = request.patients.filter((p) => !ids.includes(p));
    if (unknown.length > 0) throw badRequest(`'patient' names patients outside this export: ${unknown.map(safeName).join(', ')}`);
    ids = ids.filter((p) => asked.has(p));
  }
  return [...new Set(ids)];
}

function sourceOf(ctx: ExportServices, request: ExportRequest, types: string[], criteria: Map<string, Criterion[][]>, patients: string[] | undefined): ExportSource {
  return async function* (signal, progress) {
    const transactionTime = Date.now();
    const plan = planOf(ctx, types, criteria, patients);
    const total = plan.reduce((n, p) => n + p.ids.length, 0);
    progress({ done: 0, total });
    // What was returned, for includeAssociatedData.
    const exported = new Set<string>();
    const exportedProvenance = new Set<string>();
    for await (const batch of planned(ctx, request, plan, total, transactionTime, signal)) {
      for (const r of batch.resources) {
        if (r.resourceType === 'Provenance') exportedProvenance.add(r.id!);
        else exported.add(`${r.resourceType}/${r.id}`);
      }
      yield batch;
    }
    if (!request.associated || signal.aborted) return;
    const provenance = associatedProvenance({
      mode: request.associated,
      exported,
      exportedProvenance,
      matchIds: (type, c) => ctx.search.matchIds(type, c),
      scope: ctx.access?.scopeFor('Provenance', 'search') ?? [],
      read: async (ids) => {
        const heads = await ctx.store.heads(ids.map((id) => ({ type: 'Provenance', id })));
        const out: Resource[] = [];
        for (const id of ids) {
          const r = await asOf(ctx, heads.get(`Provenance/${id}`), transactionTime);
          if (r) out.push(subset(r, request.elements));
        }
        return out;
      },
    });
    for await (const resources of provenance) {
      if (signal.aborted) return;
      yield { type: 'Provenance', resources };
    }
  };
}

/** The ids to export, by type: each type's criteria, confined to the patients' compartments. */
function planOf(ctx: ExportServices, types: string[], criteria: Map<string, Criterion[][]>, patients: string[] | undefined): Array<{ type: string; ids: string[] }> {
  // The compartment members of the patients, by type (row ids), for patient and group exports.
  let members: Map<string, number[]> | undefined;
  if (patients) {
    members = new Map();
    const params = ctx.compartments.memberParams('Patient');
    for (const pid of patients) {
      for (const k of ctx.search.index.compartmentKeys(params, 'Patient', pid)) {
        const list = members.get(k.type) ?? [];
        list.push(k.rid);
        members.set(k.type, list);
      }
    }
  }
  const plan: Array<{ type: string; ids: string[] }> = [];
  for (const type of types) {
    const confine: Criterion[] = [];
    if (members) {
      const rids = [...new Set(members.get(type) ?? [])];
      if (rids.length === 0) continue;
      confine.push({ kind: 'rids', rids });
    }
    const ids = new Set<string>();
    for (const c of criteria.get(type) ?? [[]]) for (const id of ctx.search.matchIds(type, [...confine, ...c])) ids.add(id);
    if (ids.size > 0) plan.push({ type, ids: [...ids].sort() });
  }
  return plan;
}

/** The planned resources as of the transaction time, a batch at a time. */
async function* planned(
  ctx: ExportServices,
  request: ExportRequest,
  plan: Array<{ type: string; ids: string[] }>,
  total: number,
  transactionTime: number,
  signal: AbortSignal,
): AsyncGenerator<{ type: string; resources: Resource[] }> {
  if (total >= FEED_READ_MIN) {
    // Most of the store: one pass over the change feed, keeping the wanted heads.
    const wanted = new Map(plan.map((p) => [p.type, new Set(p.ids)]));
    const seen = new Set<string>();
    for await (const page of ctx.store.allHeads()) {
      if (signal.aborted) return;
      const byType = new Map<string, Resource[]>();
      for (const head of page) {
        const key = `${head.type}/${head.id}`;
        if (!wanted.get(head.type)?.has(head.id) || seen.has(key)) continue;
        seen.add(key);
        const r = await asOf(ctx, head, transactionTime);
        if (!r) continue;
        const list = byType.get(head.type) ?? [];
        list.push(subset(r, request.elements));
        byType.set(head.type, list);
      }
      for (const [type, resources] of byType) yield { type, resources };
    }
    return;
  }
  for (const { type, ids } of plan) {
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      if (signal.aborted) return;
      const heads = await ctx.store.heads(ids.slice(i, i + READ_BATCH).map((id) => ({ type, id })));
      const resources: Resource[] = [];
      for (const id of ids.slice(i, i + READ_BATCH)) {
        const r = await asOf(ctx, heads.get(`${type}/${id}`), transactionTime);
        if (r) resources.push(subset(r, request.elements));
      }
      if (resources.length > 0) yield { type, resources };
    }
  }
}

/**
 * The resource as it was at the export's transaction time: the manifest promises nothing
 * later. A resource changed since is read from its history; one created since is left out.
 */
async function asOf(ctx: ExportServices, head: HeadDoc | undefined, at: number): Promise<Resource | undefined> {
  if (!head) return undefined;
  if (Date.parse(head.ts) <= at) return head.deleted ? undefined : head.resource;
  const versions = await ctx.store.history({ type: head.type, id: head.id });
  const then = versions.find((v) => Date.parse(v.ts) <= at);
  return then && !then.deleted ? then.resource : undefined;
}

/** `_elements`: the listed elements of the type (and of every type), plus what a resource cannot lose. */
function subset(resource: Resource, elements: Map<string, Set<string>> | undefined): Resource {
  if (!elements) return resource;
  const keep = new Set([...(elements.get('*') ?? []), ...(elements.get(resource.resourceType) ?? [])]);
  if (keep.size === 0) return resource;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    const base = k.replace(/^_/, '');
    if (k === 'resourceType' || k === 'id' || k === 'meta' || keep.has(base) || [...keep].some((e) => base.startsWith(e) && /^[A-Z]/.test(base.slice(e.length)))) out[k] = v;
  }
  const meta: Meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  out.meta = meta;
  return withDecimalTexts(out as unknown as Resource, decimalTextsOf(resource)); // texts of the kept elements still apply
}
