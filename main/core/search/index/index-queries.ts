/**
 * Query primitives over the index: each returns the distinct rids of one resource type
 * that match one search value (ascending), or resolves rids/ids. Combining them (AND, OR,
 * chaining, sorting) is the search engine's job. SQL per docs/search-index.md, "Queries".
 * SQL texts are constant (lists go through json_each), so every statement is prepared once.
 */
import { prefixConditions, renderGroup, type DatePrefix } from './date-prefix';

export interface QueryContext {
  all<T>(sql: string, ...args: unknown[]): T[];
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
  string(type: string, param: string, value: string, mode?: StringMode): number[];
  reference(type: string, param: string, q: ReferenceQuery): number[];
  /** [start, end) is the search value's implicit range in ms. */
  date(type: string, param: string, prefix: DatePrefix, start: number, end: number, now?: number): number[];
  uri(type: string, param: string, uri: string, mode?: UriMode): number[];
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

/** Just above every string starting with `prefix` (U+10FFFF is the largest code point). */
const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`;

const RID = (rows: Array<{ rid: number }>) => rows.map((r) => r.rid);

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
  const rids = (sql: string, ...args: unknown[]) => RID(ctx.all<{ rid: number }>(sql, ...args));
  /** Runs `where` against one param's rows; no pid means no row ever had the param. */
  const byParam = (table: string, type: string, param: string, where: string, ...args: unknown[]) => {
    const pid = ctx.pid(type, param);
    if (pid === undefined) return [];
    return rids(`SELECT DISTINCT rid FROM ${table} WHERE pid = ? AND ${where} ORDER BY rid`, pid, ...args);
  };

  const rangeUnion = (groups: ReturnType<typeof prefixConditions>, from: string, scope: unknown, start: string, end: string | null) => {
    const parts = groups.map((g) => renderGroup(g, start, end));
    const sql = parts.map((p) => `SELECT rid FROM ${from} AND ${p.sql}`).join(' UNION ');
    return rids(`${sql} ORDER BY rid`, ...parts.flatMap((p) => [scope, ...p.args]));
  };

  return {
    token(type, param, { system, code }) {
      if (code === undefined) {
        if (typeof system !== 'string') throw new RangeError('a token search needs a code or a system');
        return byParam('sp_token', type, param, 'system = ?', system);
      }
      if (system === undefined) return byParam('sp_token', type, param, 'code = ?', code);
      return byParam('sp_token', type, param, 'code = ? AND system IS ?', code, system);
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
    date(type, param, prefix, start, end, now) {
      const pid = ctx.pid(type, param);
      if (pid === undefined) return [];
      return rangeUnion(prefixConditions(prefix, start, end, now), 'sp_date WHERE pid = ?', pid, 'start_ms', 'end_ms');
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
      if (!missing) return rids('SELECT rid FROM sp_present WHERE pid = ? ORDER BY rid', pid);
      return rids(
        'SELECT rid FROM resource WHERE type = ? AND rid NOT IN (SELECT rid FROM sp_present WHERE pid = ?) ORDER BY rid',
        type,
        pid,
      );
    },
    ids(type, ids) {
      return rids(
        'SELECT rid FROM resource WHERE type = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY rid',
        type,
        JSON.stringify(ids),
      );
    },
    lastUpdated(type, prefix, start, end, now) {
      return rangeUnion(prefixConditions(prefix, start, end, now), 'resource WHERE type = ?', type, 'last_updated', null);
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
