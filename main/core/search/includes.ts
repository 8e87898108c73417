/**
 * `_include` and `_revinclude` (with `:iterate`, and `*` for every reference parameter):
 * which resources to add to a page of matches. Works on index rows only; the caller
 * reads the resources. Iteration stops when a round adds nothing, or after MAX_ROUNDS.
 */
import type { Definitions } from '../fhir/definitions';
import type { KeyedRid } from './index/join-queries';
import type { SearchIndexQueries } from './index-search';

export interface IncludeSpec {
  reverse: boolean;
  iterate: boolean;
  sourceType: string;
  /** undefined: every reference parameter of the source type (`*`). */
  param?: string;
  targetType?: string;
}

const MAX_ROUNDS = 8;
const KEYS = ['_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_include:recurse', '_revinclude:recurse'];

export function parseIncludes(defs: Definitions, query: URLSearchParams): { specs: IncludeSpec[]; unsupported: string[] } {
  const specs: IncludeSpec[] = [];
  const unsupported: string[] = [];
  for (const key of KEYS) {
    for (const value of query.getAll(key)) {
      const spec = parseOne(defs, key, value);
      if (spec) specs.push(spec);
      else unsupported.push(`${key}=${value}`);
    }
  }
  return { specs, unsupported };
}

function parseOne(defs: Definitions, key: string, value: string): IncludeSpec | undefined {
  const reverse = key.startsWith('_revinclude');
  const iterate = key.endsWith(':iterate') || key.endsWith(':recurse');
  if (value === '*') return reverse ? undefined : { reverse, iterate, sourceType: '*' };
  const [sourceType = '', code = '', targetType, extra] = value.split(':');
  if (extra !== undefined || !defs.isResourceType(sourceType)) return undefined;
  const spec: IncludeSpec = { reverse, iterate, sourceType };
  if (code !== '*') {
    const p = defs.searchParams(sourceType).get(code);
    if (!p || p.type !== 'reference') return undefined;
    spec.param = code;
    if (targetType !== undefined) {
      if (!defs.isResourceType(targetType) || (p.targets.length > 0 && !p.targets.includes(targetType))) return undefined;
    }
  } else if (reverse) return undefined;
  if (targetType !== undefined) spec.targetType = targetType;
  return spec;
}

/** The resources the specs add to `matches`, without the matches themselves, in discovery order. */
export function resolveIncludes(index: SearchIndexQueries, matches: readonly KeyedRid[], specs: readonly IncludeSpec[]): KeyedRid[] {
  if (specs.length === 0 || matches.length === 0) return [];
  const seen = new Set(matches.map((m) => m.rid));
  const added: KeyedRid[] = [];
  const add = (keys: KeyedRid[]) => {
    const fresh = keys.filter((k) => !seen.has(k.rid));
    for (const k of fresh) seen.add(k.rid);
    added.push(...fresh);
    return fresh;
  };
  // First round: every spec against the matches; later rounds: :iterate specs against what the last round added.
  let sources: readonly KeyedRid[] = matches;
  for (let round = 0; round < MAX_ROUNDS && sources.length > 0; round++) {
    const active = round === 0 ? specs : specs.filter((s) => s.iterate);
    if (active.length === 0) break;
    const found: KeyedRid[] = [];
    for (const spec of active) found.push(...add(spec.reverse ? reverseOf(index, sources, spec) : forwardOf(index, sources, spec)));
    sources = found;
  }
  return added;
}

function forwardOf(index: SearchIndexQueries, sources: readonly KeyedRid[], spec: IncludeSpec): KeyedRid[] {
  const byType = groupByType(sources.filter((s) => spec.sourceType === '*' || s.type === spec.sourceType));
  const targets = new Map<string, Set<string>>();
  for (const [type, rids] of byType) {
    for (const t of index.targetsOf(type, spec.param, rids)) {
      if (spec.targetType && t.targetType !== spec.targetType) continue;
      let ids = targets.get(t.targetType);
      if (!ids) targets.set(t.targetType, (ids = new Set()));
      ids.add(t.targetId);
    }
  }
  const out: KeyedRid[] = [];
  for (const [type, ids] of targets) out.push(...index.keysOf(index.ids(type, [...ids])));
  return out;
}

function reverseOf(index: SearchIndexQueries, sources: readonly KeyedRid[], spec: IncludeSpec): KeyedRid[] {
  const out: KeyedRid[] = [];
  const byType = new Map<string, string[]>();
  for (const s of sources) {
    if (spec.targetType && s.type !== spec.targetType) continue;
    const ids = byType.get(s.type) ?? [];
    ids.push(s.id);
    byType.set(s.type, ids);
  }
  for (const [type, ids] of byType) out.push(...index.keysOf(index.referencing(spec.sourceType, spec.param!, type, ids)));
  return out;
}

function groupByType(keys: readonly KeyedRid[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const k of keys) {
    const list = out.get(k.type) ?? [];
    list.push(k.rid);
    out.set(k.type, list);
  }
  return out;
}
