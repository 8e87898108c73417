/**
 * Reference rewriting inside a transaction: every `urn:uuid:` / fullUrl that names an
 * entry of the Bundle, and every conditional reference (`Patient?identifier=...`), is
 * replaced by the `Type/id` it resolves to, in Reference.reference wherever it sits
 * (extensions and contained resources included) and inside narrative `div`s. Other
 * strings (identifiers that happen to hold a uuid) are data and stay as they are.
 */
import { carryDecimalTexts } from '../../../../shared/fhir/exact-json';

/** Conditional reference: `Type?criteria`. */
export const CONDITIONAL_REF = /^([A-Z][A-Za-z]+)\?(.+)$/;

/** Collects every Reference.reference value in a resource tree. */
export function collectReferences(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) collectReferences(item, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.add(v);
      else collectReferences(v, out);
    }
  }
  return out;
}

/**
 * Returns a copy of `node` with references rewritten through `map` (old -> new).
 */
export function rewriteReferences<T>(node: T, map: ReadonlyMap<string, string>): T {
  if (map.size === 0) return node;
  return walk(node, map) as T;
}

function walk(node: unknown, map: ReadonlyMap<string, string>, key?: string): unknown {
  if (typeof node === 'string') {
    if (key === 'reference') return map.get(node) ?? node;
    if (key === 'div') return replaceInText(node, map);
    return node;
  }
  if (Array.isArray(node)) return node.map((item) => walk(item, map));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, map, k);
    return carryDecimalTexts(node, out);
  }
  return node;
}

function replaceInText(text: string, map: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of map) {
    if (from.startsWith('urn:') && out.includes(from)) out = out.split(from).join(to);
  }
  return out;
}
