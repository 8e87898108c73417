/**
 * SMART on FHIR scopes, v1 (`patient/Observation.read`, `user/*.write`) and v2
 * (`patient/Observation.rs`, `user/*.cruds`, `patient/Observation.rs?category=laboratory`),
 * as grants over resource types x interactions. What a token may do is the intersection
 * of its grants with its user's role (access-policy.ts).
 */
import type { Interaction, Permission } from './roles';

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

const LETTERS = ['c', 'r', 'u', 'd', 's'] as const;

/**
 * What is left of the requested scopes within `allowed` (an app's registered maximum, or
 * a grant being refreshed), unique and in request order; '' when nothing is. A scope
 * listed in `allowed` is kept as written; any other resource scope is cut down to the
 * part the allowed resource scopes cover, in SMART v2 letters (SMART lets a server grant
 * less than asked): `system/*.cruds` under `system/*.rs` gives `system/*.rs`, and
 * `user/*.rs` under `user/Observation.rs` gives `user/Observation.rs`. Other scopes
 * (openid, launch/patient, ...) only as listed.
 */
export function narrowScopes(requested: string, allowed: string, isType: (type: string) => boolean = () => true): string {
  const allowedSet = new Set(allowed.split(/\s+/).filter(Boolean));
  const allowedGrants = parseScopes(allowed).grants;
  const out: string[] = [];
  const add = (scope: string) => {
    if (!out.includes(scope)) out.push(scope);
  };
  for (const scope of requested.split(/\s+/).filter(Boolean)) {
    const type = RESOURCE_SCOPE.exec(scope)?.[2];
    if (type && type !== '*' && !isType(type)) continue; // a type that does not exist grants nothing
    if (allowedSet.has(scope)) {
      add(scope);
      continue;
    }
    const g = parseScopes(scope).grants[0];
    if (!g) continue;
    const parts = allowedGrants.map((a) => covered(g, a)).filter((p): p is Grant => p !== undefined);
    // Covered whole: granted as asked for (a v1 scope stays v1).
    if (parts.some((p) => p.type === g.type && String(p.query) === String(g.query) && g.interactions.every((i) => p.interactions.includes(i)))) {
      add(scope);
      continue;
    }
    // A part for one type says nothing a part for every type does not already say.
    const redundant = (p: Grant) =>
      p.type !== '*' && parts.some((q) => q.type === '*' && String(q.query) === String(p.query) && p.interactions.every((i) => q.interactions.includes(i)));
    for (const p of parts) if (!redundant(p)) add(scopeText(p));
  }
  return out.join(' ');
}

const scopeText = (g: Grant): string =>
  `${g.context}/${g.type}.${LETTERS.filter((l) => V2[l]!.every((i) => g.interactions.includes(i))).join('')}${g.query ? `?${g.query.toString()}` : ''}`;

/** The part of grant `g` that grant `a` covers, in whole v2 letters; undefined when none. */
function covered(g: Grant, a: Grant): Grant | undefined {
  if (a.context !== g.context) return undefined;
  const type = g.type === '*' ? a.type : a.type === '*' || a.type === g.type ? g.type : undefined;
  if (!type) return undefined;
  if (g.query && a.query && g.query.toString() !== a.query.toString()) return undefined;
  const letters = LETTERS.filter((l) => V2[l]!.every((i) => g.interactions.includes(i) && a.interactions.includes(i)));
  if (letters.length === 0) return undefined;
  const query = g.query ?? a.query;
  return { context: g.context, type, interactions: letters.flatMap((l) => V2[l]!), ...(query ? { query } : {}) };
}

/**
 * The system scopes a backend service acting with these role permissions could ever use:
 * a letter for each interaction group the role allows any part of (an exporter's read and
 * search give `system/*.rs`: a bulk client gets no write scope, whatever it asks for).
 */
export function systemScopesOf(permissions: readonly Permission[]): string {
  return permissions
    .flatMap((p) => {
      const letters = LETTERS.filter((l) => V2[l]!.some((i) => p.interactions.includes(i))).join('');
      return letters ? p.types.map((t) => `system/${t}.${letters}`) : [];
    })
    .join(' ');
}
