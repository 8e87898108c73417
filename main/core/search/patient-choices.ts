/**
 * The patient picker of the SMART consent page: patients by name prefix (or the first
 * ones), with a display name and birth date, read through the search index.
 */
import type { HumanName, Patient } from '@medplum/fhirtypes';
import type { PatientChoice } from '../auth/smart/types';
import type { Definitions } from '../fhir/definitions';
import type { ResourceStore } from '../store/resource-store';
import type { Criterion } from './criteria';
import type { IndexSearch } from './index-search';


const PICKER_SIZE = 20;

export function patientChoices(search: IndexSearch, store: ResourceStore, defs: () => Definitions) {
  return {
    async find(nameQuery: string): Promise<PatientChoice[]> {
      const name = defs().searchParams('Patient').get('name');
      const criteria: Criterion[] = nameQuery.trim() && name ? [{ kind: 'param', param: name, values: [nameQuery.trim()] }] : [];
      const page = search.page([{ type: 'Patient', criteria }], [], { count: PICKER_SIZE });
      const heads = await store.heads(page.entries.map((e) => ({ type: 'Patient', id: e.id })));
      return page.entries.flatMap((e) => {
        const p = heads.get(`Patient/${e.id}`)?.resource as Patient | undefined;
        if (!p) return [];
        const choice: PatientChoice = { id: e.id, name: displayName(p.name) ?? e.id };
        if (p.birthDate) choice.birthDate = p.birthDate;
        return [choice];
      });
    },
    async exists(id: string): Promise<boolean> {
      const head = (await store.heads([{ type: 'Patient', id }])).get(`Patient/${id}`);
      return !!head && !head.deleted;
    },
  };
}

function displayName(names: HumanName[] | undefined): string | undefined {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return undefined;
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}
