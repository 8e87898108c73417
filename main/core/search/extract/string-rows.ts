/**
 * String and uri parameter rows. R4: a string search on HumanName or Address matches any of
 * their text parts, so each part is its own row (a prefix search for "joh" must hit the
 * given name "John" even though the family name comes first).
 */
import type { StringRow, UriRow } from './rows';
import { normalizeText } from './text';
import { arr, obj, str, type FhirValue } from './values';

const NAME_PARTS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_PARTS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'];
/** Keys whose strings are codes or links rather than searchable text. */
const NOT_TEXT = new Set(['extension', 'modifierExtension', 'id', 'system', 'use', 'url', 'reference', 'code', 'period']);

export function stringRows(param: string, v: FhirValue): StringRow[] {
  return textsOf(v).flatMap((exact) => {
    const value = normalizeText(exact);
    return value ? [{ param, value, exact }] : [];
  });
}

export function uriRows(param: string, v: FhirValue): UriRow[] {
  const uri = str(v.value);
  return uri ? [{ param, uri }] : [];
}

function textsOf(v: FhirValue): string[] {
  const value = v.value;
  if (typeof value === 'string') return value ? [value] : [];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  const o = obj(value);
  if (v.type === 'HumanName') return partsOf(o, NAME_PARTS);
  if (v.type === 'Address') return partsOf(o, ADDRESS_PARTS);
  return deepStrings(o, 0);
}

function partsOf(o: Record<string, unknown>, keys: string[]): string[] {
  return keys.flatMap((k) => arr(o[k]).filter((x): x is string => typeof x === 'string' && x.length > 0));
}

/** Unknown complex values (rare: a string param over a CodeableConcept, say): their text leaves. */
function deepStrings(o: Record<string, unknown>, depth: number): string[] {
  if (depth > 4) return [];
  const out: string[] = [];
  for (const [k, val] of Object.entries(o)) {
    if (NOT_TEXT.has(k) || k.startsWith('_')) continue;
    for (const item of arr(val)) {
      if (typeof item === 'string' && item) out.push(item);
      else if (item && typeof item === 'object') out.push(...deepStrings(obj(item), depth + 1));
    }
  }
  return out;
}
