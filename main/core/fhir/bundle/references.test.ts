import { describe, expect, it } from 'vitest';
import { collectReferences, rewriteReferences } from './references';

describe('reference rewriting', () => {
  const map = new Map([
    ['urn:uuid:1', 'Patient/p1'],
    ['Practitioner?identifier=x|1', 'Practitioner/d1'],
  ]);

  it('rewrites Reference.reference anywhere, including extensions and contained resources', () => {
    const r = {
      resourceType: 'Observation',
      subject: { reference: 'urn:uuid:1' },
      performer: [{ reference: 'Practitioner?identifier=x|1' }],
      extension: [{ url: 'u', valueReference: { reference: 'urn:uuid:1' } }],
      contained: [{ resourceType: 'Provenance', target: [{ reference: 'urn:uuid:1' }] }],
    };
    const out = rewriteReferences(r, map);
    expect(out.subject.reference).toBe('Patient/p1');
    expect(out.performer[0]!.reference).toBe('Practitioner/d1');
    expect(out.extension[0]!.valueReference.reference).toBe('Patient/p1');
    expect(out.contained[0]!.target[0]!.reference).toBe('Patient/p1');
    expect(r.subject.reference).toBe('urn:uuid:1');
  });

  it('rewrites narrative links but leaves other strings (data) alone', () => {
    const r = {
      text: { div: '<div><a href="urn:uuid:1">patient</a></div>' },
      identifier: [{ value: 'urn:uuid:1' }],
    };
    const out = rewriteReferences(r, map);
    expect(out.text.div).toBe('<div><a href="Patient/p1">patient</a></div>');
    expect(out.identifier[0]!.value).toBe('urn:uuid:1');
  });

  it('collects every reference', () => {
    expect([...collectReferences({ a: { reference: 'x' }, b: [{ c: { reference: 'y' } }] })]).toEqual(['x', 'y']);
  });
});
