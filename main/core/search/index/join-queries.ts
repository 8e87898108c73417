/**
 * Index queries across resources, for chains, `_has`, `_include`/`_revinclude`,
 * compartments and sorting (docs/search-index.md, "Joins and sorting"). Like
 * index-queries.ts they take and return rids; lists go through json_each so every SQL
 * text is constant and prepared once.
 */
import { ridsOf, type QueryContext } from './index-queries';

export interface KeyedRid {
  rid: number;
  type: string;
  id: string;
}

export interface ReferenceTarget {
  /** The referring resource. */
  rid: number;
  targetType: string;
  targetId: string;
}

export type SortValue = string | number | null;

export interface JoinQueries {
  /** Every current resource of the type. */
  allRids(type: string): number[];
  /** rid, type and id of each rid, ordered by rid. */
  keysOf(rids: readonly number[]): KeyedRid[];
  /** rids of `type` whose `param` points to `targetType/<one of ids>`. */
  referencing(type: string, param: string, targetType: string, ids: readonly string[]): number[];
  /**
   * The members of one compartment, keyed, by rid: every resource whose `params` (type,
   * code) point to `targetType/targetId`, plus that resource itself; one query.
   */
  compartmentKeys(params: ReadonlyArray<readonly [string, string]>, targetType: string, targetId: string): KeyedRid[];
  /** The existing resources that any reference row of these rids points to (type and id known), keyed, each once; one query. */
  referencedKeys(rids: readonly number[]): KeyedRid[];
  /** Resources of the type in id order after `afterId` (BINARY order, like `listIds`), keyed. */
  listKeys(type: string, afterId: string | undefined, limit: number): KeyedRid[];
  /** What `param` (every reference param when undefined) of these rids points to (type and id known). */
  targetsOf(type: string, param: string | undefined, rids: readonly number[]): ReferenceTarget[];
  /**
   * Per rid, the value `_sort` orders by for one parameter: the smallest ascending, the
   * largest descending (a multi-valued element sorts by its extreme value). Rids without
   * a value are absent from the map.
   */
  sortValues(type: string, param: string, paramType: string, rids: readonly number[], descending: boolean): Map<number, SortValue>;
}

/** What a row table sorts by, ascending and descending. */
const SORT_COLUMNS: Record<string, { table: string; asc: string; desc: string }> = {
  string: { table: 'sp_string', asc: 'min(value)', desc: 'max(value)' },
  token: { table: 'sp_token', asc: 'min(coalesce(code, text))', desc: 'max(coalesce(code, text))' },
  date: { table: 'sp_date', asc: 'min(start_ms)', desc: 'max(end_ms)' },
  number: { table: 'sp_number', asc: 'min(low)', desc: 'max(high)' },
  quantity: { table: 'sp_quantity', asc: 'min(coalesce(canonical_low, low))', desc: 'max(coalesce(canonical_high, high))' },
  uri: { table: 'sp_uri', asc: 'min(uri)', desc: 'max(uri)' },
  reference: {
    table: 'sp_reference',
    asc: `min(coalesce(target_type || '/' || target_id, url))`,
    desc: `max(coalesce(target_type || '/' || target_id, url))`,
  },
};

/**
 * Up to this many rids, rows are looked up by rid (`<table>_rid`, one seek each). Without
 * statistics SQLite otherwise walks every row of the parameter through an index that
 * starts with pid and tests each against the list: 4-9 ms for a 34-entry page at 50,000
 * Observations, against 0.1 ms. Past it the walk may be the cheaper plan and stays
 * SQLite's choice (both cost about the same at 50,000 rids).
 */
const RID_LOOKUP_MAX = 1000;

export function createJoinQueries(ctx: QueryContext): JoinQueries {
  const json = (list: readonly unknown[]) => JSON.stringify(list);
  const byRid = (table: string, rids: readonly number[]) => (rids.length <= RID_LOOKUP_MAX ? ` INDEXED BY ${table}_rid` : '');
  return {
    allRids: (type) => ridsOf(ctx, 'SELECT rid FROM resource WHERE type = ? ORDER BY rid', type),
    keysOf: (rids) =>
      ctx.all<KeyedRid>('SELECT rid, type, id FROM resource WHERE rid IN (SELECT value FROM json_each(?)) ORDER BY rid', json(rids)),
    referencing(type, param, targetType, ids) {
      const pid = ctx.pid(type, param);
      if (pid === undefined || ids.length === 0) return [];
      return ridsOf(
        ctx,
        `SELECT DISTINCT rid FROM sp_reference
         WHERE pid = ? AND target_id IN (SELECT value FROM json_each(?)) AND target_type = ? ORDER BY rid`,
        pid,
        json(ids),
        targetType,
      );
    },
    compartmentKeys(params, targetType, targetId) {
      const pids = params.map(([t, code]) => ctx.pid(t, code)).filter((p): p is number => p !== undefined);
      return ctx.all<KeyedRid>(
        `SELECT rid, type, id FROM resource WHERE rid IN (
           SELECT rid FROM sp_reference WHERE pid IN (SELECT value FROM json_each(?)) AND target_id = ? AND target_type = ?
           UNION SELECT rid FROM resource WHERE type = ? AND id = ?) ORDER BY rid`,
        json(pids),
        targetId,
        targetType,
        targetType,
        targetId,
      );
    },
    referencedKeys(rids) {
      if (rids.length === 0) return [];
      return ctx.all<KeyedRid>(
        `SELECT r.rid AS rid, r.type AS type, r.id AS id FROM (
           SELECT DISTINCT target_type AS t, target_id AS i FROM sp_reference
           WHERE rid IN (SELECT value FROM json_each(?)) AND target_type IS NOT NULL AND target_id IS NOT NULL) x
         JOIN resource r ON r.type = x.t AND r.id = x.i`,
        json(rids),
      );
    },
    listKeys(type, afterId, limit) {
      return ctx.all<KeyedRid>('SELECT rid, type, id FROM resource WHERE type = ? AND id > ? ORDER BY id LIMIT ?', type, afterId ?? '', limit);
    },
    targetsOf(type, param, rids) {
      if (rids.length === 0) return [];
      if (param === undefined) {
        return ctx.all<ReferenceTarget>(
          `SELECT DISTINCT rid, target_type AS targetType, target_id AS targetId FROM sp_reference
           WHERE rid IN (SELECT value FROM json_each(?)) AND target_type IS NOT NULL AND target_id IS NOT NULL`,
          json(rids),
        );
      }
      const pid = ctx.pid(type, param);
      if (pid === undefined) return [];
      return ctx.all<ReferenceTarget>(
        `SELECT DISTINCT rid, target_type AS targetType, target_id AS targetId FROM sp_reference${byRid('sp_reference', rids)}
         WHERE rid IN (SELECT value FROM json_each(?)) AND pid = ? AND target_type IS NOT NULL AND target_id IS NOT NULL`,
        json(rids),
        pid,
      );
    },
    sortValues(type, param, paramType, rids, descending) {
      const out = new Map<number, SortValue>();
      const col = SORT_COLUMNS[paramType];
      const pid = ctx.pid(type, param);
      if (!col || pid === undefined || rids.length === 0) return out;
      const rows = ctx.all<{ rid: number; v: SortValue }>(
        `SELECT rid, ${descending ? col.desc : col.asc} AS v FROM ${col.table}${byRid(col.table, rids)}
         WHERE pid = ? AND rid IN (SELECT value FROM json_each(?)) GROUP BY rid`,
        pid,
        json(rids),
      );
      for (const r of rows) if (r.v !== null) out.set(r.rid, r.v);
      return out;
    },
  };
}
