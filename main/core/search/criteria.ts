/**
 * Parsing search criteria (`identifier=http://x|123&name:exact=Eve`) into filters.
 * SUPPORTED is the single list of what the search engine evaluates; the
 * CapabilityStatement is derived from it.
 * Result parameters (_count, _sort, ...) are not filters. Parameters this engine cannot
 * evaluate are reported, so the caller can reject them (strict, or conditional writes,
 * where ignoring a criterion would touch the wrong resources) or ignore them with a
 * warning (lenient search).
 */
import { badRequest } from '../../../shared/fhir/outcome';
import type { Definitions, SearchParamDef } from '../fhir/definitions';

export interface Filter {
  param: SearchParamDef;
  modifier?: string;
  /** OR-ed values (comma-separated in the query). */
  values: string[];
}

export interface ParsedCriteria {
  filters: Filter[];
  /** Parameter names that were not understood or are not supported. */
  unsupported: string[];
}

export const RESULT_PARAMS = new Set([
  '_count', '_sort', '_summary', '_elements', '_total', '_format', '_pretty', '_include', '_revinclude',
  '_contained', '_containedType', '_cursor',
]);

/** What the index search evaluates, per parameter type: modifiers (undefined = none). */
const SUPPORTED: Record<string, Set<string | undefined>> = {
  token: new Set([undefined, 'not', 'missing']),
  string: new Set([undefined, 'exact', 'contains', 'missing']),
  reference: new Set([undefined, 'missing']),
  uri: new Set([undefined, 'above', 'below', 'missing']),
  date: new Set([undefined, 'missing']),
};

export function parseCriteria(defs: Definitions, type: string, query: URLSearchParams): ParsedCriteria {
  const filters: Filter[] = [];
  const unsupported: string[] = [];
  const params = defs.searchParams(type);
  for (const [key, raw] of query) {
    if (RESULT_PARAMS.has(key)) continue;
    const [code = '', modifier] = key.split(':', 2);
    const param = params.get(code);
    if (!param || !param.expression || !SUPPORTED[param.type]?.has(modifier)) {
      unsupported.push(key);
      continue;
    }
    const values = splitValues(raw);
    if (values.length === 0) throw badRequest(`Search parameter '${key}' has no value`);
    const f: Filter = { param, values };
    if (modifier) f.modifier = modifier;
    filters.push(f);
  }
  return { filters, unsupported };
}

/** Splits on commas not escaped with a backslash, and unescapes `\,` `\|` `\$` `\\`. */
export function splitValues(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      cur += c + raw[++i];
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((v) => v.length > 0);
}

export function unescapeValue(v: string): string {
  return v.replace(/\\([\\,|$])/g, '$1');
}

/** Splits `system|code` at the first unescaped bar. */
export function splitToken(v: string): { system?: string; code?: string } {
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      i++;
      continue;
    }
    if (v[i] === '|') {
      const system = unescapeValue(v.slice(0, i));
      const code = unescapeValue(v.slice(i + 1));
      const out: { system?: string; code?: string } = { system };
      if (code) out.code = code;
      return out;
    }
  }
  return { code: unescapeValue(v) };
}
