/**
 * Search over the persistent index (search/index): each parsed criterion becomes one
 * index query returning row ids; comma-separated values are OR-ed, parameters AND-ed.
 * Results are resource ids of one type in id order, which is what paging cursors use.
 */
import { badRequest } from '../../../shared/fhir/outcome';
import { dateRange } from '../fhir/fhir-dates';
import { normalizeText } from './extract/text';
import { splitToken, unescapeValue, type Filter } from './criteria';
import { DATE_PREFIXES, type DatePrefix } from './index/date-prefix';
import type { IndexQueries } from './index/index-queries';

export class IndexSearch {
  constructor(
    private readonly index: IndexQueries,
    /** This server's FHIR base, so absolute references to it match local ones. */
    private readonly localBase: () => string | undefined = () => undefined,
  ) {}

  /** Ids of the resources of `type` matching every filter, in id order. */
  matchIds(type: string, filters: Filter[]): string[] {
    if (filters.length === 0) return this.index.listIds(type, undefined, Number.MAX_SAFE_INTEGER).map((r) => r.id);
    let acc: Set<number> | undefined;
    for (const f of filters) {
      const rids = new Set(this.evaluate(type, f));
      acc = acc ? new Set([...acc].filter((r) => rids.has(r))) : rids;
      if (acc.size === 0) return [];
    }
    return this.index
      .resolve([...acc!])
      .map((k) => k.id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * One page of matches after the cursor `after` (an id), with the total. Without
   * criteria the page is read straight from the index in id order, not the whole type.
   */
  page(type: string, filters: Filter[], after: string | undefined, count: number): { ids: string[]; total: number; more: boolean } {
    if (filters.length === 0) {
      const rows = this.index.listIds(type, after, count + 1);
      return { ids: rows.slice(0, count).map((r) => r.id), total: this.index.count(type), more: rows.length > count };
    }
    const all = this.matchIds(type, filters);
    const rest = after === undefined ? all : all.filter((id) => id > after);
    return { ids: rest.slice(0, count), total: all.length, more: rest.length > count };
  }

  private evaluate(type: string, f: Filter): number[] {
    const code = f.param.code;
    if (f.modifier === 'missing') {
      const v = f.values[0];
      if (v !== 'true' && v !== 'false') throw badRequest(`:missing takes true or false`);
      return this.index.missing(type, code, v === 'true');
    }
    const union = new Set<number>();
    for (const raw of f.values) for (const rid of this.one(type, f, raw)) union.add(rid);
    if (f.modifier === 'not') {
      // Every resource of the type (all were updated after 1970) minus the matches.
      return this.index.lastUpdated(type, 'ge', 0, 1).filter((rid) => !union.has(rid));
    }
    return [...union];
  }

  private one(type: string, f: Filter, raw: string): number[] {
    const code = f.param.code;
    switch (f.param.type) {
      case 'token': {
        const t = splitToken(raw);
        const q: { system?: string | null; code?: string } = {};
        if (t.system !== undefined) q.system = t.system === '' ? null : t.system;
        if (t.code !== undefined) q.code = t.code;
        return this.index.token(type, code, q);
      }
      case 'string': {
        const v = unescapeValue(raw);
        if (f.modifier === 'exact') return this.index.string(type, code, v, 'exact');
        return this.index.string(type, code, normalizeText(v), f.modifier === 'contains' ? 'contains' : 'prefix');
      }
      case 'reference':
        return this.index.reference(type, code, this.referenceQuery(unescapeValue(raw)));
      case 'uri': {
        const mode = f.modifier === 'above' ? 'above' : f.modifier === 'below' ? 'below' : 'eq';
        return this.index.uri(type, code, unescapeValue(raw), mode);
      }
      case 'date': {
        const m = /^([a-z]{2})?(.+)$/.exec(raw);
        const prefix = (m?.[1] ?? 'eq') as DatePrefix;
        if (!DATE_PREFIXES.includes(prefix)) throw badRequest(`Unknown date prefix in '${code}'`);
        const { start, end } = dateRange(m?.[2] ?? '', code);
        return this.index.date(type, code, prefix, start, end);
      }
      default:
        return [];
    }
  }

  private referenceQuery(v: string): { targetType?: string; targetId?: string; url?: string } {
    const base = this.localBase();
    const local = base && v.startsWith(base + '/') ? v.slice(base.length + 1) : v;
    if (/^[a-z][a-z0-9+.-]*:/i.test(local)) return { url: local };
    const parts = local.split('/');
    if (parts.length === 1) return { targetId: parts[0]! };
    return { targetType: parts[0]!, targetId: parts[1]! };
  }
}
