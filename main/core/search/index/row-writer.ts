/**
 * Writes one resource's IndexRows into the row tables. Runs inside the caller's SQL
 * transaction; a constraint failure here aborts the whole batch (rows and checkpoint).
 */
import type { ComponentRow, IndexRows, SimpleParamType } from './index-rows';
import { OPEN_HIGH, OPEN_LOW } from './index-rows';

export interface SqlRunner {
  run(sql: string, ...args: unknown[]): void;
  /** The interned id of (type, code), created if new. */
  pidFor(type: string, code: string): number;
}

const lo = (v: number | null | undefined): number => v ?? OPEN_LOW;
const hi = (v: number | null | undefined): number => v ?? OPEN_HIGH;
const orNull = <T>(v: T | null | undefined): T | null => v ?? null;

/**
 * Rows go in with one multi-row INSERT per table (up to MAX_ROWS_PER_INSERT rows each)
 * rather than one statement per row: a resource has ~30 rows, and each statement run
 * costs a call into SQLite and a VDBE start of its own (docs/benchmarks.md, "Results
 * after issue 12"). The statement texts are built once per table and row count.
 */
const MAX_ROWS_PER_INSERT = 64;
const insertTexts = new Map<string, string>();

function insertText(head: string, width: number, count: number): string {
  const key = `${head}\u0000${count}`;
  let sql = insertTexts.get(key);
  if (!sql) {
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    insertTexts.set(key, (sql = `${head} VALUES ${Array.from({ length: count }, () => tuple).join(', ')}`));
  }
  return sql;
}

/** Inserts `values` (a flat list, `width` per row) with as few statements as it takes. */
function insertRows(sql: SqlRunner, head: string, width: number, values: unknown[]): void {
  const rows = values.length / width;
  for (let at = 0; at < rows; at += MAX_ROWS_PER_INSERT) {
    const n = Math.min(MAX_ROWS_PER_INSERT, rows - at);
    sql.run(insertText(head, width, n), ...values.slice(at * width, (at + n) * width));
  }
}

export function writeRows(sql: SqlRunner, rid: number, type: string, rows: IndexRows): void {
  const p = (code: string) => sql.pidFor(type, code);
  if (rows.strings.length) {
    const v: unknown[] = [];
    for (const r of rows.strings) v.push(rid, p(r.param), r.value, orNull(r.exact));
    insertRows(sql, 'INSERT INTO sp_string (rid, pid, value, exact)', 4, v);
  }
  if (rows.tokens.length) {
    const v: unknown[] = [];
    for (const r of rows.tokens) v.push(rid, p(r.param), orNull(r.system), orNull(r.code), orNull(r.text), orNull(r.ofTypeSystem), orNull(r.ofTypeCode));
    insertRows(sql, 'INSERT INTO sp_token (rid, pid, system, code, text, of_type_system, of_type_code)', 7, v);
  }
  if (rows.references.length) {
    const v: unknown[] = [];
    for (const r of rows.references) {
      v.push(rid, p(r.param), orNull(r.targetType), orNull(r.targetId), orNull(r.url), orNull(r.version), orNull(r.identifierSystem), orNull(r.identifierValue));
    }
    insertRows(sql, 'INSERT INTO sp_reference (rid, pid, target_type, target_id, url, version, identifier_system, identifier_value)', 8, v);
  }
  if (rows.dates.length) {
    const v: unknown[] = [];
    for (const r of rows.dates) v.push(rid, p(r.param), lo(r.start), hi(r.end));
    insertRows(sql, 'INSERT INTO sp_date (rid, pid, start_ms, end_ms)', 4, v);
  }
  if (rows.numbers.length) {
    const v: unknown[] = [];
    for (const r of rows.numbers) v.push(rid, p(r.param), lo(r.low), hi(r.high));
    insertRows(sql, 'INSERT INTO sp_number (rid, pid, low, high)', 4, v);
  }
  if (rows.quantities.length) {
    const v: unknown[] = [];
    for (const r of rows.quantities) {
      v.push(rid, p(r.param), orNull(r.system), orNull(r.code), orNull(r.unit), lo(r.low), hi(r.high), orNull(r.canonicalCode), orNull(r.canonicalLow), orNull(r.canonicalHigh));
    }
    insertRows(sql, 'INSERT INTO sp_quantity (rid, pid, system, code, unit, low, high, canonical_code, canonical_low, canonical_high)', 10, v);
  }
  if (rows.uris.length) {
    const v: unknown[] = [];
    for (const r of rows.uris) v.push(rid, p(r.param), r.uri);
    insertRows(sql, 'INSERT INTO sp_uri (rid, pid, uri)', 3, v);
  }
  if (rows.composites.length) {
    const v: unknown[] = [];
    rows.composites.forEach((c, grp) => {
      c.components.forEach((component, pos) => {
        for (const row of component.rows) {
          const x = componentValues(component.type, row);
          v.push(rid, p(c.param), grp, pos, x.system, x.code, x.text, x.low, x.high, x.canonicalCode, x.canonicalLow, x.canonicalHigh);
        }
      });
    });
    insertRows(sql, 'INSERT INTO sp_composite (rid, pid, grp, pos, system, code, text, low, high, canonical_code, canonical_low, canonical_high)', 12, v);
  }
  if (rows.present.size) {
    const v: unknown[] = [];
    for (const code of rows.present) v.push(p(code), rid);
    insertRows(sql, 'INSERT OR IGNORE INTO sp_present (pid, rid)', 2, v);
  }
}

interface ComponentValues {
  system: string | null;
  code: string | null;
  text: string | null;
  low: number | null;
  high: number | null;
  canonicalCode: string | null;
  canonicalLow: number | null;
  canonicalHigh: number | null;
}

/** One generic shape per component value (docs/search-index.md, sp_composite). */
function componentValues(type: SimpleParamType, row: ComponentRow): ComponentValues {
  const v: ComponentValues = {
    system: null, code: null, text: null, low: null, high: null, canonicalCode: null, canonicalLow: null, canonicalHigh: null,
  }; // prettier-ignore
  const r = row as unknown as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : null);
  const num = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : null);
  switch (type) {
    case 'token':
      return { ...v, system: str('system'), code: str('code'), text: str('text') };
    case 'string':
      return { ...v, text: str('value') };
    case 'uri':
      return { ...v, text: str('uri') };
    case 'reference': {
      const t = str('targetType');
      const id = str('targetId');
      return { ...v, text: t && id ? `${t}/${id}` : str('url') };
    }
    case 'date':
      return { ...v, low: lo(num('start')), high: hi(num('end')) };
    case 'number':
      return { ...v, low: lo(num('low')), high: hi(num('high')) };
    // text holds the unit as written, for `||unit`; canonical_* as in sp_quantity.
    case 'quantity': {
      const canonicalCode = str('canonicalCode');
      return {
        ...v, system: str('system'), code: str('code'), text: str('unit'), low: lo(num('low')), high: hi(num('high')),
        canonicalCode, canonicalLow: canonicalCode ? lo(num('canonicalLow')) : null, canonicalHigh: canonicalCode ? hi(num('canonicalHigh')) : null,
      }; // prettier-ignore
    }
  }
}
