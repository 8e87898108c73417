import { describe, expect, it } from 'vitest';
import { expressionFor, loadDefinitions, splitTopLevelUnion } from './definitions';

describe('R4 definitions', () => {
  const defs = loadDefinitions();

  it('knows every concrete R4 resource type and no abstract or later one', () => {
    // 145 RESTful types of the R4 CapabilityStatement, plus Parameters.
    expect(defs.resourceTypes).toHaveLength(146);
    expect(defs.isResourceType('SubscriptionStatus')).toBe(false);
    expect(defs.isResourceType('Patient')).toBe(true);
    expect(defs.isResourceType('DomainResource')).toBe(false);
  });

  it('narrows shared search expressions to the type', () => {
    expect(defs.searchParams('Patient').get('identifier')!.expression).toBe('Patient.identifier');
    expect(defs.searchParams('Observation').get('_id')!.expression).toBe('Observation.id');
    expect(defs.searchParams('Observation').get('_lastUpdated')!.expression).toBe('Observation.meta.lastUpdated');
  });

  it('splits unions only at the top level', () => {
    expect(splitTopLevelUnion("(A.value as Quantity) | (A.value as Range) | B.x.where(y = 'a|b')")).toEqual([
      '(A.value as Quantity)',
      '(A.value as Range)',
      "B.x.where(y = 'a|b')",
    ]);
    expect(expressionFor('Patient.name | Practitioner.name', 'Practitioner', 'Practitioner')).toBe('Practitioner.name');
  });

  it('marks summary elements, choice types included', () => {
    expect(defs.isSummary('Patient', 'name')).toBe(true);
    expect(defs.isSummary('Patient', 'photo')).toBe(false);
    expect(defs.isSummary('Observation', 'valueQuantity')).toBe(true);
  });
});
