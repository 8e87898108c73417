/**
 * The access decision: may this principal do `interaction` on resources of `type`, and
 * under which restrictions? The effective right is the intersection of the user's roles
 * (roles.ts) and the token's scopes (scopes.ts). A scope may restrict the grant to the
 * launch patient's compartment (`patient/...`) and/or to a query (`?category=...`); the
 * grants that apply are OR-ed, the parts of one grant AND-ed. Pure: no I/O.
 */
import type { Principal } from './principal';
import { allows, AUDITOR_ONLY_TYPES, INTERACTIONS, type Interaction, type Permission } from './roles';
import { grantsFor } from './scopes';

export interface Restriction {
  /** Only resources in Patient/<id>'s compartment. */
  patient?: string;
  /** Only resources matching this search query. */
  query?: URLSearchParams;
}

export type Decision = { allow: false } | { allow: true; restrictions?: Restriction[] };

export const DENY: Decision = { allow: false };

export function decide(p: Principal, type: string, interaction: Interaction): Decision {
  if (!allows(p.permissions, type, interaction)) return DENY;
  const grants = grantsFor(p.scopes, type, interaction);
  if (grants.length === 0) return DENY;
  const restrictions: Restriction[] = [];
  for (const g of grants) {
    const r: Restriction = {};
    if (g.context === 'patient') {
      if (!p.patient) continue; // a patient/ scope without a launch patient grants nothing
      r.patient = p.patient;
    }
    if (g.query) r.query = g.query;
    if (r.patient === undefined && r.query === undefined) return { allow: true }; // one unrestricted grant suffices
    restrictions.push(r);
  }
  return restrictions.length > 0 ? { allow: true, restrictions } : DENY;
}

/**
 * What a principal may attempt, as permissions: each role permission narrowed by each
 * scope grant (types and interactions both), merged. A grant with a restriction (the
 * launch patient, a query) still counts: decide() applies the restriction per resource.
 * `*` keeps its meaning in roles: every type but AuditEvent. For a UI to show what is
 * possible; decide() remains the rule.
 */
export function effectivePermissions(p: Principal): Permission[] {
  const byTypes = new Map<string, Set<Interaction>>();
  const add = (types: string[], interactions: Interaction[]) => {
    if (types.length === 0 || interactions.length === 0) return;
    const key = JSON.stringify([...types].sort());
    const set = byTypes.get(key) ?? new Set<Interaction>();
    for (const i of interactions) set.add(i);
    byTypes.set(key, set);
  };
  for (const perm of p.permissions) {
    for (const g of p.scopes.grants) {
      const interactions = perm.interactions.filter((i) => g.interactions.includes(i));
      if (g.type === '*') add(perm.types, interactions);
      else if (perm.types.includes(g.type) || (perm.types.includes('*') && !AUDITOR_ONLY_TYPES.has(g.type))) add([g.type], interactions);
    }
  }
  return [...byTypes].map(([key, set]) => ({
    types: JSON.parse(key) as string[],
    interactions: INTERACTIONS.filter((i) => set.has(i)),
  }));
}
