import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DECIMAL_TEXT,
  NumberRangeError,
  carryDecimalTexts,
  decimalTextsMatch,
  decimalTextsOf,
  decimalTextsUnder,
  exactNumberTexts,
  hasInexactNumber,
  inexactNumbers,
  numbersAsTexts,
  parseJson,
  replaceDecimalTextsUnder,
  stringifyJson,
  withDecimalTexts,
} from './exact-json';

const obs = '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.10,"unit":"mg"}}';

describe('exact decimals', () => {
  it('keeps 1.10 through parse and stringify, and the value is still a number', () => {
    const r = parseJson(obs) as { valueQuantity: { value: number } };
    expect(r.valueQuantity.value).toBe(1.1);
    expect(decimalTextsOf(r)).toEqual({ 'valueQuantity.value': '1.10' });
    expect(stringifyJson(r)).toBe(obs);
  });

  it('keeps a number a double cannot hold exactly', () => {
    const text = '{"resourceType":"Observation","valueDecimal":1234567890123456789.0123456789}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('refuses a number outside the range of a double', () => {
    expect(() => parseJson('{"resourceType":"Observation","valueDecimal":1e400}')).toThrow(NumberRangeError);
  });

  it('spread carries the texts; a changed value drops its text', () => {
    const r = parseJson(obs) as { valueQuantity: { value: number }; id?: string };
    const stamped = { ...r, id: 'a' };
    expect(stringifyJson(stamped)).toContain('"value":1.10');
    const edited = { ...r, valueQuantity: { value: 2, unit: 'mg' } };
    expect(stringifyJson(edited)).toContain('"value":2,');
    expect(decimalTextsOf(edited)).toBeUndefined();
  });

  it('annotates Bundle entry resources and contained resources with paths from their own root', () => {
    const text =
      '{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}},' +
      '{"resource":{"resourceType":"Observation","contained":[{"resourceType":"Observation","valueDecimal":5.0}],"component":[{"valueDecimal":0.50},{"valueInteger":3}]}}]}';
    const b = parseJson(text) as { entry: Array<{ resource: object }> };
    expect(decimalTextsOf(b)).toEqual({ 'entry.1.resource.contained.0.valueDecimal': '5.0', 'entry.1.resource.component.0.valueDecimal': '0.50' });
    expect(decimalTextsOf(b.entry[1]!.resource)).toEqual({ 'contained.0.valueDecimal': '5.0', 'component.0.valueDecimal': '0.50' });
    expect(decimalTextsOf(b.entry[0]!.resource)).toBeUndefined();
    // A searchset built from separately stored resources writes each one's texts.
    const searchset = { resourceType: 'Bundle', type: 'searchset', entry: b.entry.map((e) => ({ resource: { ...e.resource } })) };
    expect(stringifyJson(searchset)).toContain('"valueDecimal":0.50');
    expect(stringifyJson(searchset)).toContain('"valueDecimal":5.0');
    expect(stringifyJson(b, 2)).toBe(JSON.stringify(JSON.parse(text), null, 2).replace('"valueDecimal": 5', '"valueDecimal": 5.0').replace('"valueDecimal": 0.5', '"valueDecimal": 0.50'));
  });

  it('a string that looks like the sentinel stays a string', () => {
    const r = parseJson('{"resourceType":"Basic","text":"\\u0000abc#0","valueDecimal":1.0}');
    expect(JSON.parse(stringifyJson(r))).toEqual({ resourceType: 'Basic', text: '\u0000abc#0', valueDecimal: 1 });
    expect(stringifyJson(r)).toContain('"valueDecimal":1.0');
  });

  it('ignores numbers inside strings, escaped quotes included, and tracks keys with escapes', () => {
    expect(hasInexactNumber('{"a":"1.10 \\" 2.0","b":[1,2,0.5,-3]}')).toBe(false);
    expect(hasInexactNumber('{"a":-0}')).toBe(true);
    expect(inexactNumbers('{"a\\"b":[{"c":1.0},true,null,"x",2.50]}')).toEqual([
      { path: ['a"b', 0, 'c'], text: '1.0' },
      { path: ['a"b', 4], text: '2.50' },
    ]);
  });

  it('duplicate keys keep nothing stale', () => {
    const r = parseJson('{"resourceType":"Basic","v":1.10,"v":2}');
    expect(decimalTextsOf(r)).toBeUndefined();
    expect(stringifyJson(r)).toBe('{"resourceType":"Basic","v":2}');
  });

  it('carryDecimalTexts and withDecimalTexts attach texts to another object', () => {
    const r = parseJson(obs);
    const copy = carryDecimalTexts(r, structuredClone(r));
    expect(stringifyJson(copy)).toBe(obs);
    const plain = withDecimalTexts(JSON.parse(obs) as object, { 'valueQuantity.value': '1.10' });
    expect(stringifyJson(plain)).toBe(obs);
    expect(Object.keys(plain)).not.toContain(DECIMAL_TEXT);
    expect(JSON.stringify(plain)).not.toContain('1.10');
  });

  it('decimalTextsMatch accepts only number texts equal to the numbers at their paths', () => {
    const r = { resourceType: 'Observation', valueQuantity: { value: 1.1 } };
    expect(decimalTextsMatch(r, { 'valueQuantity.value': '1.10' })).toBe(true);
    expect(decimalTextsMatch(r, { 'valueQuantity.value': '1.2' })).toBe(false);
    expect(decimalTextsMatch(r, { 'valueQuantity.value': '01.10' })).toBe(false);
    expect(decimalTextsMatch(r, { 'valueQuantity.unit': '1.10' })).toBe(false);
    expect(decimalTextsMatch(r, ['1.10'])).toBe(false);
    expect(decimalTextsMatch(r, { 'valueQuantity.value': 1.1 })).toBe(false);
  });

  it('round-trips any JSON document exactly (property)', () => {
    const num = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
      fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.stringMatching(/^[0-9]{1,20}$/)).map(([i, f]) => `${i}.${f}`),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: -300, max: 300 })).map(([m, e]) => `${m}.0e${e}`),
    );
    const { tree } = fc.letrec<{ tree: string }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        num,
        fc.string().map((s) => JSON.stringify(s)),
        fc.constantFrom('true', 'false', 'null'),
        fc.array(tie('tree')).map((a) => `[${a.join(',')}]`),
        fc.array(fc.tuple(fc.string(), tie('tree'))).map((kv) => {
          const unique = new Map(kv);
          return `{"resourceType":"Basic"${[...unique].map(([k, v]) => `,${JSON.stringify(`k${k}`)}:${v}`).join('')}}`;
        }),
      ),
    }));
    fc.assert(
      fc.property(tree, (inner) => {
        // Texts are kept for resources (objects with a resourceType): wrap the tree in one.
        const text = `{"resourceType":"Basic","x":${inner}}`;
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the texts of a part of a resource relative to it, and replaces them there', () => {
    const r = parseJson('{"resourceType":"Observation","component":[{"valueQuantity":{"value":1.10}},{"valueQuantity":{"value":2.50}}],"valueDecimal":3.0}') as Record<string, unknown>;
    expect(decimalTextsUnder(r, 'component.1')).toEqual({ 'valueQuantity.value': '2.50' });
    expect(decimalTextsUnder(r, 'valueDecimal')).toEqual({ '': '3.0' });
    expect(decimalTextsUnder(r, 'component.2')).toBeUndefined();
    // A part written anew: its old texts go, typed ones that differ from JavaScript's form stay.
    (r['component'] as Array<{ valueQuantity: { value: number } }>)[1]!.valueQuantity.value = 7.5;
    replaceDecimalTextsUnder(r, 'component.1', { 'valueQuantity.value': '7.50' });
    expect(decimalTextsOf(r)).toEqual({ 'component.0.valueQuantity.value': '1.10', 'component.1.valueQuantity.value': '7.50', valueDecimal: '3.0' });
    replaceDecimalTextsUnder(r, 'component.0', { 'valueQuantity.value': '1.1' }); // JavaScript's form: nothing to keep
    replaceDecimalTextsUnder(r, 'valueDecimal', { '': '4.0' }); // not the number there: refused
    expect(decimalTextsOf(r)).toEqual({ 'component.1.valueQuantity.value': '7.50' });
  });

  it('finds the exact texts of numbers in any JSON value, resource or not', () => {
    expect(exactNumberTexts('{"value":1.10,"low":{"value":2},"x":[0.50]}')).toEqual({ value: '1.10', 'x.0': '0.50' });
    expect(exactNumberTexts('{"value":1.1}')).toBeUndefined();
    expect(() => exactNumberTexts('{"value":1e400}')).toThrow(NumberRangeError);
  });

  it('shows kept numbers as their texts in a display copy, leaving the resource alone', () => {
    const r = parseJson(obs) as { valueQuantity: { value: unknown } };
    const shown = numbersAsTexts(r);
    expect(shown.valueQuantity.value).toBe('1.10');
    expect(r.valueQuantity.value).toBe(1.1);
    const plain = { resourceType: 'Patient' };
    expect(numbersAsTexts(plain)).toBe(plain);
  });
});
