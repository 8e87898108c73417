/**
 * What every screen needs: the API clients, the signed-in user's session (roles,
 * permissions, idle time) and `can(type, interaction)` to hide what the user may not do.
 * The core still decides every request; hiding is only for clarity.
 */
import { createContext, useContext } from 'react';
import type { FhirApi } from '../api/fhir';
import type { FlintApi, SessionInfo } from '../api/flint';
import type { AuthClient } from '../auth/auth-client';

export type Interaction = 'read' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete' | 'operation';

export interface FlintContextValue {
  auth: AuthClient;
  fhir: FhirApi;
  flint: FlintApi;
  session: SessionInfo;
  can(type: string, interaction: Interaction): boolean;
}

export const FlintContext = createContext<FlintContextValue | undefined>(undefined);

export function useFlint(): FlintContextValue {
  const v = useContext(FlintContext);
  if (!v) throw new Error('useFlint outside a signed-in screen');
  return v;
}

/** Types only auditors see: a role's `*` does not include them (as in the core's roles.ts). */
const AUDITOR_ONLY = new Set(['AuditEvent']);

export function canWith(session: SessionInfo, type: string, interaction: Interaction): boolean {
  return session.permissions.some(
    (p) => p.interactions.includes(interaction) && (p.types.includes(type) || (p.types.includes('*') && !AUDITOR_ONLY.has(type))),
  );
}
