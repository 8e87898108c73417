import { describe, expect, it } from 'vitest';
import { fieldForPath, fieldId, parsePath, placeIssues } from './issues';

const PATIENT = ['Patient.name[0].family', 'Patient.name[0].given', 'Patient.gender', 'Patient.birthDate', 'Patient.telecom[1]', 'Patient.address[0].line'];

describe('issues next to fields', () => {
  it('parses FHIRPath and XPath locations', () => {
    expect(parsePath('Patient.name[0].family')).toEqual([{ name: 'Patient' }, { name: 'name', index: 0 }, { name: 'family' }]);
    expect(parsePath('Observation.value[x].value')).toEqual([{ name: 'Observation' }, { name: 'value[x]' }, { name: 'value' }]);
    expect(parsePath('/f:Patient/f:name[1]/f:family')).toEqual([{ name: 'Patient' }, { name: 'name', index: 0 }, { name: 'family' }]);
    expect(parsePath("Patient.extension.where(url='x').value")).toEqual([{ name: 'Patient' }, { name: 'extension' }]);
  });

  it('puts an issue on the field with the same path', () => {
    expect(fieldForPath('Patient.birthDate', PATIENT)).toBe('Patient.birthDate');
    expect(fieldForPath('Patient.name[0].family', PATIENT)).toBe('Patient.name[0].family');
  });

  it('puts an issue below a field on that field (the deepest that contains it)', () => {
    expect(fieldForPath('Patient.name[0].given[1]', PATIENT)).toBe('Patient.name[0].given');
    expect(fieldForPath('Patient.telecom[1].value', PATIENT)).toBe('Patient.telecom[1]');
    expect(fieldForPath('Patient.address[0].line[0]', PATIENT)).toBe('Patient.address[0].line');
  });

  it('does not mix up repetitions', () => {
    expect(fieldForPath('Patient.name[1].family', PATIENT)).toBeUndefined();
    expect(fieldForPath('Patient.telecom[0].value', PATIENT)).toBeUndefined();
  });

  it('puts an issue on an element that holds fields on its first field', () => {
    expect(fieldForPath('Patient.name[0]', PATIENT)).toBe('Patient.name[0].family');
    expect(fieldForPath('Patient', PATIENT)).toBeUndefined();
  });

  it('matches choice elements by their [x] name', () => {
    const fields = ['Observation.valueQuantity', 'Observation.component[0].valueQuantity', 'Observation.component[1].valueQuantity', 'Observation.code'];
    expect(fieldForPath('Observation.value[x]', fields)).toBe('Observation.valueQuantity');
    expect(fieldForPath('Observation.component[1].value[x].value', fields)).toBe('Observation.component[1].valueQuantity');
    expect(fieldForPath('Observation.code.coding[0].system', fields)).toBe('Observation.code');
    expect(fieldForPath('Observation.effective[x]', fields)).toBeUndefined();
  });

  it('sorts an outcome onto the fields, the rest to the top list, information left out', () => {
    const placed = placeIssues(
      {
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'structure', diagnostics: 'Invalid date format', expression: ['Patient.birthDate'] },
          { severity: 'error', code: 'structure', diagnostics: 'Invalid additional property "foo"', expression: ['Patient.foo'] },
          { severity: 'error', code: 'invariant', diagnostics: 'Constraint pat-1 not met', location: ['Patient.contact[0]'] },
          { severity: 'error', code: 'required', diagnostics: 'Missing', expression: ['Patient.nope'], location: ['/f:Patient/f:name[1]/f:family'] },
          { severity: 'information', code: 'informational', diagnostics: 'All OK', expression: ['Patient.gender'] },
        ],
      },
      PATIENT,
    );
    expect(Object.keys(placed.byField).sort()).toEqual(['Patient.birthDate', 'Patient.name[0].family']);
    expect(placed.byField['Patient.birthDate']![0]!.diagnostics).toBe('Invalid date format');
    expect(placed.unplaced.map((i) => i.diagnostics)).toEqual(['Invalid additional property "foo"', 'Constraint pat-1 not met']);
  });

  it('makes DOM ids from paths', () => {
    expect(fieldId('Patient.name[0].family')).toBe('f-Patient-name-0-family');
    expect(fieldId('Observation.code#kind')).toBe('f-Observation-code-kind');
  });
});
