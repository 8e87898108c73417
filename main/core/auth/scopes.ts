/**
 * SMART on FHIR scopes, v1 (`patient/Observation.read`, `user/*.write`) and v2
 * (`patient/Observation.rs`, `user/*.cruds`, `patient/Observation.rs?category=laboratory`),
 * as grants over resource types x interactions. What a token may do is the intersection
 * of its grants with its user's role (access-policy.ts).
 */
import type { Interaction } from './roles';

export type ScopeContext = 'patient' | 'user' | 'system';

export interface Grant {
  context: ScopeContext;
  /** A resource type or '*'. */
  type: string;
  interactions: Interaction[];
  /** v2 query restriction (`?category=...`): matches must also meet it. */
  query?: URLSearchParams;
}

export interface ParsedScopes {
  grants: Grant[];
  /** Non-resource scopes: openid, fhirUser, offline_access, online_access, launch/patient, ... */
  other: Set<string>;
}

const V2: Record<string, Interaction[]> = {
  c: ['create'],
  r: ['read', 'history', 'operation'],
  u: ['update', 'patch'],
  d: ['delete'],
  s: ['search'],
};
const V1: Record<string, Interaction[]> = {
  read: [...V2.r!, ...V2.s!],
  write: [...V2.c!, ...V2.u!, ...V2.d!],
  '*': [...V2.c!, ...V2.r!, ...V2.u!, ...V2.d!, ...V2.s!],
};

const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?.*)?$/;

/** Parses a space-separated scope string; unknown scopes are kept in `other` (and grant nothing). */
export function parseScopes(scope: string): ParsedScopes {
  const grants: Grant[] = [];
  const other = new Set<string>();
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    const m = RESOURCE_SCOPE.exec(s);
    if (!m) {
      other.add(s);
      continue;
    }
    const [, context, type = '', perms = '', query] = m;
    const interactions = V1[perms] ?? v2(perms);
    if (!interactions || (query && V1[perms])) {
      other.add(s); // malformed: grants nothing
      continue;
    }
    const g: Grant = { context: context as ScopeContext, type, interactions };
    if (query && query.length > 1) g.query = new URLSearchParams(query.slice(1));
    grants.push(g);
  }
  return { grants, other };
}

/** `cruds` letters in that order, each at most once (SMART v2). */
function v2(perms: string): Interaction[] | undefined {
  if (!/^c?r?u?d?s?$/.test(perms) || perms.length === 0) return undefined;
  return [...perms].flatMap((l) => V2[l]!);
}

/** The grants of `scopes` that cover `interaction` on `type`. */
export function grantsFor(scopes: ParsedScopes, type: string, interaction: Interaction): Grant[] {
  return scopes.grants.filter((g) => (g.type === '*' || g.type === type) && g.interactions.includes(interaction));
}

/** Keeps the requested scopes an app may have (its registered maximum), in request order. */
export function narrowScopes(requested: string, allowed: string): string {
  const allowedSet = new Set(allowed.split(/\s+/).filter(Boolean));
  const allowedGrants = parseScopes(allowed).grants;
  return requested
    .split(/\s+/)
    .filter(Boolean)
    .filter((s) => {
      if (allowedSet.has(s)) return true;
      const g = parseScopes(s).grants[0];
      // A narrower resource scope than one registered (user/Observation.rs under user/*.cruds).
      return !!g && g.interactions.every((i) => allowedGrants.some((a) => a.context === g.context && (a.type === '*' || a.type === g.type) && a.interactions.includes(i) && !a.query));
    })
    .join(' ');
}
