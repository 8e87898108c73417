/**
 * The FHIR router: handle(request) -> response, with no transport in sight. It matches
 * the registry, checks the resource type, runs the handler and turns every error into
 * an OperationOutcome response; it never throws.
 */
import { FhirError, internalError, methodNotAllowed, notFound, unauthorized } from '../../../shared/fhir/outcome';
import { checkRoute, filterResponse } from './access-guard';
import { accessRecord } from './audit-records';
import type { RouteParams } from './interactions/route';
import { requestContext, type RequestState } from './request-context';
import { TYPE_PATTERN } from '../../../shared/fhir/ids';
import type { FhirContext } from './context';
import { routes, type Route } from './registry';
import { requireType, safeName } from './resource-input';
import { respond, type FhirRequest, type FhirResponse } from './types';

export type FaultLogger = (message: string) => void;

export function createRouter(services: FhirContext, logFault: FaultLogger) {
  const ctx: FhirContext = { ...services, dispatch: handle, logFault, useDefinitions: (defs) => void (ctx.defs = defs) };
  return handle;
  async function handle(req: FhirRequest): Promise<FhirResponse> {
    const state: RequestState = { writesRecorded: false };
    let route: Route | undefined;
    let params: RouteParams = {};
    let res: FhirResponse;
    try {
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const found = match(req.path, method);
      if (!found) throw notFound(`No route for ${safeName(req.method)} ${req.path.map(safeName).join('/')}`);
      if ('allowed' in found) throw methodNotAllowed(`Method not allowed here; allowed: ${found.allowed.join(', ')}`);
      route = found.route;
      params = found.params;
      if (params.type !== undefined) requireType(ctx, params.type);
      res = await run(req, route, params, state);
    } catch (e) {
      res = toResponse(e, logFault);
    }
    // The audit trail hears of every request (writes were recorded before they committed);
    // if it cannot record this one, the answer does not leave (fail closed).
    // A single write was recorded before it committed; a Bundle gets its own event besides its entries'.
    const bundle = route?.interaction === 'transaction' || route?.interaction === 'batch';
    const recordedAlready = state.writesRecorded && res.status < 400 && !bundle;
    if (ctx.audit && !recordedAlready) {
      try {
        await ctx.audit.record([accessRecord(req, route, params, res)]);
      } catch {
        logFault('audit record failed; the response was withheld');
        return toResponse(internalError(), logFault);
      }
    }
    return res;
  }

  /** Access control wraps the handler: decision before, checked commits during, filtering after. */
  async function run(req: FhirRequest, route: Route, params: RouteParams, state: RequestState): Promise<FhirResponse> {
    const principal = req.principal;
    const base = await contextFor(req, params);
    if (!principal) {
      if (ctx.accessControl && route.interaction !== 'capabilities') throw unauthorized('A bearer token is required');
      return route.handler(req, requestContext(base, req, undefined, ctx.audit, state), params);
    }
    await checkRoute(base, req, principal, route, params);
    const res = await route.handler(req, requestContext(base, req, principal, ctx.audit, state), params);
    return filterResponse(base, principal, res);
  }

  /** AuditEvent requests read the audit log's view; nothing writes AuditEvents through the API. */
  async function contextFor(req: FhirRequest, params: RouteParams): Promise<FhirContext> {
    if (params.type !== 'AuditEvent' || !ctx.auditView) {
      const indexing = ctx.replicasIndexed?.();
      if (indexing) await indexing;
      return ctx;
    }
    const reading = req.method === 'GET' || req.method === 'HEAD' || (req.method === 'POST' && req.path[1] === '_search');
    if (!reading) throw methodNotAllowed('AuditEvents are written by the audit trail only');
    await ctx.auditView.ready();
    return { ...ctx, store: ctx.auditView.store, search: ctx.auditView.search };
  }
}

export function toResponse(e: unknown, logFault: FaultLogger): FhirResponse {
  if (e instanceof FhirError) return respond(e.status, e.outcome);
  // Log where it failed, never the message (it may quote request content).
  const err = e instanceof Error ? e : new Error('non-error thrown');
  const where = (err.stack ?? '').split('\n').slice(1, 6).join(' | ');
  logFault(`unexpected ${err.name}: ${where}`);
  const fault = internalError();
  return respond(fault.status, fault.outcome);
}

type Match = { route: Route; params: RouteParams } | { allowed: string[] };

function match(path: string[], method: string): Match | undefined {
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = bind(route, path);
    if (!params) continue;
    if (route.method === method) return { route, params };
    allowed.add(route.method);
  }
  return allowed.size > 0 ? { allowed: [...allowed] } : undefined;
}

function bind(route: Route, path: string[]): RouteParams | undefined {
  if (route.pattern.length !== path.length) return undefined;
  const params: RouteParams = {};
  for (let i = 0; i < path.length; i++) {
    const want = route.pattern[i]!;
    const got = path[i]!;
    if (want === ':type') {
      if (!TYPE_PATTERN.test(got)) return undefined;
      params.type = got;
    } else if (want === ':id') {
      if (got.startsWith('$') || got.startsWith('_')) return undefined;
      params.id = got;
    } else if (want === ':vid') params.vid = got;
    else if (want === ':target') {
      if (got !== '*' && !TYPE_PATTERN.test(got)) return undefined;
      params.target = got;
    }
    else if (want === ':file') params.file = got;
    else if (want === ':op') {
      if (got !== `$${route.operation}`) return undefined;
      params.operation = route.operation as string;
    } else if (want !== got) return undefined;
  }
  return params;
}
