/**
 * The search engine over the persistent index (search/index): evaluates a criteria tree
 * (search/criteria.ts) to row ids, orders the matches (`_sort`, ties broken by type and
 * id) and cuts pages with keyset cursors, so concurrent writes neither repeat nor skip
 * entries. Each parameter's values are OR-ed, parameters AND-ed; chains and `_has` join
 * through the reference rows.
 */
import { badRequest, serviceUnavailable } from '../../../shared/fhir/outcome';
import type { Criterion, ParamCriterion } from './criteria';
import type { IndexQueries } from './index/index-queries';
import type { JoinQueries, KeyedRid, SortValue } from './index/join-queries';
import { PARAM_TYPES } from './params';
import { compareKeys, type SortKey, type SortParam } from './sort';

export type SearchIndexQueries = IndexQueries & JoinQueries;

export interface PageRequest {
  count: number;
  /** Entries strictly after this key (next pages) or strictly before it (previous pages). */
  after?: SortKey;
  before?: SortKey;
  /** The last `count` entries (the `last` link). */
  last?: boolean;
}

export interface PageEntry extends KeyedRid {
  key: SortKey;
}

export interface SearchPage {
  entries: PageEntry[];
  total: number;
  /** Keys for the next and previous links, when there are entries beyond this page. */
  next?: SortKey;
  previous?: SortKey;
}

export interface TypeCriteria {
  type: string;
  /** AND-ed; empty: every resource of the type. */
  criteria: Criterion[];
}

export class IndexSearch {
  /** Set while the index is being rebuilt: searching a partial index would give wrong answers. */
  private rebuilding = false;

  constructor(
    readonly index: SearchIndexQueries,
    /** This server's FHIR base, so absolute references to it match local ones. */
    private readonly localBase: () => string | undefined = () => undefined,
  ) {}

  /** While `fn` runs (a rebuild), searches answer 503 instead of reading a partial index. */
  async whileRebuilding<T>(fn: () => Promise<T>): Promise<T> {
    if (this.rebuilding) throw serviceUnavailable('The search index is already being rebuilt');
    this.rebuilding = true;
    try {
      return await fn();
    } finally {
      this.rebuilding = false;
    }
  }

  /** Row ids of `type` matching every criterion (all of the type when there is none). */
  matchRids(type: string, criteria: readonly Criterion[]): number[] {
    if (this.rebuilding) throw serviceUnavailable('The search index is being rebuilt; try again shortly');
    if (criteria.length === 0) return this.index.allRids(type);
    let acc: Set<number> | undefined;
    // Cheapest first would need statistics; parameters are evaluated in query order.
    for (const c of criteria) {
      const rids = this.evaluate(type, c);
      acc = acc ? new Set(rids.filter((r) => acc!.has(r))) : new Set(rids);
      if (acc.size === 0) return [];
    }
    return [...acc!];
  }

  /** Ids of the resources of `type` matching every criterion, in id order. */
  matchIds(type: string, criteria: readonly Criterion[]): string[] {
    return this.index
      .keysOf(this.matchRids(type, criteria))
      .map((k) => k.id)
      .sort(byString);
  }

  /** One page over one or more types, ordered by `sort` and then (type, id). */
  page(queries: readonly TypeCriteria[], sort: readonly SortParam[], req: PageRequest): SearchPage {
    if (this.rebuilding) throw serviceUnavailable('The search index is being rebuilt; try again shortly');
    // A count needs no keys, order or page; a type without criteria is counted, not listed.
    if (req.count === 0) {
      const count = (q: TypeCriteria) => (q.criteria.length === 0 ? this.index.count(q.type) : this.matchRids(q.type, q.criteria).length);
      return { entries: [], total: queries.reduce((n, q) => n + count(q), 0) };
    }
    const fast = this.fastPage(queries, sort, req);
    if (fast) return fast;
    const entries: PageEntry[] = [];
    for (const q of queries) {
      const keys = this.index.keysOf(this.matchRids(q.type, q.criteria));
      const values = sort.map((s) => this.sortValuesOf(q.type, s, keys));
      for (const k of keys) entries.push({ ...k, key: [...values.map((v) => v.get(k.rid) ?? null), k.type, k.id] });
    }
    const dirs = sort.map((s) => s.descending);
    entries.sort((a, b) => compareKeys(a.key, b.key, dirs));
    return cut(entries, req, dirs);
  }

  /**
   * One page of resources the caller has already found and keyed (`$everything`), in
   * (type, id) order: the same order, cursors and total as `page` with no `_sort`.
   */
  pageOfKeys(keys: readonly KeyedRid[], req: PageRequest): SearchPage {
    if (this.rebuilding) throw serviceUnavailable('The search index is being rebuilt; try again shortly');
    if (req.count === 0) return { entries: [], total: keys.length };
    const entries: PageEntry[] = keys.map((k) => ({ ...k, key: [k.type, k.id] }));
    entries.sort((a, b) => compareKeys(a.key, b.key, NO_DIRS));
    return cut(entries, req, NO_DIRS);
  }

  /** No criteria, no sort, one type, moving forward: read the page straight off the index. */
  private fastPage(queries: readonly TypeCriteria[], sort: readonly SortParam[], req: PageRequest): SearchPage | undefined {
    const [only] = queries;
    if (queries.length !== 1 || !only || only.criteria.length > 0 || sort.length > 0 || req.before || req.last) return undefined;
    const afterId = req.after ? (req.after[1] as string) : undefined;
    if (req.after && req.after[0] !== only.type) return undefined;
    const rows = this.index.listKeys(only.type, afterId, req.count + 1);
    const entries: PageEntry[] = rows.slice(0, req.count).map((k) => ({ ...k, key: [k.type, k.id] }));
    const out: SearchPage = { entries, total: this.index.count(only.type) };
    const last = entries[entries.length - 1];
    if (rows.length > req.count && last) out.next = last.key;
    if (req.after && entries[0]) out.previous = entries[0].key;
    return out;
  }

  private sortValuesOf(type: string, s: SortParam, keys: readonly KeyedRid[]): Map<number, SortValue> {
    if (s.code === '_id') return new Map(keys.map((k) => [k.rid, k.id]));
    return this.index.sortValues(type, s.code, s.paramType, keys.map((k) => k.rid), s.descending);
  }

  private evaluate(type: string, c: Criterion): number[] {
    switch (c.kind) {
      case 'param':
        return this.evaluateParam(type, c);
      case 'chain': {
        const out = new Set<number>();
        for (const [targetType, inner] of c.targets) {
          const ids = this.index.keysOf(this.evaluate(targetType, inner)).map((k) => k.id);
          for (const rid of this.index.referencing(type, c.param.code, targetType, ids)) out.add(rid);
        }
        return [...out];
      }
      case 'any': {
        const out = new Set<number>();
        for (const inner of c.of) for (const rid of this.evaluate(type, inner)) out.add(rid);
        return [...out];
      }
      case 'all':
        return this.matchRids(type, c.of);
      case 'rids':
        return [...c.rids];
      case 'has': {
        const sources = this.evaluate(c.sourceType, c.inner);
        const ids = new Set<string>();
        for (const t of this.index.targetsOf(c.sourceType, c.param.code, sources)) if (t.targetType === type) ids.add(t.targetId);
        return this.index.ids(type, [...ids]);
      }
    }
  }

  private evaluateParam(type: string, f: ParamCriterion): number[] {
    if (f.modifier === 'missing') {
      const v = f.values[0];
      if (f.values.length !== 1 || (v !== 'true' && v !== 'false')) throw badRequest(`:missing takes true or false`);
      return this.index.missing(type, f.param.code, v === 'true');
    }
    const kind = PARAM_TYPES[f.param.type];
    if (!kind) return [];
    const q = { index: this.index, type, param: f.param, modifier: f.modifier, localBase: this.localBase() };
    const union = new Set<number>();
    for (const raw of f.values) for (const rid of kind.match(q, raw)) union.add(rid);
    if (f.modifier === 'not') return this.index.allRids(type).filter((rid) => !union.has(rid));
    return [...union];
  }
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const NO_DIRS: readonly boolean[] = [];

/** The page after `req.after`, or the `count` entries just before `req.before`, of sorted entries. */
function cut(sorted: PageEntry[], req: PageRequest, dirs: readonly boolean[]): SearchPage {
  let start = 0;
  let end = sorted.length;
  if (req.after) start = firstAfter(sorted, req.after, dirs);
  if (req.before || req.last) {
    end = req.before ? firstAfter(sorted, req.before, dirs, true) : sorted.length;
    start = Math.max(0, end - req.count);
  } else end = Math.min(sorted.length, start + req.count);
  const entries = sorted.slice(start, end);
  const page: SearchPage = { entries, total: sorted.length };
  const last = entries[entries.length - 1];
  const first = entries[0];
  if (end < sorted.length && last) page.next = last.key;
  if (start > 0 && first) page.previous = first.key;
  return page;
}

/** Index of the first entry > key (or >= key with `inclusive`), by binary search. */
function firstAfter(sorted: PageEntry[], key: SortKey, dirs: readonly boolean[], inclusive = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareKeys(sorted[mid]!.key, key, dirs);
    if (c > 0 || (inclusive && c === 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
