/**
 * The status URL of a bulk export and its files (FHIR Bulk Data Access 2.0):
 *   GET    [base]/_export/[job]          202 with X-Progress and Retry-After while it runs;
 *                                        200 with the manifest (JSON) once complete;
 *                                        500 OperationOutcome if it failed
 *   DELETE [base]/_export/[job]          202: cancelled, or its files deleted
 *   GET    [base]/_export/[job]/[file]   the NDJSON file (application/fhir+ndjson)
 * Only the principal that started the export sees any of it; to anyone else a job is
 * unknown (404), as a job that expired is.
 */
import { forbidden, internalError, notFound, outcome } from '../../../../shared/fhir/outcome';
import { decide } from '../../auth/access-policy';
import { JobError } from '../../bulk/job-registry';
import { SealedFileError } from '../../bulk/sealed-file';
import { jobOwner } from '../operations/export';
import { respond, type FhirResponse } from '../types';
import type { Handler } from './route';

/** How long a client should wait between status requests, in seconds. */
const RETRY_AFTER_S = 2;

export const exportStatus: Handler = async (req, ctx, { id = '' }) =>
  known(async () => {
    const status = ctx.exports!.status(id, jobOwner(req));
    if (status.state === 'running') {
      const { done, total } = status.progress;
      return stillRunning(total === undefined ? 'preparing' : `${done} of ${total} resources`);
    }
    if (status.state === 'failed') return failed(status.message);
    return finished(status.manifest, { Expires: new Date(status.expires).toUTCString() });
  }, ctx.exports);

export const exportCancel: Handler = async (req, ctx, { id = '' }) =>
  known(async () => {
    await ctx.exports!.cancel(id, jobOwner(req));
    return respond(202, undefined);
  }, ctx.exports);

export const exportFile: Handler = async (req, ctx, { id = '', file = '' }) =>
  known(async () => {
    // The token of the download must still cover the file's type (a narrower token of
    // the same client, or one since restricted, gets nothing it no longer may read).
    const type = /^([A-Z][A-Za-z]+)-\d+\.ndjson$/.exec(file)?.[1];
    const p = req.principal;
    if (p && type && type !== 'OperationOutcome' && !(decide(p, type, 'read').allow && decide(p, type, 'search').allow)) {
      throw forbidden('Your token does not cover this file\'s resource type');
    }
    const data = await ctx.exports!.file(id, file, jobOwner(req));
    return { status: 200, headers: { 'Cache-Control': 'no-store' }, raw: { contentType: 'application/fhir+ndjson', data } };
  }, ctx.exports);

/** An import's status: 202 with progress while it runs, then its summary (JSON), or 500 if it failed. */
export const importStatus: Handler = async (req, ctx, { id = '' }) =>
  known(async () => {
    const status = ctx.imports!.status(id, jobOwner(req));
    if (status.state === 'running') {
      const p = status.progress;
      return stillRunning(`${p.read} read, ${p.written} written, ${p.unchanged} unchanged, ${p.errors} refused`);
    }
    if (status.state === 'failed') return failed(status.message);
    return finished(status.summary);
  }, ctx.imports);

export const importCancel: Handler = async (req, ctx, { id = '' }) =>
  known(async () => {
    await ctx.imports!.cancel(id, jobOwner(req));
    return respond(202, undefined);
  }, ctx.imports);

/** The refused lines of an import, as NDJSON OperationOutcomes. */
export const importErrors: Handler = async (req, ctx, { id = '', file = '' }) =>
  known(async () => {
    const data = await ctx.imports!.errors(id, file, jobOwner(req));
    return { status: 200, headers: { 'Cache-Control': 'no-store' }, raw: { contentType: 'application/fhir+ndjson', data } };
  }, ctx.imports);

/** The answers of a status URL: 202 with progress, 500 with what failed, 200 with the JSON result. */
const stillRunning = (progress: string): FhirResponse => respond(202, undefined, { 'X-Progress': progress, 'Retry-After': String(RETRY_AFTER_S) });
const failed = (message: string): FhirResponse => respond(500, outcome('error', 'exception', message));
const finished = (result: unknown, headers: Record<string, string> = {}): FhirResponse => ({
  status: 200,
  headers: { ...headers, 'Cache-Control': 'no-store' },
  raw: { contentType: 'application/json; charset=utf-8', data: Buffer.from(JSON.stringify(result), 'utf8') },
});

async function known(fn: () => Promise<FhirResponse>, jobs: unknown): Promise<FhirResponse> {
  if (!jobs) throw notFound('Bulk data is not enabled on this server');
  try {
    return await fn();
  } catch (e) {
    if (e instanceof JobError) throw notFound(e.message);
    if (e instanceof SealedFileError) throw internalError(); // tampered or cut: never served
    throw e;
  }
}
