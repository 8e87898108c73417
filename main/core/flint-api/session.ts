/**
 * `GET /flint/session`: who the caller is and what it may do, for the UI to shape itself
 * (the server still decides every request: docs/access-control.md). Signed-in only.
 *
 *   {"username", "roles": [...], "admin", "fhirUser"?, "clientId", "scopes": [...],
 *    "permissions": [{"types", "interactions"}], "idleLockMinutes", "workstationId", "version"}
 *
 * `permissions` are the roles' narrowed by the token's scopes (effectivePermissions).
 */
import { methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import { effectivePermissions } from '../auth/access-policy';
import { FLINT_VERSION } from '../fhir/capability-statement';
import { readUiSettings } from './settings';
import type { AuthedFlintRequest, FlintApiRequest, FlintRoute } from './types';

export type { SessionInfo } from '../../../shared/api/session';
import type { SessionInfo } from '../../../shared/api/session';

export interface SessionRouteOptions {
  dataDir: string;
  workstationId: string;
}

export function createSessionRoute(o: SessionRouteOptions): FlintRoute {
  return {
    prefix: 'session',
    async handle(anyReq: FlintApiRequest) {
      const { principal: p, path, method } = anyReq as AuthedFlintRequest;
      if (path.length !== 1) throw notFound('Not found under /flint/session');
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('Allowed here: GET');
      const body: SessionInfo = {
        username: p.username ?? p.subject,
        roles: p.roles ?? [],
        admin: p.admin,
        ...(p.fhirUser ? { fhirUser: p.fhirUser } : {}),
        clientId: p.clientId,
        scopes: (p.scope ?? '').split(/\s+/).filter(Boolean),
        permissions: effectivePermissions(p),
        idleLockMinutes: readUiSettings(o.dataDir).idleLockMinutes,
        workstationId: o.workstationId,
        version: FLINT_VERSION,
      };
      return { status: 200, body };
    },
  };
}
