/**
 * Search criteria as the form holds them (parameter, modifier, prefix, value) and as a
 * FHIR query string, both ways: the query is the page's address (`/search/Observation?
 * code=http://loinc.org|8867-4&date=ge2024`), so it can be bookmarked and Back works.
 * `_sort` and `_count` are the table's; result parameters (`_include`, `_summary`...) pass
 * through unchanged.
 */

export type ParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export interface ParamInfo {
  name: string;
  type: ParamType;
  documentation?: string;
}

export interface Criterion {
  param: string;
  /** Without the colon: `exact`, `missing`, `Patient`... or '' */
  modifier: string;
  /** eq ne gt lt ge le sa eb ap, for dates, numbers and quantities; '' for none. */
  prefix: string;
  value: string;
}

export interface SearchState {
  type: string;
  criteria: Criterion[];
  /** `_sort` as given (`-date`, `family,given`), or ''. */
  sort: string;
  /** `_count`, or undefined for the server's default. */
  count: number | undefined;
  /** Result parameters kept as they are. */
  extras: Array<[string, string]>;
}

export const PREFIXES: Array<{ value: string; label: string }> = [
  { value: 'eq', label: 'equals (eq)' },
  { value: 'ne', label: 'not equal (ne)' },
  { value: 'gt', label: 'greater / after (gt)' },
  { value: 'lt', label: 'less / before (lt)' },
  { value: 'ge', label: 'greater or equal / from (ge)' },
  { value: 'le', label: 'less or equal / until (le)' },
  { value: 'sa', label: 'starts after (sa)' },
  { value: 'eb', label: 'ends before (eb)' },
  { value: 'ap', label: 'approximately (ap)' },
];

const PREFIX_RE = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-+\d.])/;

/** Parameters every type has (R4 "Resource" search parameters), offered even if the server lists them elsewhere. */
export const COMMON_PARAMS: ParamInfo[] = [
  { name: '_id', type: 'token', documentation: 'The id of the resource' },
  { name: '_lastUpdated', type: 'date', documentation: 'When the resource was last changed' },
  { name: '_tag', type: 'token', documentation: 'Tags on the resource (system|code)' },
  { name: '_profile', type: 'uri', documentation: 'Profiles the resource claims' },
  { name: '_security', type: 'token', documentation: 'Security labels (system|code)' },
  { name: '_source', type: 'uri', documentation: 'Where the resource came from' },
];

/** Keys that shape the result rather than select: kept, not shown as criteria. */
const RESULT_PARAMS = new Set(['_include', '_revinclude', '_summary', '_elements', '_total', '_contained', '_containedType', '_format', '_pretty']);

export const hasPrefix = (type: ParamType | undefined) => type === 'date' || type === 'number' || type === 'quantity';

/**
 * The modifiers a parameter takes, by type (R4 3.1.1.5), as far as this server serves them.
 * `targets` are a reference parameter's target types (`:Patient`...).
 */
export function modifiersFor(p: ParamInfo | undefined, targets: readonly string[] = []): Array<{ value: string; label: string }> {
  const none = { value: '', label: '(none)' };
  const missing = { value: 'missing', label: ':missing (is or is not set)' };
  switch (p?.type) {
    case 'string':
      return [none, { value: 'exact', label: ':exact (whole value, case-sensitive)' }, { value: 'contains', label: ':contains (anywhere in the value)' }, missing];
    case 'token': {
      const out = [none, { value: 'not', label: ':not (anything but)' }, { value: 'text', label: ':text (in the display text)' }, missing];
      if (p.name === 'identifier' || p.name.endsWith('-identifier')) out.push({ value: 'of-type', label: ':of-type (identifier type|value)' });
      return out;
    }
    case 'reference':
      return [none, missing, { value: 'identifier', label: ':identifier (by the target’s identifier)' }, ...targets.map((t) => ({ value: t, label: `:${t} (only ${t} targets)` }))];
    case 'uri':
      return [none, { value: 'below', label: ':below (starts with)' }, { value: 'above', label: ':above' }, missing];
    case undefined:
      return [none, missing];
    default:
      return [none, missing];
  }
}

/** What to type as a value, by parameter type and modifier. */
export function valueHint(p: ParamInfo | undefined, modifier: string): string {
  if (modifier === 'missing') return 'true (not set) or false (set)';
  if (modifier === 'identifier') return 'system|value';
  if (modifier === 'of-type') return 'type system|type code|value';
  switch (p?.type) {
    case 'token':
      return modifier === 'text' ? 'words in the display text' : 'code, or system|code';
    case 'date':
      return '2024, 2024-03, 2024-03-01 or 2024-03-01T10:00';
    case 'number':
      return 'a number';
    case 'quantity':
      return 'number|system|code, e.g. 5.4|http://unitsofmeasure.org|mg';
    case 'reference':
      return 'Type/id, or id';
    case 'uri':
      return 'a URI';
    case 'string':
      return 'text (starts with, ignoring case and accents)';
    default:
      return 'value; a comma means “or”';
  }
}

export const criterionKey = (c: Criterion) => (c.modifier ? `${c.param}:${c.modifier}` : c.param);

export function criterionValue(c: Criterion, type: ParamType | undefined): string {
  if (c.modifier !== 'missing' && hasPrefix(type) && c.prefix) return `${c.prefix}${c.value.trim()}`;
  return c.value.trim();
}

export const blankCriterion = (param = ''): Criterion => ({ param, modifier: '', prefix: '', value: '' });

/** The query of a search, in a stable order: criteria, then _sort, _count, result parameters. */
export function toQuery(state: Pick<SearchState, 'criteria' | 'sort' | 'count' | 'extras'>, params: readonly ParamInfo[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of state.criteria) {
    if (!c.param.trim()) continue;
    const value = criterionValue(c, typeOf(c.param, params));
    if (value === '') continue;
    out.push([criterionKey(c), value]);
  }
  if (state.sort) out.push(['_sort', state.sort]);
  if (state.count !== undefined) out.push(['_count', String(state.count)]);
  out.push(...state.extras);
  return out;
}

/** A query string from pairs, readable where that is safe: `|`, `:`, `/` and `,` stay as they are. */
export function encodeQuery(pairs: ReadonlyArray<[string, string]>): string {
  const enc = (s: string) =>
    encodeURIComponent(s)
      .replace(/%7C/gi, '|')
      .replace(/%3A/gi, ':')
      .replace(/%2F/gi, '/')
      .replace(/%2C/gi, ',');
  return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

export function typeOf(param: string, params: readonly ParamInfo[]): ParamType | undefined {
  const base = param.split('.')[0]!;
  return params.find((p) => p.name === base)?.type ?? COMMON_PARAMS.find((p) => p.name === base)?.type;
}

/** A query string (or pairs) back as the form's state. */
export function fromQuery(type: string, query: string | URLSearchParams, params: readonly ParamInfo[]): SearchState {
  const q = typeof query === 'string' ? new URLSearchParams(query.replace(/^\?/, '')) : query;
  const state: SearchState = { type, criteria: [], sort: '', count: undefined, extras: [] };
  for (const [key, raw] of q) {
    if (key === '_sort') state.sort = raw;
    else if (key === '_count') state.count = /^\d+$/.test(raw) ? Number(raw) : undefined;
    else if (RESULT_PARAMS.has(key) || key === '_cursor') state.extras.push([key, raw]);
    else {
      const colon = key.indexOf(':');
      const param = colon < 0 ? key : key.slice(0, colon);
      const modifier = colon < 0 ? '' : key.slice(colon + 1);
      let prefix = '';
      let value = raw;
      const m = PREFIX_RE.exec(raw);
      if (modifier !== 'missing' && hasPrefix(typeOf(param, params)) && m) {
        prefix = m[1]!;
        value = raw.slice(prefix.length);
      }
      state.criteria.push({ param, modifier, prefix, value });
    }
  }
  return state;
}

/**
 * The expert's query box: `Observation?code=...`, `/fhir/Observation?...` or a full URL.
 * Returns the type and the query, or an error in words.
 */
export function parseRawQuery(text: string): { type: string; query: string } | { error: string } {
  let t = text.trim();
  if (!t) return { error: 'Type a query such as Observation?code=8867-4.' };
  try {
    if (/^https?:\/\//i.test(t)) {
      const u = new URL(t);
      t = `${u.pathname}${u.search}`;
    }
  } catch {
    return { error: 'This is not a valid address.' };
  }
  t = t.replace(/^\/+/, '').replace(/^fhir\//, '');
  const q = t.indexOf('?');
  const type = q < 0 ? t : t.slice(0, q);
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return { error: `Start with a resource type, such as Observation?… (not “${type.slice(0, 40)}”).` };
  return { type, query: q < 0 ? '' : t.slice(q + 1) };
}

/** The first `_sort` key as the table shows it. */
export function sortState(sort: string): { key: string; direction: 'asc' | 'desc' } | undefined {
  const first = sort.split(',')[0]?.trim();
  if (!first) return undefined;
  return first.startsWith('-') ? { key: first.slice(1), direction: 'desc' } : { key: first, direction: 'asc' };
}

export const sortParam = (s: { key: string; direction: 'asc' | 'desc' }) => (s.direction === 'desc' ? `-${s.key}` : s.key);
