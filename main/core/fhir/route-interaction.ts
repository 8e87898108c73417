/**
 * Which FHIR interaction a matched route performs (the restful-interaction codes), the one
 * mapping that the audit trail records and the access guard decides on.
 */
import type { Interaction } from '../auth/roles';
import type { RestInteraction } from '../audit/types';
import type { Route } from './registry';
import type { FhirRequest } from './types';

export function interactionOf(route: Route | undefined, req: FhirRequest): RestInteraction {
  if (!route) return req.method === 'GET' ? 'read' : 'operation';
  if (route.operation) return 'operation';
  // POST [base] is one route for both kinds of Bundle: the body says which.
  if (route.interaction === 'transaction' || route.interaction === 'batch') {
    return (req.body as { type?: unknown } | undefined)?.type === 'batch' ? 'batch' : 'transaction';
  }
  if (route.interaction) return route.interaction;
  if (route.conditional === 'update') return 'update';
  if (route.conditional === 'patch') return 'patch';
  if (route.conditional === 'delete') return 'delete';
  return 'search-type'; // compartment search: BALP records it as a type search
}

/** The permission a route's interaction needs; undefined for system-level ones, whose parts are checked one by one. */
const PERMISSION: Partial<Record<RestInteraction, Interaction>> = {
  read: 'read',
  vread: 'read',
  'history-instance': 'history',
  'history-type': 'history',
  'search-type': 'search',
  create: 'create',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
  operation: 'operation',
};

export const permissionOf = (route: Route, req: FhirRequest): Interaction | undefined => PERMISSION[interactionOf(route, req)];
