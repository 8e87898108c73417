import { describe, expect, it } from 'vitest';
import type { Parameters, Patient } from '@medplum/fhirtypes';
import { applyFhirPathPatch } from './fhirpath-patch';
import { deepFreeze, failure, ident, int, name, op, params, patient, run, status, value } from './test-helpers';

describe('applyFhirPathPatch: primitives and complex elements', () => {
  it('returns an equal copy for an empty patch', () => {
    const input = patient();
    const out = applyFhirPathPatch(input, params());
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
  });

  it('replaces, deletes and adds a top-level primitive', () => {
    expect(run(patient(), op('replace', 'Patient.birthDate', value({ valueDate: '1972-01-01' }))).birthDate).toBe('1972-01-01');
    expect(run(patient(), op('delete', 'Patient.birthDate'))).not.toHaveProperty('birthDate');
    const added = run(patient(), op('add', 'Patient', name('gender'), value({ valueCode: 'female' })));
    expect(added.gender).toBe('female');
  });

  it('works on primitives inside backbone elements and prunes emptied parents', () => {
    expect(run(patient(), op('replace', 'Patient.contact[0].gender', value({ valueCode: 'other' }))).contact).toEqual([
      { name: { text: 'Contact One' }, gender: 'other' },
    ]);
    expect(run(patient(), op('delete', 'Patient.contact[0].name.text')).contact).toEqual([{ gender: 'male' }]);
    const added = run(patient(), op('add', 'Patient.contact[0]', name('id'), value({ valueString: 'c1' })));
    expect(added.contact?.[0]?.id).toBe('c1');
  });

  it('adds, replaces (including the element id) and deletes a complex element', () => {
    const married = { coding: [{ system: 'urn:test:ms', code: 'M' }] };
    const added = run(patient(), op('add', 'Patient', name('maritalStatus'), value({ valueCodeableConcept: married })));
    expect(added.maritalStatus).toEqual(married);
    const replaced = run(added, op('replace', 'Patient.maritalStatus', value({ valueCodeableConcept: { id: 'n', text: 'x' } })));
    expect(replaced.maritalStatus).toEqual({ id: 'n', text: 'x' });
    expect(run(added, op('delete', 'Patient.maritalStatus'))).not.toHaveProperty('maritalStatus');
  });

  it('builds complex values from nested parts, using the model for lists', () => {
    const out = run(
      patient(),
      op('add', 'Patient', name('contact'), value({
        part: [
          { name: 'name', part: [{ name: 'family', valueString: 'Kin' }, { name: 'given', valueString: 'Cal' }] },
          { name: 'telecom', valueContactPoint: { system: 'phone', value: '555-0100' } },
          { name: 'gender', valueCode: 'female' },
        ],
      })),
      op('add', 'Patient', name('maritalStatus'), value({
        part: [{ name: 'coding', part: [{ name: 'system', valueUri: 'urn:test:ms' }, { name: 'code', valueCode: 'S' }] }],
      })),
    );
    expect(out.contact?.[1]).toEqual({
      name: { family: 'Kin', given: ['Cal'] },
      telecom: [{ system: 'phone', value: '555-0100' }],
      gender: 'female',
    });
    expect(out.maritalStatus).toEqual({ coding: [{ system: 'urn:test:ms', code: 'S' }] });
  });

  it('refuses add on a non-repeating element that already has a value (422)', () => {
    expect(status(() => run(patient(), op('add', 'Patient', name('birthDate'), value({ valueDate: '1999-09-09' }))))).toBe(422);
  });
});

describe('applyFhirPathPatch: lists', () => {
  const values = (p: Patient) => p.identifier?.map((i) => i.value);

  it('add appends, and creates an absent list', () => {
    expect(values(run(patient(), op('add', 'Patient', name('identifier'), value({ valueIdentifier: ident('m5') }))))).toEqual([
      'm1', 'm2', 'm3', 'm4', 'm5',
    ]);
    const bare: Patient = { resourceType: 'Patient', id: 'b' };
    expect(run(bare, op('add', 'Patient', name('identifier'), value({ valueIdentifier: ident('x') }))).identifier).toEqual([ident('x')]);
  });

  it('inserts at the start, middle and end, and into an absent list', () => {
    const at = (i: number) => values(run(patient(), op('insert', 'Patient.identifier', int('index', i), value({ valueIdentifier: ident('new') }))));
    expect(at(0)).toEqual(['new', 'm1', 'm2', 'm3', 'm4']);
    expect(at(2)).toEqual(['m1', 'm2', 'new', 'm3', 'm4']);
    expect(at(4)).toEqual(['m1', 'm2', 'm3', 'm4', 'new']);
    const bare: Patient = { resourceType: 'Patient', id: 'b' };
    expect(run(bare, op('insert', 'Patient.identifier', int('index', 0), value({ valueIdentifier: ident('x') }))).identifier).toHaveLength(1);
  });

  it('rejects an insert index beyond the end (422) and a singleton target (422)', () => {
    expect(status(() => run(patient(), op('insert', 'Patient.identifier', int('index', 5), value({ valueIdentifier: ident('x') }))))).toBe(422);
    expect(status(() => run(patient(), op('insert', 'Patient.birthDate', int('index', 0), value({ valueDate: '2000-01-01' }))))).toBe(422);
  });

  it('deletes one entry by index or filter; several matches are an error', () => {
    expect(values(run(patient(), op('delete', 'Patient.identifier[1]')))).toEqual(['m1', 'm3', 'm4']);
    expect(values(run(patient(), op('delete', "Patient.identifier.where(value = 'm4')")))).toEqual(['m1', 'm2', 'm3']);
    expect(run(patient(), op('delete', "Patient.identifier.where(value = 'none')"))).toEqual(patient());
    expect(status(() => run(patient(), op('delete', 'Patient.identifier')))).toBe(422);
  });

  it('moves within a list (remove at source, insert at destination)', () => {
    const mv = (s: number, d: number) => values(run(patient(), op('move', 'Patient.identifier', int('source', s), int('destination', d))));
    expect(mv(3, 1)).toEqual(['m1', 'm4', 'm2', 'm3']);
    expect(mv(0, 3)).toEqual(['m2', 'm3', 'm4', 'm1']);
    const reversed = run(
      patient(),
      ...[0, 1, 2].map((d) => op('move', 'Patient.identifier', int('source', 3), int('destination', d))),
    );
    expect(values(reversed)).toEqual(['m4', 'm3', 'm2', 'm1']);
    expect(status(() => mv(4, 0))).toBe(422);
    expect(status(() => mv(0, 4))).toBe(422);
  });
});


describe('applyFhirPathPatch: errors, identity and immutability', () => {
  it('rejects malformed Parameters with 400 and names the operation, not its content', () => {
    const cases: Parameters[] = [
      { resourceType: 'Bundle' } as unknown as Parameters,
      params({ name: 'op', part: [] }),
      params({ name: 'operation', part: [{ name: 'path', valueString: 'Patient' }] }),
      params(op('upsert', 'Patient.birthDate')),
      params(op('add', 'Patient', value({ valueDate: '2000-01-01' }))),
      params(op('insert', 'Patient.identifier', value({ valueIdentifier: ident('x') }))),
      params(op('move', 'Patient.identifier', int('source', -1), int('destination', 0))),
      params(op('replace', 'Patient.birthDate')),
      params(op('replace', 'Patient.birthDate', value({ valueDate: '2000-01-01', valueString: 'x' }))),
      params(op('replace', 'Patient.birthDate', { name: 'colour', valueString: 'x' })),
      params(op('delete', 'Patient.name.where(')),
      params(op('replace', "'literal'", value({ valueString: 'x' }))),
    ];
    for (const c of cases) {
      const e = failure(() => applyFhirPathPatch(patient(), c));
      expect(e.status).toBe(400);
      expect(e.message).not.toContain('Testperson');
    }
  });

  it('needs exactly one match for replace and add (422)', () => {
    expect(status(() => run(patient(), op('replace', 'Patient.gender', value({ valueCode: 'male' }))))).toBe(422);
    expect(status(() => run(patient(), op('replace', 'Patient.identifier.value', value({ valueString: 'x' }))))).toBe(422);
    const e = failure(() => run(patient(), op('add', "Patient.identifier.where(use = 'official').period", name('end'), value({ valueDateTime: '2021' }))));
    expect(e.status).toBe(422);
    expect(e.outcome.issue?.[0]?.expression).toEqual(['Parameters.parameter[0]']);
  });

  it('never changes id or resourceType (400), nor replaces or deletes the resource itself', () => {
    expect(status(() => run(patient(), op('replace', 'Patient.id', value({ valueId: 'other' }))))).toBe(400);
    expect(status(() => run(patient(), op('delete', 'Patient.id')))).toBe(400);
    expect(status(() => run({ resourceType: 'Patient' }, op('add', 'Patient', name('id'), value({ valueId: 'new' }))))).toBe(400);
    expect(status(() => run(patient(), op('replace', 'Patient', value({ resource: { resourceType: 'Patient', id: 'pt-1' } }))))).toBe(400);
    expect(status(() => run(patient(), op('delete', 'Patient')))).toBe(400);
  });

  it('leaves frozen input and patch untouched, and shares no objects with either', () => {
    const input = deepFreeze(patient());
    const body = deepFreeze(params(
      op('add', 'Patient', name('identifier'), value({ valueIdentifier: ident('m5') })),
      op('delete', 'Patient.name[0].given[0]'),
      op('move', 'Patient.identifier', int('source', 0), int('destination', 1)),
    ));
    const out = applyFhirPathPatch(input, body) as Patient;
    expect(input).toEqual(patient());
    expect(out.identifier?.map((i) => i.value)).toEqual(['m2', 'm1', 'm3', 'm4', 'm5']);
    expect(out.identifier?.[4]).not.toBe(body.parameter?.[0]?.part?.[2]?.valueIdentifier);
  });

  it('is all-or-nothing: a failing later operation throws and nothing leaks', () => {
    const input = patient();
    const before = structuredClone(input);
    expect(status(() => run(input, op('delete', 'Patient.birthDate'), op('replace', 'Patient.gender', value({ valueCode: 'male' }))))).toBe(422);
    expect(input).toEqual(before);
  });
});
