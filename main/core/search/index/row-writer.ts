/**
 * Writes one resource's IndexRows into the row tables. Runs inside the caller's SQL
 * transaction; a constraint failure here aborts the whole batch (rows and checkpoint).
 *
 * A param with a row is present (`:missing=false`) by that row: sp_present only records
 * the params present without any row (a value that gives no row, such as a Reference with
 * only a display), docs/search-index.md, "sp_present".
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

export function writeRows(sql: SqlRunner, rid: number, type: string, rows: IndexRows): void {
  const withRows = new Set<string>();
  const p = (code: string) => {
    withRows.add(code);
    return sql.pidFor(type, code);
  };
  for (const r of rows.strings) sql.run('INSERT INTO sp_string (rid, pid, value, exact) VALUES (?, ?, ?, ?)', rid, p(r.param), r.value, orNull(r.exact));
  for (const r of rows.tokens) {
    sql.run(
      'INSERT INTO sp_token (rid, pid, system, code, text, of_type_system, of_type_code) VALUES (?, ?, ?, ?, ?, ?, ?)',
      rid, p(r.param), orNull(r.system), orNull(r.code), orNull(r.text), orNull(r.ofTypeSystem), orNull(r.ofTypeCode),
    ); // prettier-ignore
  }
  for (const r of rows.references) {
    sql.run(
      `INSERT INTO sp_reference (rid, pid, target_type, target_id, url, version, identifier_system, identifier_value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      rid, p(r.param), orNull(r.targetType), orNull(r.targetId), orNull(r.url), orNull(r.version),
      orNull(r.identifierSystem), orNull(r.identifierValue),
    ); // prettier-ignore
  }
  for (const r of rows.dates) sql.run('INSERT INTO sp_date (rid, pid, start_ms, end_ms) VALUES (?, ?, ?, ?)', rid, p(r.param), lo(r.start), hi(r.end));
  for (const r of rows.numbers) sql.run('INSERT INTO sp_number (rid, pid, low, high) VALUES (?, ?, ?, ?)', rid, p(r.param), lo(r.low), hi(r.high));
  for (const r of rows.quantities) {
    sql.run(
      `INSERT INTO sp_quantity (rid, pid, system, code, unit, low, high, canonical_code, canonical_low, canonical_high)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      rid, p(r.param), orNull(r.system), orNull(r.code), orNull(r.unit), lo(r.low), hi(r.high),
      orNull(r.canonicalCode), orNull(r.canonicalLow), orNull(r.canonicalHigh),
    ); // prettier-ignore
  }
  for (const r of rows.uris) sql.run('INSERT INTO sp_uri (rid, pid, uri) VALUES (?, ?, ?)', rid, p(r.param), r.uri);
  rows.composites.forEach((c, grp) => {
    c.components.forEach((component, pos) => {
      for (const row of component.rows) {
        const v = componentValues(component.type, row);
        sql.run(
          `INSERT INTO sp_composite (rid, pid, grp, pos, system, code, text, low, high, canonical_code, canonical_low, canonical_high)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          rid, p(c.param), grp, pos, v.system, v.code, v.text, v.low, v.high, v.canonicalCode, v.canonicalLow, v.canonicalHigh,
        ); // prettier-ignore
      }
    });
  });
  for (const code of rows.present) {
    if (!withRows.has(code)) sql.run('INSERT OR IGNORE INTO sp_present (pid, rid) VALUES (?, ?)', sql.pidFor(type, code), rid);
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
