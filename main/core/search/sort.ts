/**
 * `_sort`: parsing (`_sort=-date,name`) and the order of sort keys. A key is the values of
 * the sort parameters followed by type and id, so ties are always broken the same way.
 * Missing values sort last in either direction.
 */
import { badRequest } from '../../../shared/fhir/outcome';
import type { Definitions } from '../fhir/definitions';
import type { SortValue } from './index/join-queries';
import { PARAM_TYPES } from './params';

export type SortKey = SortValue[];

export interface SortParam {
  code: string;
  paramType: string;
  descending: boolean;
}

/** Parses `_sort` for the given types: each parameter must exist on all of them. */
export function parseSort(defs: Definitions, types: readonly string[], raw: string | null): SortParam[] {
  if (raw === null || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const descending = part.startsWith('-');
    const code = descending ? part.slice(1) : part;
    let paramType: string | undefined;
    for (const t of types) {
      const p = defs.searchParams(t).get(code);
      if (!p || !PARAM_TYPES[p.type] || (paramType && p.type !== paramType)) paramType = undefined;
      else paramType = p.type;
      if (!paramType) break;
    }
    if (!paramType) throw badRequest(`Cannot sort by '${code.slice(0, 64)}': not a sortable search parameter of ${types.join(', ')}`);
    return { code, paramType, descending };
  });
}

/** Compares two keys; `descending[i]` flips the i-th sort value (type and id always ascend). */
export function compareKeys(a: SortKey, b: SortKey, descending: readonly boolean[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
    if (c !== 0) return descending[i] ? -c : c;
  }
  return 0;
}

/** Cursor keys travel in links as base64url JSON; a malformed one is the client's error. */
export function encodeKey(key: SortKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeKey(raw: string): SortKey {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length >= 2 && v.every((x) => x === null || typeof x === 'string' || typeof x === 'number')) return v as SortKey;
  } catch {
    // fall through
  }
  throw badRequest('Invalid paging cursor');
}
