/**
 * FHIRPath Patch keeps exact decimals (issue 12): numbers it leaves alone keep their
 * text, values are written with the text they were sent with, and a written or deleted
 * element's old text goes (patch-decimals.ts).
 */
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { decimalTextsOf, parseJson, stringifyJson } from '../../../../shared/fhir/exact-json';
import { applyFhirPathPatch } from './fhirpath-patch';

const stored = () =>
  parseJson(
    '{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"w"},"valueQuantity":{"value":70.50,"unit":"kg"},' +
      '"component":[{"code":{"text":"a"},"valueQuantity":{"value":1.10}},{"code":{"text":"b"},"valueQuantity":{"value":2.20}}]}',
  ) as Resource;
const op = (parts: string) => `{"name":"operation","part":[${parts}]}`;
const patch = (...ops: string[]) => parseJson(`{"resourceType":"Parameters","parameter":[${ops.join(',')}]}`) as Parameters;
const typ = (t: string) => `{"name":"type","valueCode":"${t}"}`;
const path = (p: string) => `{"name":"path","valueString":"${p}"}`;

describe('FHIRPath Patch and exact decimals', () => {
  it('keeps the texts of what it leaves alone, even when list entries move or are deleted', () => {
    const out = applyFhirPathPatch(
      stored(),
      patch(op(`${typ('replace')},${path('Observation.status')},{"name":"value","valueCode":"amended"}`), op(`${typ('move')},${path('Observation.component')},{"name":"source","valueInteger":1},{"name":"destination","valueInteger":0}`)),
    );
    expect(stringifyJson(out)).toContain('"component":[{"code":{"text":"b"},"valueQuantity":{"value":2.20}},{"code":{"text":"a"},"valueQuantity":{"value":1.10}}]');
    expect(stringifyJson(out)).toContain('"valueQuantity":{"value":70.50');
    const deleted = applyFhirPathPatch(stored(), patch(op(`${typ('delete')},${path('Observation.component[0]')}`)));
    expect(decimalTextsOf(deleted)).toEqual({ 'valueQuantity.value': '70.50', 'component.0.valueQuantity.value': '2.20' });
  });

  it('writes a decimal as sent: a primitive, and inside a complex value', () => {
    const out = applyFhirPathPatch(
      stored(),
      patch(
        op(`${typ('replace')},${path('Observation.value.value')},{"name":"value","valueDecimal":72.250}`),
        op(`${typ('replace')},${path('Observation.component[0].value')},{"name":"value","valueQuantity":{"value":3.0,"unit":"kg"}}`),
      ),
    );
    const text = stringifyJson(out);
    expect(text).toContain('"valueQuantity":{"value":72.250,"unit":"kg"}');
    expect(text).toContain('{"code":{"text":"a"},"valueQuantity":{"value":3.0,"unit":"kg"}}');
    expect(text).toContain('"value":2.20');
  });

  it('a value written in JavaScript form drops the old text (no resurrection of 70.50 over 70.5)', () => {
    const out = applyFhirPathPatch(stored(), patch(op(`${typ('replace')},${path('Observation.value.value')},{"name":"value","valueDecimal":70.5}`)));
    expect(stringifyJson(out)).toContain('"valueQuantity":{"value":70.5,"unit":"kg"}');
    expect(decimalTextsOf(out)).toEqual({ 'component.0.valueQuantity.value': '1.10', 'component.1.valueQuantity.value': '2.20' });
  });

  it('leaves the input alone', () => {
    const input = stored();
    applyFhirPathPatch(input, patch(op(`${typ('delete')},${path('Observation.component[1]')}`)));
    expect(stringifyJson(input)).toContain('"value":1.10');
    expect(decimalTextsOf(input)).toEqual({ 'valueQuantity.value': '70.50', 'component.0.valueQuantity.value': '1.10', 'component.1.valueQuantity.value': '2.20' });
  });
});
