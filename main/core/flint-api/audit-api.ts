/**
 * `/flint/audit`: the checks and exports `flint audit verify|export` offer, for the UI
 * (docs/flint-api.md, docs/audit.md). For whoever may search AuditEvents under the access
 * policy (the auditor role; `*` in other roles never covers AuditEvent), else 403.
 *
 *   GET /flint/audit/verify               AuditVerification: the hash chain and the keychain head
 *   GET /flint/audit/export?<AuditEvent search parameters>
 *                                         application/fhir+ndjson, every match, oldest first
 *
 * The export runs the FHIR API's own AuditEvent search (the same criteria parser, the same
 * engine over the audit index) and is itself recorded in the audit trail, refused attempts
 * too; if that record cannot be written, nothing is exported (fail closed).
 */
import type { HeadDoc } from '../store/documents';
import { badRequest, forbidden, FhirError, internalError, methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import type { AuditVerification } from '../../../shared/api/audit';
import { decide } from '../auth/access-policy';
import type { AuditLog } from '../audit/audit-log';
import { AuditChainError } from '../audit/audit-log';
import { verifyAuditTrail } from '../audit/audit-verify';
import type { AuditRecorder } from '../audit/recorder';
import type { Definitions } from '../fhir/definitions';
import { safeName } from '../fhir/resource-input';
import { parseCriteria, RESULT_PARAMS } from '../search/criteria';
import type { IndexSearch } from '../search/index-search';
import { agentOf } from './agent-of';
import type { AuthedFlintRequest, FlintApiResponse, FlintRoute } from './types';

export interface AuditApiOptions {
  log: Pick<AuditLog, 'verify' | 'journalBacklog'>;
  /** The FHIR API's AuditEvent view: the events by id, their search index, and its catch-up. */
  view: {
    store: { heads(keys: Array<{ type: string; id: string }>): Promise<Map<string, HeadDoc>> };
    search: IndexSearch;
    ready(): Promise<void>;
  };
  /** The definitions the FHIR API searches with (they change with `$reindex`). */
  defs: () => Definitions;
  /** Absent only with the audit trail off (`flint serve --no-audit`). */
  audit?: AuditRecorder;
  now?: () => Date;
}

/**
 * Page-shaping parameters a viewer sends along (its `_sort`, `_count`...): an export has no
 * pages, so they are ignored. The others would change what is exported, so they are refused.
 */
const IGNORED = new Set(['_count', '_sort', '_cursor', '_total', '_format', '_pretty']);
const TYPE = 'AuditEvent';
/** Events read from the log per step. */
const CHUNK = 500;

export function createAuditRoute(o: AuditApiOptions): FlintRoute {
  const now = o.now ?? (() => new Date());
  return {
    prefix: 'audit',
    async handle(anyReq) {
      const req = anyReq as AuthedFlintRequest;
      const [, what, ...rest] = req.path;
      if (rest.length > 0 || (what !== 'verify' && what !== 'export')) throw notFound('Not found under /flint/audit');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('Allowed here: GET');
      return recorded(req, what, () => {
        const decision = decide(req.principal, TYPE, 'search');
        if (!decision.allow) throw forbidden('The audit trail is for auditors: this needs the right to search AuditEvents');
        // A confined grant (a patient's compartment, a query) cannot be applied to a whole-trail check or export.
        if (decision.restrictions) throw forbidden('This needs the right to search every AuditEvent');
        return what === 'verify' ? verify() : exportEvents(req.query);
      });
    },
  };

  /** Runs `fn` and records the attempt (its status) as an operation on AuditEvent; no record, no answer. */
  async function recorded(req: AuthedFlintRequest, what: 'verify' | 'export', fn: () => Promise<FlintApiResponse>): Promise<FlintApiResponse> {
    let res: FlintApiResponse | undefined;
    let error: unknown;
    try {
      res = await fn();
    } catch (e) {
      error = e;
    }
    const status = res ? res.status : error instanceof FhirError ? error.status : 500;
    try {
      await o.audit?.record([
        {
          interaction: 'operation',
          operation: `audit-${what}`,
          type: TYPE,
          ...(what === 'export' ? { query: req.query.toString() } : {}),
          status,
          agent: agentOf(req),
          patients: what === 'export' && status < 400 ? patientsOf(req.query) : [],
          recorded: now(),
        },
      ]);
    } catch {
      throw internalError();
    }
    if (error !== undefined) throw error;
    return res!;
  }

  async function verify(): Promise<FlintApiResponse> {
    const checkedAt = now().toISOString();
    let body: AuditVerification;
    try {
      const v = await verifyAuditTrail(o.log);
      if (v.ok) body = { ok: true, events: v.events, checkedAt, journalPending: v.journalPending };
      else if (v.where === 'chain') body = { ok: false, events: v.seq - 1, checkedAt, seq: v.seq, problem: `event ${v.seq}: ${v.problem}` };
      else body = { ok: false, events: v.events, checkedAt, problem: `the audit journal: ${v.problem}` };
    } catch (e) {
      if (!(e instanceof AuditChainError)) throw e;
      // The keychain's chain head is unreadable: the chain cannot be checked against it.
      body = { ok: false, events: 0, checkedAt, problem: e.message };
    }
    return { status: 200, body };
  }

  async function exportEvents(query: URLSearchParams): Promise<FlintApiResponse> {
    const refused = [...new Set([...query.keys()].filter((k) => RESULT_PARAMS.has(k) && !IGNORED.has(k)))];
    if (refused.length > 0) throw badRequest(`An export takes search parameters only, not ${refused.map(safeName).join(', ')}`);
    const criteriaQuery = new URLSearchParams([...query].filter(([k]) => !IGNORED.has(k)));
    await o.view.ready();
    const { filters, unsupported } = parseCriteria(o.defs(), TYPE, criteriaQuery);
    if (unsupported.length > 0) throw badRequest(`Unknown or unsupported AuditEvent search parameters: ${[...new Set(unsupported)].map(safeName).join(', ')}`);
    // One evaluation: the matches as of now. Events recorded meanwhile (this export's own) are not in it.
    const ids = o.view.search.matchIds(TYPE, filters).sort(bySeq);
    const lines: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const keys = ids.slice(i, i + CHUNK).map((id) => ({ type: TYPE, id }));
      const heads = await o.view.store.heads(keys);
      for (const k of keys) {
        const resource = heads.get(`${TYPE}/${k.id}`)?.resource;
        if (resource) lines.push(JSON.stringify(resource));
      }
    }
    return {
      status: 200,
      raw: lines.length > 0 ? `${lines.join('\n')}\n` : '',
      contentType: 'application/fhir+ndjson',
      headers: { 'Cache-Control': 'no-store', 'Content-Disposition': 'attachment; filename="audit-events.ndjson"' },
    };
  }
}

/** Ids are `<workstationId>-<seq>`: the order they were written, oldest first. */
function bySeq(a: string, b: string): number {
  const d = seqOf(a) - seqOf(b);
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
}
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1)) || 0;

/** The patients an export was filtered to (`patient=Patient/1,Patient/2`): whose records left. */
function patientsOf(query: URLSearchParams): string[] {
  return query
    .getAll('patient')
    .flatMap((v) => v.split(','))
    .map((v) => v.replace(/^Patient\//, ''))
    .filter((id) => /^[A-Za-z0-9\-.]{1,64}$/.test(id));
}
