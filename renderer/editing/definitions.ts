/**
 * The R4 definitions, read at run time from the core (`/flint/definitions`): a type's
 * StructureDefinition (its snapshot's elements: path, short, cardinality, types, binding)
 * and the expansion of a bound value set. Both never change while the UI runs, so they
 * are cached for good. Helpers find elements and their children in a snapshot.
 */
import type { ElementDefinition, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { useFlint } from '../app/flint-context';

export function useStructureDefinition(type: string | undefined) {
  const { flint } = useFlint();
  return useQuery({
    queryKey: ['definitions', 'StructureDefinition', type],
    queryFn: () => flint.structureDefinition(type!),
    enabled: !!type,
    staleTime: Infinity,
    gcTime: Infinity,
  });
}

export interface CodeOption {
  system: string;
  code: string;
  display?: string;
}

/** A bound value set's codes; `data` undefined while loading, `error` when it cannot be listed (422: free text instead). */
export function useValueSet(url: string | undefined) {
  const { flint } = useFlint();
  return useQuery({
    queryKey: ['definitions', 'ValueSet', url],
    queryFn: async (): Promise<CodeOption[]> => optionsOf(await flint.valueSet(url!)),
    enabled: !!url,
    staleTime: Infinity,
    gcTime: Infinity,
    retry: false,
  });
}

export function optionsOf(vs: ValueSet): CodeOption[] {
  return (vs.expansion?.contains ?? [])
    .filter((c) => c.code && !c.abstract)
    .map((c) => ({ system: c.system ?? '', code: c.code!, ...(c.display ? { display: c.display } : {}) }));
}

/** `AllergyIntolerance.reaction[0].severity` -> `AllergyIntolerance.reaction.severity`. */
export const definitionPath = (path: string) => path.replace(/\[\d+\]/g, '');

export function elementAt(sd: StructureDefinition | undefined, path: string): ElementDefinition | undefined {
  const want = definitionPath(path);
  const elements = sd?.snapshot?.element ?? [];
  return (
    elements.find((e) => e.path === want) ??
    // A concrete choice (`Observation.valueQuantity`) is defined as `Observation.value[x]`.
    elements.find((e) => e.path?.endsWith('[x]') && want.startsWith(e.path.slice(0, -3)) && /^[A-Z]/.test(want.slice(e.path.length - 3)) && !want.slice(e.path.length - 3).includes('.'))
  );
}

/** The elements directly below `parent` (a type name or an element path), in definition order. */
export function childElements(sd: StructureDefinition | undefined, parent: string): ElementDefinition[] {
  const prefix = `${definitionPath(parent)}.`;
  return (sd?.snapshot?.element ?? []).filter((e) => e.path?.startsWith(prefix) && !e.path.slice(prefix.length).includes('.'));
}

/** The value set an element is bound to, without its version (`|4.0.1`). */
export function bindingOf(e: ElementDefinition | undefined): { url: string; strength: string } | undefined {
  const url = e?.binding?.valueSet;
  if (!url) return undefined;
  return { url: url.split('|')[0]!, strength: e.binding?.strength ?? 'example' };
}

/** An element's own name: `Patient.birthDate` -> `birthDate`, `Observation.value[x]` -> `value[x]`. */
export const elementName = (e: ElementDefinition | string) => {
  const path = typeof e === 'string' ? e : (e.path ?? '');
  return path.slice(path.lastIndexOf('.') + 1);
};

/** `birthDate` -> `Birth date`, `value[x]` -> `Value`, `managingOrganization` -> `Managing organization`. */
export function humanize(name: string): string {
  const words = name
    .replace(/\[x\]$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean);
  const text = words.map((w, i) => (i > 0 && !/^[A-Z]{2,}$/.test(w) ? w.toLowerCase() : w)).join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The label of an element: its name in words. */
export const elementLabel = (e: ElementDefinition) => humanize(elementName(e));

/** The type name a choice element takes for `t`: `value[x]` + `Quantity` -> `valueQuantity`. */
export const choiceName = (name: string, t: string) => `${name.replace(/\[x\]$/, '')}${t.charAt(0).toUpperCase()}${t.slice(1)}`;

export const isArray = (e: ElementDefinition) => e.max === '*' || Number(e.max ?? '1') > 1;
