/**
 * The FHIR router: handle(request) -> response, with no transport in sight. It matches
 * the registry, checks the resource type, runs the handler and turns every error into
 * an OperationOutcome response; it never throws.
 */
import { FhirError, internalError, methodNotAllowed, notFound, unauthorized } from '../../../shared/fhir/outcome';
import { checkRoute, filterResponse, guardedContext } from './access-guard';
import { TYPE_PATTERN } from '../../../shared/fhir/ids';
import type { FhirContext } from './context';
import type { RouteParams } from './interactions/route';
import { routes, type Route } from './registry';
import { requireType, safeName } from './resource-input';
import { respond, type FhirRequest, type FhirResponse } from './types';

export type FaultLogger = (message: string) => void;

export function createRouter(services: FhirContext, logFault: FaultLogger) {
  const ctx: FhirContext = { ...services, dispatch: handle, logFault, useDefinitions: (defs) => void (ctx.defs = defs) };
  return handle;
  async function handle(req: FhirRequest): Promise<FhirResponse> {
    try {
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const found = match(req.path, method);
      if (!found) throw notFound(`No route for ${safeName(req.method)} ${req.path.map(safeName).join('/')}`);
      if ('allowed' in found) throw methodNotAllowed(`Method not allowed here; allowed: ${found.allowed.join(', ')}`);
      if (found.params.type !== undefined) requireType(ctx, found.params.type);
      const principal = req.principal;
      if (!principal) {
        if (ctx.accessControl && found.route.interaction !== 'capabilities') throw unauthorized('A bearer token is required');
        return await found.route.handler(req, ctx, found.params);
      }
      // Access control wraps the handler: decision before, a guarded store during, filtering after.
      await checkRoute(ctx, req, principal, found.route, found.params);
      const res = await found.route.handler(req, guardedContext(ctx, principal), found.params);
      return filterResponse(ctx, principal, res);
    } catch (e) {
      return toResponse(e, logFault);
    }
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
    else if (want === ':op') {
      if (got !== `$${route.operation}`) return undefined;
      params.operation = route.operation as string;
    } else if (want !== got) return undefined;
  }
  return params;
}
