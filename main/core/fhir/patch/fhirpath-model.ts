/**
 * Questions FHIRPath Patch must ask of the R4 model that a JSON tree cannot answer:
 * is an absent element a list, which JSON key does a choice element take, and what type
 * do the parts of a complex value belong to. Answers come from the model fhirpath.js
 * already ships (the same one it evaluates paths with), so path typing and patch typing
 * cannot disagree.
 *
 * A "type path" is what fhirpath.js puts in ResourceNode.path: a type name ('HumanName',
 * 'Patient') or, for backbone elements, the element path ('Patient.contact').
 */
import r4model from 'fhirpath/fhir-context/r4';

const model = r4model;
const ALWAYS_LISTS = new Set(['extension', 'modifierExtension', 'contained']);
const ABSTRACT = new Set(['Element', 'BackboneElement']);

/** Looks `name` up under `typePath`, then under each ancestor type (Age -> Quantity -> Element). */
function lookup<T>(table: Record<string, T>, typePath: string | null, name: string): T | undefined {
  if (!typePath) return undefined;
  const direct = `${typePath}.${name}`;
  const found = table[model.pathsDefinedElsewhere[direct] ?? direct];
  if (found !== undefined || typePath.includes('.')) return found;
  for (let t = model.type2Parent[typePath]; t; t = model.type2Parent[t]) {
    const inherited = table[`${t}.${name}`];
    if (inherited !== undefined) return inherited;
  }
  return undefined;
}

/** Whether element `name` of `typePath` repeats (is a JSON array). */
export function isRepeating(typePath: string | null, name: string): boolean {
  return lookup(model.path2Repeating, typePath, name) === true || ALWAYS_LISTS.has(name);
}

/** Allowed type suffixes when `name` is a choice element (value[x]) of `typePath`. */
export function choiceTypes(typePath: string | null, name: string): string[] | undefined {
  return lookup(model.choiceTypePaths, typePath, name);
}

/** Splits a concrete choice key ('valueQuantity') into its base and allowed types. */
export function choiceOf(typePath: string | null, key: string): { base: string; types: string[] } | undefined {
  for (let i = key.length - 1; i > 0; i--) {
    const c = key.charAt(i);
    if (c < 'A' || c > 'Z') continue;
    const types = choiceTypes(typePath, key.slice(0, i));
    if (types?.includes(key.slice(i))) return { base: key.slice(0, i), types };
  }
  return undefined;
}

/** Type path of child `key` (concrete JSON key) of `typePath`, as fhirpath.js would name it. */
export function childTypePath(typePath: string | null, key: string): string | null {
  if (!typePath) return null;
  const direct = `${typePath}.${key}`;
  const path = model.pathsDefinedElsewhere[direct] ?? direct;
  const type = lookup(model.path2Type, typePath, key);
  if (type === undefined) return null;
  return ABSTRACT.has(type) ? path : type;
}
