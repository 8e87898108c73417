/**
 * $import kick-off (POST [base]/$import, in the shape the Azure FHIR service takes): a
 * Parameters resource with `inputFormat` (application/fhir+ndjson), `mode` (InitialLoad or
 * IncrementalLoad: the same here) and one `input` per source, each with a `url` and an
 * optional `type`. Flint is offline, so a url is a `file://` path on this workstation (an
 * NDJSON file, a JSON Bundle or resource, or a folder of them, Synthea output included) or
 * an `http(s)://` URL on loopback, read as it arrives (bulk/import-sources.ts). Needs `Prefer: respond-async`; answers 202 with the status URL.
 *
 * Each resource keeps its id and is written like an update, 500 to a commit: validated
 * like any write (a refused line goes to the job's error file as an OperationOutcome, and
 * the rest goes on), checked against the caller's rights and audited by the same commit
 * hook as every write, indexed and synced. One already stored with the same content is
 * left alone, so an import run again, after an interruption too, ends with each resource
 * once and no new versions. Transaction and batch Bundles go through the FHIR API whole.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decimalTextsOf } from '../../../../shared/fhir/exact-json';
import { badRequest, forbidden, isFhirError, notFound, outcome, tooManyRequests } from '../../../../shared/fhir/outcome';
import { JobError } from '../../bulk/job-registry';
import type { ImportProgress, ReportError } from '../../bulk/import-jobs';
import { itemPlace, readImportSources, readImportUrl } from '../../bulk/import-sources';
import { lockKey, type PendingWrite } from '../../store/resource-store';
import type { FhirContext } from '../context';
import type { Handler } from '../interactions/route';
import { validResource } from '../resource-input';
import { respond, type FhirRequest } from '../types';
import { agentOf } from '../audit-records';
import { jobOwner } from './export';

/** Resources written per store commit. */
export const IMPORT_BATCH = 500;

interface ImportInput {
  /** A file or folder on this workstation, or a document served on loopback. */
  source: { path: string } | { url: URL };
  type?: string;
}

export const importOperation: Handler = async (req, ctx) => {
  if (!ctx.imports) throw notFound('Bulk import is not enabled on this server');
  if (!/respond-async/i.test(req.headers.prefer ?? '')) throw badRequest('A bulk import runs asynchronously: send Prefer: respond-async');
  const principal = req.principal;
  if (principal && !principal.permissions.some((p) => p.interactions.includes('import'))) throw forbidden('You are not permitted to import');
  const inputs = parseImportRequest(req, ctx);
  const url = `${req.baseUrl}/$import`;
  let id: string;
  try {
    id = ctx.imports.start(jobOwner(req), url, req.baseUrl, (signal, progress, report) => auditedImport({ ctx, req, inputs, signal, progress, report }));
  } catch (e) {
    if (e instanceof JobError) throw tooManyRequests(e.message);
    throw e;
  }
  return respond(202, undefined, { 'Content-Location': `${req.baseUrl}/_import/${id}` });
};

function parseImportRequest(req: FhirRequest, ctx: FhirContext): ImportInput[] {
  const body = req.body as { resourceType?: unknown; parameter?: unknown } | undefined;
  if (body?.resourceType !== 'Parameters' || !Array.isArray(body.parameter)) throw badRequest('$import takes a Parameters resource');
  const inputs: ImportInput[] = [];
  for (const p of body.parameter as Array<{ name?: unknown; valueString?: unknown; valueCode?: unknown; part?: unknown }>) {
    const value = p.valueString ?? p.valueCode;
    if (p.name === 'inputFormat') {
      if (value !== 'application/fhir+ndjson') throw badRequest('inputFormat must be application/fhir+ndjson');
    } else if (p.name === 'mode') {
      if (value !== 'InitialLoad' && value !== 'IncrementalLoad') throw badRequest('mode must be InitialLoad or IncrementalLoad');
    } else if (p.name === 'input') {
      const parts = Array.isArray(p.part) ? (p.part as Array<{ name?: unknown; valueString?: unknown; valueUri?: unknown; valueUrl?: unknown }>) : [];
      const url = parts.find((x) => x.name === 'url');
      const type = parts.find((x) => x.name === 'type')?.valueString;
      const n = inputs.length + 1;
      const raw = url?.valueUri ?? url?.valueUrl ?? url?.valueString;
      if (typeof raw !== 'string') throw badRequest(`input ${n} has no url`);
      if (type !== undefined && (typeof type !== 'string' || !ctx.defs.isResourceType(type))) throw badRequest(`input ${n} names an unknown type`);
      inputs.push({ source: sourceOf(raw, n), ...(typeof type === 'string' ? { type } : {}) });
    } else if (p.name !== 'storageDetail') {
      throw badRequest(`$import does not take '${typeof p.name === 'string' ? p.name.slice(0, 40) : '?'}'`);
    }
  }
  if (inputs.length === 0) throw badRequest('$import needs at least one input');
  return inputs;
}

/**
 * A file:// URL on this workstation, which must exist, or an http(s):// URL on loopback
 * (Flint is offline: nothing is fetched from another machine), without credentials in it.
 */
function sourceOf(raw: string, n: number): ImportInput['source'] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw badRequest(`input ${n}: the url is not a URL`);
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw badRequest(`input ${n}: http(s) inputs must be on this workstation (127.0.0.1, localhost or [::1])`);
    if (u.username || u.password) throw badRequest(`input ${n}: put no credentials in an input's url`);
    return { url: u };
  }
  if (u.protocol !== 'file:') throw badRequest(`input ${n}: inputs are file:// paths on this workstation, or http(s):// URLs on loopback`);
  const path = fileURLToPath(u);
  if (!existsSync(path)) throw badRequest(`input ${n}: no such file or folder on this workstation`);
  return { path };
}

/**
 * The import, then one AuditEvent for the run with its counts (each write was recorded
 * before its commit as well). A run that failed is recorded too, with what it had done.
 */
async function auditedImport(run: ImportRunArgs): Promise<void> {
  const { ctx, req, progress } = run;
  let status = 200;
  try {
    await runImport(run);
  } catch (e) {
    status = 500;
    throw e;
  } finally {
    const counts = { read: progress.read, written: progress.written, unchanged: progress.unchanged, refused: progress.errors };
    const agent = agentOf(req.principal, req.clientAddress);
    await ctx.audit
      ?.record([{ interaction: 'operation', operation: '$import', status, agent, patients: [], counts, recorded: new Date() }])
      .catch(() => ctx.logFault?.('the audit record of an import could not be written'));
  }
}

/** One import run: the kick-off's context and request, its inputs, and the job's hooks. */
interface ImportRunArgs {
  ctx: FhirContext;
  req: FhirRequest;
  inputs: ImportInput[];
  signal: AbortSignal;
  progress: ImportProgress;
  report: ReportError;
}

/**
 * Reads, parses and validates the next batch while the one before is being committed
 * (store, index catch-up, audit: waits in which this thread was otherwise idle for about a
 * quarter of an import). Commits stay one at a time and in order.
 */
async function runImport({ ctx, req, inputs, signal, progress, report }: ImportRunArgs): Promise<void> {
  const refuse = (place: string, e: unknown) => report(outcomeAt(place, e));
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for (const input of inputs) {
      let batch: Array<{ resource: Resource; place: string }> = [];
      const keys = new Set<string>();
      const flush = async () => {
        if (batch.length > 0) {
          const valid = await validBatch(ctx, batch, refuse);
          await inFlight;
          inFlight = commitBatch(ctx, valid, progress, refuse);
          inFlight.catch(() => undefined); // handled where it is awaited (next batch, or the end)
        }
        batch = [];
        keys.clear();
      };
      const items = 'path' in input.source ? readImportSources([input.source.path]) : readImportUrl(input.source.url);
      for await (const item of items) {
        if (signal.aborted) return;
        progress.read++;
        const place = itemPlace(item);
        if (item.kind === 'error') {
          await refuse(place, badRequest(item.message));
        } else if (item.kind === 'bundle') {
          await flush();
          await inFlight;
          await importBundle(ctx, req, item.bundle, place, progress, refuse);
        } else if (input.type && item.resource.resourceType !== input.type) {
          await refuse(place, badRequest(`a ${item.resource.resourceType} in an input of ${input.type}`));
        } else {
          const key = `${item.resource.resourceType}/${String(item.resource.id)}`;
          if (keys.has(key)) await flush(); // the same resource again: its versions in order
          batch.push({ resource: item.resource, place });
          keys.add(key);
          if (batch.length >= IMPORT_BATCH) await flush();
        }
      }
      await flush();
    }
  } finally {
    await inFlight; // a store fault in the last commit ends the import with it
  }
}

type ValidItem = { resource: Resource; place: string };

/** The batch's valid resources; each invalid one is reported and left out. */
async function validBatch(ctx: FhirContext, batch: ValidItem[], refuse: (place: string, e: unknown) => Promise<void>): Promise<ValidItem[]> {
  const valid: ValidItem[] = [];
  for (const item of batch) {
    try {
      const r = item.resource;
      if (typeof r.id !== 'string') throw badRequest('an imported resource needs its id');
      valid.push({ resource: validResource(ctx, r, r.resourceType), place: item.place });
    } catch (e) {
      await refuse(item.place, e);
    }
  }
  return valid;
}

/** One commit: the valid resources of a batch whose content is not already stored. */
async function commitBatch(ctx: FhirContext, valid: ValidItem[], progress: ImportProgress, refuse: (place: string, e: unknown) => Promise<void>): Promise<void> {
  if (valid.length === 0) return;
  const keys = valid.map((v) => lockKey(v.resource.resourceType, v.resource.id!));
  try {
    await ctx.store.locks.resources(keys, async () => {
      const heads = await ctx.store.heads(valid.map((v) => ({ type: v.resource.resourceType, id: v.resource.id! })));
      const writes: PendingWrite[] = [];
      for (const { resource } of valid) {
        const head = heads.get(lockKey(resource.resourceType, resource.id!));
        if (head && !head.deleted && head.resource && sameContent(head.resource, resource)) progress.unchanged++;
        else writes.push({ type: resource.resourceType, id: resource.id!, method: 'PUT', resource });
      }
      if (writes.length > 0) await ctx.store.commit(writes, heads);
      progress.written += writes.length;
    });
  } catch (e) {
    if (!isFhirError(e)) throw e; // a store fault ends the import; what was committed stays
    for (const v of valid) await refuse(v.place, e); // refused whole (access): nothing of it was written
  }
}

/** A transaction or batch Bundle, through the FHIR API as the importing principal. */
async function importBundle(
  ctx: FhirContext,
  req: FhirRequest,
  bundle: Bundle,
  place: string,
  progress: ImportProgress,
  refuse: (place: string, e: unknown) => Promise<void>,
): Promise<void> {
  const sub: FhirRequest = { method: 'POST', path: [], query: new URLSearchParams(), headers: { prefer: 'return=minimal' }, body: bundle, baseUrl: req.baseUrl };
  if (req.principal) sub.principal = req.principal;
  const res = await ctx.dispatch!(sub);
  if (res.status === 200) {
    progress.written += bundle.entry?.length ?? 0;
    return;
  }
  const issues = (res.body as OperationOutcome | undefined)?.issue ?? [];
  await refuse(place, { status: res.status, outcome: { resourceType: 'OperationOutcome', issue: issues } });
}

/** The OperationOutcome of a refused line, its place first (file and line, never content). */
function outcomeAt(place: string, e: unknown): OperationOutcome {
  const given = (e as { outcome?: OperationOutcome }).outcome;
  const issues = given?.issue?.length ? given.issue : outcome('error', 'exception', 'could not be imported').issue;
  return { resourceType: 'OperationOutcome', issue: issues.map((i) => ({ ...i, diagnostics: `${place}: ${i.diagnostics ?? ''}`.trim() })) };
}

/** The same resource, whatever its version and time stamps and key order. */
function sameContent(stored: Resource, incoming: Resource): boolean {
  return canonical(stored) === canonical(incoming) && canonical(decimalTextsOf(stored) ?? {}) === canonical(decimalTextsOf(incoming) ?? {});
}

function canonical(value: unknown): string {
  const strip = (v: unknown, depth: number): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x, depth + 1));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      let x = (v as Record<string, unknown>)[k];
      if (depth === 0 && k === 'meta' && x && typeof x === 'object') {
        const { versionId: _v, lastUpdated: _l, ...rest } = x as Record<string, unknown>;
        if (Object.keys(rest).length === 0) continue;
        x = rest;
      }
      out[k] = strip(x, depth + 1);
    }
    return out;
  };
  return JSON.stringify(strip(value, 0));
}
