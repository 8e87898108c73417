/**
 * Query primitives over the index: each returns the distinct rids of one resource type
 * that match one search value (ascending), or resolves rids/ids. Combining them (AND, OR,
 * chaining, sorting) is the search engine's job. SQL per docs/search-index.md, "Queries".
 * SQL texts are constant (lists go through json_each), so every statement is prepared once.
 */
import { and, componentCond, cond, prefixEnd, QUANTITY, quantityAlternatives, ranges, tokenCond, type Cond } from './conditions';
import { prefixConditions, type DatePrefix } from './date-prefix';
import { numberConditions } from './number-prefix';
import { ROW_TABLES } from './schema';

export interface QueryContext {
  all<T>(sql: string, ...args: unknown[]): T[];
  /**
   * The first column of every row, as plain values (`rid`s): no object per row, which is
   * most of the cost of a few thousand rows. Optional: `all` serves when it is missing.
   */
  column?(sql: string, ...args: unknown[]): number[];
  /** The interned param id, or undefined if no resource ever had that param (no rows then). */
  pid(type: string, code: string): number | undefined;
}

/** `system`: undefined = any system, null = no system. `code` undefined = `system|` (any code). */
export interface TokenQuery {
  system?: string | null;
  code?: string;
}
export type StringMode = 'prefix' | 'exact' | 'contains';
export type UriMode = 'eq' | 'above' | 'below';
export interface ReferenceQuery {
  targetType?: string;
  targetId?: string;
  url?: string;
}
/** token `:of-type`: Identifier.type's system and code, and Identifier.value. */
export interface OfTypeQuery {
  typeSystem: string;
  typeCode: string;
  value: string;
}
/** A number search value reduced to what its prefix compares against (params/number.ts). */
export interface RangeQuery {
  prefix: DatePrefix;
  /** [low, high): the implicit range (eq, ne), widened (ap); low = high: the exact value (the others). */
  low: number;
  high: number;
}
/** The units a quantity search accepts. `canonical`: UCUM base units, the bounds converted to them. */
export type QuantityUnit =
  | { match: 'any' }
  | { match: 'code'; system: string; code: string }
  | { match: 'system'; system: string }
  | { match: 'code-or-unit'; unit: string }
  | { match: 'canonical'; code: string };
export interface QuantityQuery extends RangeQuery {
  unit: QuantityUnit;
}
/** One component of a composite search value, in its own type's terms (string: normalized). */
export type ComponentQuery =
  | { type: 'token'; q: TokenQuery }
  | { type: 'string'; value: string }
  | { type: 'uri'; uri: string }
  | { type: 'reference'; q: ReferenceQuery }
  | { type: 'date'; prefix: DatePrefix; start: number; end: number; now?: number }
  | { type: 'number'; q: RangeQuery }
  | { type: 'quantity'; q: QuantityQuery };
export interface ResourceKey {
  type: string;
  id: string;
}
export interface IndexedResource {
  id: string;
  vid: string;
  lastUpdated: number;
}

export interface IndexQueries {
  token(type: string, param: string, q: TokenQuery): number[];
  /** token `:text`: display or text (normalized) starting with `text`. */
  tokenText(type: string, param: string, text: string): number[];
  tokenOfType(type: string, param: string, q: OfTypeQuery): number[];
  string(type: string, param: string, value: string, mode?: StringMode): number[];
  reference(type: string, param: string, q: ReferenceQuery): number[];
  /** reference `:identifier`: Reference.identifier, searched like a token. */
  referenceIdentifier(type: string, param: string, q: TokenQuery): number[];
  /** [start, end) is the search value's implicit range in ms. */
  date(type: string, param: string, prefix: DatePrefix, start: number, end: number, now?: number): number[];
  uri(type: string, param: string, uri: string, mode?: UriMode): number[];
  number(type: string, param: string, q: RangeQuery): number[];
  quantity(type: string, param: string, q: QuantityQuery): number[];
  /** Every component matches within one element (same `grp`), each by its own type's rules. */
  composite(type: string, param: string, components: readonly ComponentQuery[]): number[];
  /** missing=true: resources of the type without a value for the param. */
  missing(type: string, param: string, missing: boolean): number[];
  ids(type: string, ids: readonly string[]): number[];
  lastUpdated(type: string, prefix: DatePrefix, start: number, end: number, now?: number): number[];
  /** (type, id) of the given rids, ordered by type then id. */
  resolve(rids: readonly number[]): ResourceKey[];
  count(type: string): number;
  /** Resources of the type in id order (BINARY, i.e. UTF-8 byte order), after `afterId`. */
  listIds(type: string, afterId: string | undefined, limit: number): IndexedResource[];
}

const RID = (rows: Array<{ rid: number }>) => rows.map((r) => r.rid);

/**
 * The rids a param is present in: those with a row of it in any row table (each reached
 * through its pid-first index) and those sp_present records as present without a row.
 */
const PRESENT = ROW_TABLES.map((t) => `SELECT rid FROM ${t} WHERE pid = ?`).join(' UNION ');

/** The rids a query (selecting `rid` first) returns. */
export function ridsOf(ctx: QueryContext, sql: string, ...args: unknown[]): number[] {
  return ctx.column ? ctx.column(sql, ...args) : RID(ctx.all<{ rid: number }>(sql, ...args));
}

/** The URI and its prefixes that end before a '/' (not inside "://"): what `:above` matches. */
export function uriAncestors(uri: string): string[] {
  const out = new Set<string>([uri]);
  for (let i = uri.indexOf('/'); i > 0; i = uri.indexOf('/', i + 1)) {
    const prefix = uri.slice(0, i);
    if (!prefix.endsWith(':') && !prefix.endsWith('/')) out.add(prefix);
  }
  return [...out];
}

export function createQueries(ctx: QueryContext): IndexQueries {
  const rids = (sql: string, ...args: unknown[]) => ridsOf(ctx, sql, ...args);
  /** Runs `where` against one param's rows; no pid means no row ever had the param. */
  const byParam = (table: string, type: string, param: string, where: string, ...args: unknown[]) => {
    const pid = ctx.pid(type, param);
    if (pid === undefined) return [];
    return rids(`SELECT DISTINCT rid FROM ${table} WHERE pid = ? AND ${where} ORDER BY rid`, pid, ...args);
  };

  /** `from` ends in `WHERE <scope> = ?`; one SELECT per alternative, so each can use its own index. */
  const union = (from: string, scope: unknown, alts: Cond[]) => {
    if (alts.length === 1) return rids(`SELECT DISTINCT rid FROM ${from} AND ${alts[0]!.sql} ORDER BY rid`, scope, ...alts[0]!.args);
    const sql = alts.map((a) => `SELECT rid FROM ${from} AND ${a.sql}`).join(' UNION ');
    return rids(`${sql} ORDER BY rid`, ...alts.flatMap((a) => [scope, ...a.args]));
  };
  const byPid = (table: string, type: string, param: string, alts: Cond[]) => {
    const pid = ctx.pid(type, param);
    return pid === undefined ? [] : union(`${table} WHERE pid = ?`, pid, alts);
  };

  return {
    token(type, param, q) {
      const c = tokenCond(q, 'system', 'code');
      return byParam('sp_token', type, param, c.sql, ...c.args);
    },
    tokenText(type, param, text) {
      return byParam('sp_token', type, param, 'text >= ? AND text < ?', text, prefixEnd(text));
    },
    tokenOfType(type, param, { typeSystem, typeCode, value }) {
      return byParam('sp_token', type, param, 'code = ? AND of_type_code = ? AND of_type_system = ?', value, typeCode, typeSystem);
    },
    string(type, param, value, mode = 'prefix') {
      if (mode === 'exact') return byParam('sp_string', type, param, 'exact = ?', value);
      if (mode === 'contains') return byParam('sp_string', type, param, 'instr(value, ?) > 0', value);
      return byParam('sp_string', type, param, 'value >= ? AND value < ?', value, prefixEnd(value));
    },
    reference(type, param, { targetType, targetId, url }) {
      if (url !== undefined) return byParam('sp_reference', type, param, 'url = ?', url);
      if (targetId === undefined) throw new RangeError('a reference search needs an id or a url');
      if (targetType === undefined) return byParam('sp_reference', type, param, 'target_id = ?', targetId);
      return byParam('sp_reference', type, param, 'target_id = ? AND target_type = ?', targetId, targetType);
    },
    referenceIdentifier(type, param, q) {
      // `system|` alone: an identifier without a value identifies nothing, and saying so
      // lets the partial index (identifier_value IS NOT NULL) serve.
      const c = and(q.code === undefined ? cond('identifier_value IS NOT NULL') : cond(''), tokenCond(q, 'identifier_system', 'identifier_value'));
      return byParam('sp_reference', type, param, c.sql, ...c.args);
    },
    date(type, param, prefix, start, end, now) {
      return byPid('sp_date', type, param, ranges(prefixConditions(prefix, start, end, now), 'start_ms', 'end_ms'));
    },
    number(type, param, q) {
      return byPid('sp_number', type, param, ranges(numberConditions(q.prefix, q.low, q.high), 'low', 'high'));
    },
    quantity(type, param, q) {
      return byPid('sp_quantity', type, param, quantityAlternatives(q, QUANTITY));
    },
    composite(type, param, components) {
      const pid = ctx.pid(type, param);
      if (pid === undefined || components.length === 0) return [];
      const conds = components.map((c, i) => componentCond(c, `c${i}`));
      // Component 0 (the code, in nearly every R4 composite) drives: CROSS JOIN keeps that order.
      // The others are looked up per element; without INDEXED BY, SQLite may prefer a covering
      // walk over every row with their code to the element index.
      const joins = components
        .slice(1)
        .map((_, j) => {
          const c = `c${j + 1}`;
          return ` CROSS JOIN sp_composite ${c} INDEXED BY sp_composite_element ON ${c}.rid = c0.rid AND ${c}.pid = c0.pid AND ${c}.grp = c0.grp AND ${c}.pos = ${j + 1}`;
        })
        .join('');
      const where = and(cond('c0.pid = ? AND c0.pos = 0', pid), ...conds);
      return rids(`SELECT DISTINCT c0.rid AS rid FROM sp_composite c0${joins} WHERE ${where.sql} ORDER BY c0.rid`, ...where.args);
    },
    uri(type, param, uri, mode = 'eq') {
      if (mode === 'below') return byParam('sp_uri', type, param, 'uri >= ? AND uri < ?', uri, prefixEnd(uri));
      if (mode === 'above') {
        return byParam('sp_uri', type, param, 'uri IN (SELECT value FROM json_each(?))', JSON.stringify(uriAncestors(uri)));
      }
      return byParam('sp_uri', type, param, 'uri = ?', uri);
    },
    missing(type, param, missing) {
      const pid = ctx.pid(type, param) ?? -1;
      const pids = ROW_TABLES.map(() => pid);
      if (!missing) return rids(`${PRESENT} ORDER BY rid`, ...pids);
      return rids(`SELECT rid FROM resource WHERE type = ? AND rid NOT IN (${PRESENT}) ORDER BY rid`, type, ...pids);
    },
    ids(type, ids) {
      return rids(
        'SELECT rid FROM resource WHERE type = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY rid',
        type,
        JSON.stringify(ids),
      );
    },
    lastUpdated(type, prefix, start, end, now) {
      return union('resource WHERE type = ?', type, ranges(prefixConditions(prefix, start, end, now), 'last_updated', null));
    },
    resolve(list) {
      return ctx.all<ResourceKey>(
        'SELECT type, id FROM resource WHERE rid IN (SELECT value FROM json_each(?)) ORDER BY type, id',
        JSON.stringify(list),
      );
    },
    count(type) {
      return ctx.all<{ n: number }>('SELECT count(*) AS n FROM resource WHERE type = ?', type)[0]?.n ?? 0;
    },
    listIds(type, afterId, limit) {
      return ctx.all<IndexedResource>(
        'SELECT id, vid, last_updated AS lastUpdated FROM resource WHERE type = ? AND id > ? ORDER BY id LIMIT ?',
        type,
        afterId ?? '',
        limit,
      );
    },
  };
}
