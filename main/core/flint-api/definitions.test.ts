import { describe, expect, it } from 'vitest';
import { FhirError } from '../../../shared/fhir/outcome';
import type { ElementDefinition, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { DefinitionCatalog } from '../fhir/definition-catalog';
import { createDefinitionsRoute } from './definitions';

const catalog = new DefinitionCatalog();
const route = createDefinitionsRoute(catalog);
const get = (path: string[], query = '') => route.handle({ method: 'GET', path: ['definitions', ...path], query: new URLSearchParams(query) });
const codes = (r: unknown) => (r as { body: ValueSet }).body.expansion!.contains!.map((c) => c.code);

describe('/flint/definitions', () => {
  it('serves a resource type with its snapshot, bindings and cardinality, trimmed of prose', async () => {
    const r = await get(['StructureDefinition', 'Patient']);
    const sd = JSON.parse((r as { raw: string }).raw) as StructureDefinition;
    expect(sd.type).toBe('Patient');
    const gender = sd.snapshot!.element!.find((e: ElementDefinition) => e.path === 'Patient.gender')!;
    expect(gender.binding?.strength).toBe('required');
    expect(gender.binding?.valueSet).toMatch(/administrative-gender/);
    expect(gender.max).toBe('1');
    expect(gender.type?.[0]?.code).toBe('code');
    expect(JSON.stringify(sd)).not.toContain('"mapping"');
  });

  it('serves data types, and 404 for a name that is not an R4 base definition', async () => {
    const r = await get(['StructureDefinition', 'HumanName']);
    expect(JSON.parse((r as { raw: string }).raw).kind).toBe('complex-type');
    await expect(get(['StructureDefinition', 'vitalsigns'])).rejects.toMatchObject({ status: 404 });
    await expect(get(['StructureDefinition', 'NoSuchType'])).rejects.toBeInstanceOf(FhirError);
  });

  it('expands a value set drawn from a whole code system', async () => {
    expect(codes(await get(['ValueSet'], 'url=http://hl7.org/fhir/ValueSet/administrative-gender')).sort()).toEqual(['female', 'male', 'other', 'unknown']);
    // A version suffix is accepted.
    expect(codes(await get(['ValueSet'], 'url=http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1'))).toHaveLength(4);
  });

  it('expands is-a filters over a hierarchical code system and applies excludes', async () => {
    const c = codes(await get(['ValueSet'], 'url=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode'));
    expect(c).toEqual(expect.arrayContaining(['AMB', 'EMER', 'IMP']));
    expect(c).not.toContain('_ActEncounterCode');
    expect(c).not.toContain('PCPR'); // elsewhere in ActCode, not under _ActEncounterCode
  });

  it('says plainly when the codes do not ship (SNOMED CT) and 404 for an unknown value set', async () => {
    await expect(get(['ValueSet'], 'url=http://hl7.org/fhir/ValueSet/condition-code')).rejects.toMatchObject({ status: 422 });
    await expect(get(['ValueSet'], 'url=http://example.org/nothing')).rejects.toMatchObject({ status: 404 });
    await expect(get(['ValueSet'])).rejects.toMatchObject({ status: 400 });
  });

  it('refuses writes', async () => {
    await expect(route.handle({ method: 'POST', path: ['definitions', 'ValueSet'], query: new URLSearchParams() })).rejects.toMatchObject({ status: 405 });
  });
});
