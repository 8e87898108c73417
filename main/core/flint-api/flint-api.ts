/**
 * The /flint dispatcher: one route per first path segment, each in its own module
 * (sync and conflicts in main/core/sync/sync-api.ts, setup, session, admin, audit ...).
 */
import { notFound, unauthorized } from '../../../shared/fhir/outcome';
import type { FlintApi, FlintRoute } from './types';

export function createFlintApi(routes: readonly FlintRoute[]): FlintApi {
  const byPrefix = new Map<string, FlintRoute>();
  for (const r of routes) {
    if (byPrefix.has(r.prefix)) throw new Error(`two /flint routes for ${r.prefix}`);
    byPrefix.set(r.prefix, r);
  }
  const routeOf = (path: readonly string[]) => (path[0] === undefined ? undefined : byPrefix.get(path[0]));
  return {
    isPublic: (method, path) => routeOf(path)?.isPublic?.(method, path) ?? false,
    async handle(req) {
      const route = routeOf(req.path);
      if (!route) throw notFound('Not found under /flint');
      if (!req.principal && !route.isPublic?.(req.method, req.path)) throw unauthorized('This request needs an access token');
      return route.handle(req);
    },
  };
}
