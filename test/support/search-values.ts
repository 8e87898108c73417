/**
 * Turns FHIRPath output (search-definitions.ts) into the search values that must find the
 * resource it came from, after the R4 search page: one value per way of searching it
 * (`system|code` and plain `code`, a Period's start and end, ...). A value that gives
 * no search is a skip with a reason, which the caller counts: skipping must stay rare.
 */
import type { ParamDef, SearchDefinitions, Typed } from './search-definitions';

export interface SearchValue {
  modifier?: string;
  /** Escaped (`\,` `\|` `\$` `\\`), not yet URL-encoded. */
  value: string;
}

export interface Check extends SearchValue {
  type: string;
  id: string;
  code: string;
  paramType: string;
}

export interface Extraction {
  checks: Check[];
  /** FHIRPath output items (composites: selected elements), each a search or a skip. */
  extracted: number;
  skipped: Map<string, number>;
}

type Converted = SearchValue[] | { skip: string };

/** R4 escaping of `,` `|` `$` and `\` inside a value. */
export const esc = (s: string): string => s.replace(/[\\,|$]/g, '\\$&');

const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const s = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const skip = (why: string): Converted => ({ skip: why });
const some = (values: SearchValue[], why: string): Converted => (values.length > 0 ? values : skip(why));

export function extractChecks(defs: SearchDefinitions, resource: Record<string, unknown>): Extraction {
  const type = String(resource.resourceType);
  const id = String(resource.id);
  const out: Extraction = { checks: [], extracted: 0, skipped: new Map() };
  const seen = new Set<string>();
  for (const p of defs(type)) {
    for (const converted of convertParam(p, resource)) {
      out.extracted++;
      if ('skip' in converted) {
        const why = `${p.type}: ${converted.skip}`;
        out.skipped.set(why, (out.skipped.get(why) ?? 0) + 1);
        continue;
      }
      for (const v of converted) {
        const key = `${p.code}:${v.modifier ?? ''}=${v.value}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.checks.push({ type, id, code: p.code, paramType: p.type, ...v });
      }
    }
  }
  return out;
}

/**
 * Bundle.composition and Bundle.message select `Bundle.entry[0].resource`, which is their
 * target only in a document or message bundle: like `where(resolve() is T)`, the target
 * types filter what the expression means, so a Patient there is no value.
 */
function isOtherResource(p: ParamDef, v: Typed): boolean {
  const resourceType = o(v.value).resourceType;
  return p.type === 'reference' && typeof resourceType === 'string' && p.targets.length > 0 && !p.targets.includes(resourceType);
}

function convertParam(p: ParamDef, resource: unknown): Converted[] {
  try {
    if (p.type === 'composite') return composite(p, resource);
    return p
      .evaluate(resource, resource)
      .filter((v) => !isOtherResource(p, v))
      .map((v) => convert(p.type, v));
  } catch (e) {
    return [skip(`fhirpath.js fails on the expression (${String(e).slice(0, 80)})`)];
  }
}

/**
 * Components joined with `$`, each from its expression relative to the selected element.
 * An element where a component finds nothing has no composite value (an Observation with
 * a valueQuantity for code-value-concept); one whose component values do not convert is a skip.
 */
function composite(p: ParamDef, resource: unknown): Converted[] {
  const out: Converted[] = [];
  for (const member of p.members) {
    for (const element of member.evaluate(resource, resource)) {
      const found = (p.components ?? []).map((c) => ({ c, values: c.evaluate(member.base)(element.value, resource) }));
      if (found.length === 0 || found.some((f) => f.values.length === 0)) continue;
      const converted = found.map(({ c, values }) => values.flatMap((v) => searchValues(convert(c.type, v))));
      // Modifiers have no place in a composite: each component takes its first plain value.
      const parts = converted.map((values) => values.find((x) => !x.modifier)?.value);
      if (parts.every((x) => x !== undefined)) out.push([{ value: parts.join('$') }]);
      else if (converted.some((values) => values.length > 0 && values.every((x) => x.modifier === 'text'))) {
        out.push(skip('a component is text only (no code)'));
      } else out.push(skip(`a component does not convert (${found.map((f) => `${f.c.type} from ${f.values[0]?.type}`).join(', ')})`));
    }
  }
  return out;
}

const searchValues = (c: Converted): SearchValue[] => ('skip' in c ? [] : c);

export function convert(paramType: string, v: Typed): Converted {
  switch (paramType) {
    case 'token':
      return token(v);
    case 'string':
      return string(v);
    case 'reference':
      return reference(v);
    case 'date':
      return date(v);
    case 'number':
      return typeof v.value === 'number' ? [{ value: String(v.value) }] : skip(`number from ${v.type}`);
    case 'quantity':
      return quantity(v);
    case 'uri':
      return s(v.value) ? [{ value: esc(v.value as string) }] : skip(`uri from ${v.type}`);
    default:
      return skip(`parameter type ${paramType}`);
  }
}

function token(v: Typed): Converted {
  if (typeof v.value === 'boolean') return [{ value: String(v.value) }];
  if (typeof v.value === 'string') return v.value ? [{ value: esc(v.value) }] : skip('empty string');
  const x = o(v.value);
  switch (v.type) {
    case 'Coding':
      return some(coding(x), 'Coding without code or display');
    case 'CodeableConcept': {
      const values = list(x.coding).flatMap((c) => coding(o(c)));
      if (s(x.text)) values.push({ modifier: 'text', value: esc(x.text as string) });
      return some(values, 'CodeableConcept without code or text');
    }
    case 'Identifier':
      if (!s(x.value)) return skip('Identifier without value');
      return [{ value: s(x.system) ? `${esc(x.system as string)}|${esc(x.value as string)}` : esc(x.value as string) }];
    case 'ContactPoint':
      return s(x.value) ? [{ value: esc(x.value as string) }] : skip('ContactPoint without value');
    default:
      return skip(`token from ${v.type}`);
  }
}

function coding(c: Record<string, unknown>): SearchValue[] {
  const out: SearchValue[] = [];
  const code = s(c.code);
  if (code && s(c.system)) out.push({ value: `${esc(c.system as string)}|${esc(code)}` });
  if (code) out.push({ value: esc(code) });
  if (s(c.display)) out.push({ modifier: 'text', value: esc(c.display as string) });
  return out;
}

const NAME_PARTS = ['family', 'given', 'text', 'prefix', 'suffix'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function string(v: Typed): Converted {
  if (typeof v.value === 'string') return v.value.trim() ? [{ value: esc(prefixOf(v.value)) }] : skip('blank string');
  const parts = v.type === 'HumanName' ? NAME_PARTS : v.type === 'Address' ? ADDRESS_PARTS : undefined;
  if (!parts) return skip(`string from ${v.type}`);
  const x = o(v.value);
  const values = parts.flatMap((k) => list(x[k]).flatMap((p) => (s(p)?.trim() ? [{ value: esc(prefixOf(p as string)) }] : [])));
  return some(values, `${v.type} without text parts`);
}

/** Long texts (markdown descriptions) are searched by their start: the default search is starts-with. */
function prefixOf(text: string): string {
  const chars = Array.from(text);
  return chars.length <= 300 ? text : chars.slice(0, 300).join('');
}

const LITERAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

function reference(v: Typed): Converted {
  const x = o(v.value);
  if (typeof v.value === 'string') {
    // canonical / uri: the url, without a `|version`.
    if (v.value.startsWith('#')) return skip('reference to a contained resource');
    return v.value ? [{ value: esc(v.value.split('|')[0] as string) }] : skip('empty reference');
  }
  if (v.type !== 'Reference') {
    // Bundle.composition / Bundle.message select the resource itself.
    if (typeof x.resourceType !== 'string') return skip(`reference from ${v.type}`);
    return s(x.id) ? [{ value: `${x.resourceType}/${esc(x.id as string)}` }] : skip('resource without id');
  }
  const out: SearchValue[] = [];
  const ref = s(x.reference);
  if (ref?.startsWith('#')) return skip('reference to a contained resource');
  const m = ref ? LITERAL.exec(ref) : null;
  if (m) out.push({ value: `${m[1]}/${m[2]}` });
  else if (ref && ABSOLUTE.test(ref)) out.push({ value: esc(ref) });
  else if (ref) return skip(`unrecognized reference form ${ref.slice(0, 40)}`);
  const ident = o(x.identifier);
  if (s(ident.value)) {
    const system = s(ident.system);
    out.push({ modifier: 'identifier', value: system ? `${esc(system)}|${esc(ident.value as string)}` : esc(ident.value as string) });
  }
  return some(out, 'Reference with neither reference nor identifier');
}

function date(v: Typed): Converted {
  if (typeof v.value === 'string') {
    return /^\d{4}(-\d\d(-\d\d(T.+)?)?)?$/.test(v.value) ? [{ value: `eq${v.value}` }] : skip(`date from ${v.type} '${v.value}'`);
  }
  const x = o(v.value);
  if (v.type === 'Period') {
    const out: SearchValue[] = [];
    if (s(x.start)) out.push({ value: `ge${x.start as string}` });
    if (s(x.end)) out.push({ value: `le${x.end as string}` });
    return some(out, 'Period without start or end');
  }
  if (v.type === 'Timing') {
    // R4 searches a Timing by its outer limits: its events and repeat.boundsPeriod.
    const bounds = o(o(x.repeat).boundsPeriod);
    const events = list(x.event).filter((e): e is string => typeof e === 'string');
    const byTime = (a: string, b: string) => Date.parse(a) - Date.parse(b);
    const first = [...events, ...list(bounds.start)].filter((e): e is string => typeof e === 'string').sort(byTime)[0];
    const last = [...events, ...list(bounds.end)].filter((e): e is string => typeof e === 'string').sort(byTime).at(-1);
    const out: SearchValue[] = [];
    if (first) out.push({ value: `ge${first}` });
    if (last) out.push({ value: `le${last}` });
    return some(out, 'Timing with neither events nor bounds');
  }
  return skip(`date from ${v.type}`);
}

const PREFIX: Record<string, string> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

function quantity(v: Typed): Converted {
  const x = o(v.value);
  if (v.type === 'Range') {
    const out: SearchValue[] = [];
    const low = o(x.low);
    const high = o(x.high);
    if (typeof low.value === 'number') out.push({ value: `ge${quantityValue(low)}` });
    if (typeof high.value === 'number') out.push({ value: `le${quantityValue(high)}` });
    return some(out, 'Range without low or high');
  }
  if (v.type === 'SampledData') return skip('SampledData (no quantity semantics in R4)');
  if (typeof x.value !== 'number') return skip(`${v.type} without value`);
  if (v.type === 'Money') {
    return [{ value: s(x.currency) ? `${x.value}|urn:iso:std:iso:4217|${esc(x.currency as string)}` : String(x.value) }];
  }
  return [{ value: `${PREFIX[String(x.comparator)] ?? ''}${quantityValue(x)}` }];
}

/** `value|system|code`, or `value||unit` without a code, or the bare value. */
function quantityValue(q: Record<string, unknown>): string {
  const code = s(q.code);
  if (code) return `${q.value as number}|${esc(s(q.system) ?? '')}|${esc(code)}`;
  return s(q.unit) ? `${q.value as number}||${esc(q.unit as string)}` : String(q.value);
}
