/**
 * `/flint/reindex`: the search index rebuild as a background job with progress, for the
 * UI (docs/flint-api.md, "Rebuilding the search index"). Admins only (403 for everyone
 * else, on every path). The job is the one `POST /fhir/$reindex` runs
 * (search/reindex-job.ts): one at a time, 409 while either runs.
 *
 *   POST /flint/reindex          202 ReindexStatus (running); 409 while one runs
 *   GET  /flint/reindex          ReindexStatus
 *   GET  /flint/reindex/events   ReindexStatus as server-sent events (`event: progress`),
 *                                ended after done or failed (at once when none runs)
 *
 * Starting it is audited as `$reindex` is (an operation, subtype `$reindex`, with the acting
 * user as agent and the status answered), refused attempts too; if that record cannot be
 * written the answer is withheld (500). Reading the status is not recorded: it holds no PHI.
 */
import { FhirError, forbidden, internalError, methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import type { Observable } from 'rxjs';
import type { ReindexStatus } from '../../../shared/api/reindex';
import type { AuditRecorder } from '../audit/recorder';
import { agentOf } from './agent-of';
import type { AuthedFlintRequest, FlintApiResponse, FlintRoute } from './types';

export interface ReindexApiOptions {
  /** The server's rebuild job (search/reindex-job.ts createSearchReindexJob). */
  job: {
    status(): ReindexStatus;
    events(): Observable<ReindexStatus>;
    start(): { status: ReindexStatus };
  };
  /** Absent only with the audit trail off (`flint serve --no-audit`). */
  audit?: AuditRecorder;
  now?: () => Date;
}

export function createReindexRoute(o: ReindexApiOptions): FlintRoute {
  const now = o.now ?? (() => new Date());
  return {
    prefix: 'reindex',
    async handle(anyReq) {
      const req = anyReq as AuthedFlintRequest;
      const [, what, ...rest] = req.path;
      if (rest.length > 0 || (what !== undefined && what !== 'events')) {
        if (!req.principal.admin) throw forbidden('Rebuilding the search index needs the admin role');
        throw notFound('Not found under /flint/reindex');
      }
      if (what === undefined && req.method === 'POST') return recordedStart(req);
      if (!req.principal.admin) throw forbidden('Rebuilding the search index needs the admin role');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(what === undefined ? 'Allowed here: GET, POST' : 'Allowed here: GET');
      if (what === 'events') return { status: 200, events: o.job.events(), eventName: 'progress' };
      return { status: 200, body: o.job.status() };
    },
  };

  /**
   * Starts the job, then records the attempt with its status as `$reindex` is recorded (after
   * it, like the router does): if the record cannot be written, the answer is withheld (500).
   */
  async function recordedStart(req: AuthedFlintRequest): Promise<FlintApiResponse> {
    let res: FlintApiResponse | undefined;
    let error: unknown;
    try {
      if (!req.principal.admin) throw forbidden('Rebuilding the search index needs the admin role');
      res = { status: 202, body: o.job.start().status };
    } catch (e) {
      error = e;
    }
    const status = res ? res.status : error instanceof FhirError ? error.status : 500;
    try {
      await o.audit?.record([{ interaction: 'operation', operation: '$reindex', status, agent: agentOf(req), patients: [], recorded: now() }]);
    } catch {
      throw internalError();
    }
    if (error !== undefined) throw error;
    return res!;
  }
}
