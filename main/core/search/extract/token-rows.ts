/**
 * Token rows after the R4 token table: Coding (system|code), CodeableConcept (each coding,
 * plus its text for :text), Identifier (system|value, type for :of-type), ContactPoint
 * (value, no system), boolean, and code/string/uri/id primitives (no system).
 */
import type { TokenRow } from './rows';
import { normalizeText } from './text';
import { arr, obj, str, type FhirValue } from './values';

export function tokenRows(param: string, v: FhirValue): TokenRow[] {
  const value = v.value;
  if (typeof value === 'boolean') return [row(param, null, value ? 'true' : 'false', null)];
  if (typeof value === 'string' || typeof value === 'number') return value === '' ? [] : [row(param, null, String(value), null)];
  const o = obj(value);
  switch (v.type) {
    case 'Coding':
      return coding(param, o);
    case 'CodeableConcept':
      return concept(param, o);
    case 'Identifier':
      return identifier(param, o);
    case 'ContactPoint':
      return contactPoint(param, o);
    default:
      return byShape(param, o);
  }
}

function row(param: string, system: string | null, code: string | null, text: string | null): TokenRow {
  return { param, system, code, text: text === null ? null : normalizeText(text) || null };
}

function coding(param: string, o: Record<string, unknown>): TokenRow[] {
  const system = str(o.system);
  const code = str(o.code);
  const display = str(o.display);
  return system || code || display ? [row(param, system, code, display)] : [];
}

function concept(param: string, o: Record<string, unknown>): TokenRow[] {
  const out = arr(o.coding).flatMap((c) => coding(param, obj(c)));
  const text = str(o.text);
  // A row of its own so :text finds CodeableConcept.text even when codings have displays.
  if (text) out.push(row(param, null, null, text));
  return out;
}

function identifier(param: string, o: Record<string, unknown>): TokenRow[] {
  const system = str(o.system);
  const value = str(o.value);
  if (!system && !value) return [];
  const type = obj(o.type);
  const base = row(param, system, value, str(type.text));
  const types = arr(type.coding).map(obj).filter((c) => str(c.code));
  if (types.length === 0) return [base];
  return types.map((c) => ({ ...base, ofTypeSystem: str(c.system), ofTypeCode: str(c.code) }));
}

function contactPoint(param: string, o: Record<string, unknown>): TokenRow[] {
  const value = str(o.value);
  return value ? [row(param, null, value, null)] : [];
}

/** Types the table does not name (Quantity in a token param, untyped nodes): go by shape. */
function byShape(param: string, o: Record<string, unknown>): TokenRow[] {
  if (Array.isArray(o.coding) || typeof o.text === 'string') return concept(param, o);
  if (typeof o.code === 'string') return coding(param, o);
  if (typeof o.value === 'string') return identifier(param, o);
  return [];
}
