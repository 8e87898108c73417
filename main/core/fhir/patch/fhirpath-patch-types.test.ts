import { describe, expect, it } from 'vitest';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { int, name, op, patient, run, status, value, type Part } from './test-helpers';

describe('applyFhirPathPatch: choice types', () => {
  const obs = (): Observation => ({
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    code: { text: 'weight' },
    valueQuantity: { value: 70.5, unit: 'kg' },
  });

  it('addresses value[x] by its base name', () => {
    const s = run(obs(), op('replace', 'Observation.value', value({ valueString: 'n/a' })));
    expect(s.valueString).toBe('n/a');
    expect(s).not.toHaveProperty('valueQuantity');
    expect(run(obs(), op('replace', 'Observation.value', value({ valueQuantity: { value: 71 } }))).valueQuantity).toEqual({ value: 71 });
    expect(run(obs(), op('replace', 'Observation.value.value', value({ valueDecimal: 72.25 }))).valueQuantity).toEqual({ value: 72.25, unit: 'kg' });
    expect(run(obs(), op('delete', 'Observation.value'))).not.toHaveProperty('valueQuantity');
  });

  it('adds a choice element under the key its value type names', () => {
    expect(run(patient(), op('add', 'Patient', name('deceased'), value({ valueBoolean: true }))).deceasedBoolean).toBe(true);
    const dead = { ...patient(), deceasedDateTime: '2020-01-01' };
    expect(status(() => run(dead, op('add', 'Patient', name('deceased'), value({ valueBoolean: true }))))).toBe(422);
    expect(status(() => run(patient(), op('add', 'Patient', name('deceased'), value({ valueQuantity: { value: 1 } }))))).toBe(400);
    expect(status(() => run(obs(), op('replace', 'Observation.value', value({ valueHumanName: { text: 'x' } }))))).toBe(400);
  });
});

describe('applyFhirPathPatch: extensions and primitive extensions', () => {
  const ext = (url: string, v: string) => ({ url, valueString: v });
  const withExt = (): Patient => ({
    resourceType: 'Patient',
    id: 'e1',
    extension: [ext('urn:test:a', 'one'), ext('urn:test:b', 'two')],
    name: [{ given: ['Ann', 'Bea', 'Cy'], _given: [null, { extension: [ext('urn:test:g', 'bea')] }, null] }],
    birthDate: '1971-02-03',
    _birthDate: { extension: [{ url: 'urn:test:time', valueDateTime: '1971-02-03T04:05:00Z' }] },
  }) as unknown as Patient;

  it('adds an extension built from parts, with Extension.value[x] typed by its part', () => {
    const out = run(withExt(), op('add', 'Patient', name('extension'), value({
      part: [{ name: 'url', valueUri: 'urn:test:c' }, { name: 'value', valueCode: 'three' }],
    })));
    expect(out.extension?.[2]).toEqual({ url: 'urn:test:c', valueCode: 'three' });
  });

  it('replaces and deletes extensions selected by url', () => {
    const replaced = run(withExt(), op('replace', "Patient.extension('urn:test:b').value", value({ valueString: 'TWO' })));
    expect(replaced.extension?.[1]).toEqual(ext('urn:test:b', 'TWO'));
    const deleted = run(withExt(), op('delete', "Patient.extension.where(url = 'urn:test:a')"));
    expect(deleted.extension).toEqual([ext('urn:test:b', 'two')]);
  });

  it('keeps _given aligned when list entries are deleted, moved and inserted', () => {
    const del = run(withExt(), op('delete', 'Patient.name.given[0]')).name?.[0] as Record<string, unknown>;
    expect(del).toEqual({ given: ['Bea', 'Cy'], _given: [{ extension: [ext('urn:test:g', 'bea')] }, null] });
    const mv = run(withExt(), op('move', 'Patient.name.given', int('source', 1), int('destination', 2))).name?.[0] as Record<string, unknown>;
    expect(mv).toEqual({ given: ['Ann', 'Cy', 'Bea'], _given: [null, null, { extension: [ext('urn:test:g', 'bea')] }] });
    const ins = run(withExt(), op('insert', 'Patient.name.given', int('index', 0), value({ valueString: 'Zed' }))).name?.[0] as Record<string, unknown>;
    expect(ins._given).toEqual([null, null, { extension: [ext('urn:test:g', 'bea')] }, null]);
  });

  it('drops the extensions of a replaced or deleted primitive, and can carry new ones', () => {
    const rep = run(withExt(), op('replace', 'Patient.name.given[1]', value({ valueString: 'Bee' }))).name?.[0];
    expect(rep).toEqual({ given: ['Ann', 'Bee', 'Cy'] });
    expect(run(withExt(), op('delete', 'Patient.birthDate'))).not.toHaveProperty('_birthDate');
    const carried = run(withExt(), op('replace', 'Patient.birthDate', {
      name: 'value', valueDate: '1971-02-04', _valueDate: { extension: [ext('urn:test:why', 'corrected')] },
    } as Part)) as unknown as Record<string, unknown>;
    expect(carried._birthDate).toEqual({ extension: [ext('urn:test:why', 'corrected')] });
  });

  it('adds and removes extensions on a primitive through its _name companion', () => {
    const added = run(patient(), op('add', 'Patient.name.given[1]', name('extension'), value({
      part: [{ name: 'url', valueUri: 'urn:test:g' }, { name: 'value', valueString: 'x' }],
    }))).name?.[0] as Record<string, unknown>;
    expect(added._given).toEqual([null, { extension: [{ url: 'urn:test:g', valueString: 'x' }] }]);
    const gone = run(withExt(), op('delete', 'Patient.birthDate.extension')) as unknown as Record<string, unknown>;
    expect(gone).not.toHaveProperty('_birthDate');
    expect(gone.birthDate).toBe('1971-02-03');
  });
});

describe('applyFhirPathPatch: contained resources', () => {
  const host = (): Patient => ({
    resourceType: 'Patient',
    id: 'h1',
    contained: [{ resourceType: 'Practitioner', id: 'gp', name: [{ family: 'Doc' }] }],
    generalPractitioner: [{ reference: '#gp' }],
  });

  it('adds a contained resource given as a resource part, and edits inside one', () => {
    const org = { resourceType: 'Organization', id: 'org', name: 'Clinic' } as const;
    const added = run(host(), op('add', 'Patient', name('contained'), value({ resource: org })));
    expect(added.contained?.[1]).toEqual(org);
    const renamed = run(host(), op('replace', 'Patient.contained.ofType(Practitioner).name.family', value({ valueString: 'Dr' })));
    expect(renamed.contained?.[0]).toEqual({ resourceType: 'Practitioner', id: 'gp', name: [{ family: 'Dr' }] });
    expect(run(host(), op('replace', 'Patient.contained[0].id', value({ valueId: 'gp2' }))).contained?.[0]?.id).toBe('gp2');
  });

  it('rejects resolve(): a patch may not reach other resources', () => {
    expect(status(() => run(host(), op('delete', 'Patient.generalPractitioner.resolve()')))).toBe(400);
  });
});

