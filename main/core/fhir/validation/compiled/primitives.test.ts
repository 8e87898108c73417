/**
 * Primitive types as the R4 definitions state them: the regexes of the primitive
 * StructureDefinitions (XML Schema's `\s`, anchored), JSON types, the 32-bit integer range,
 * base64 with line breaks, and messages that never quote the value.
 */
import { describe, expect, it } from 'vitest';
import { coreStructureDefinitions } from './core-definitions';
import { compilePrimitives, xsdToJsRegex } from './primitives';

const sds = coreStructureDefinitions().flatMap((b) => (b.entry ?? []).map((e) => e.resource!));
const checkers = compilePrimitives(sds);
const ok = (type: string, v: unknown) => checkers.get(type)!.check(v) === undefined;

describe('XML Schema regexes in JavaScript', () => {
  it('reads \\s as the four XML white-space characters only, and anchors the pattern', () => {
    const code = xsdToJsRegex('[^\\s]+(\\s[^\\s]+)*');
    expect(code.test('a b')).toBe(true);
    expect(code.test('a\u00a0b')).toBe(true); // a no-break space is content, not white space, in XML Schema
    expect(code.test('a  b')).toBe(false);
    expect(code.test(' a')).toBe(false);
    const any = xsdToJsRegex('[ \\r\\n\\t\\S]+');
    expect(any.test('x\u2028y\u00a0\u0001')).toBe(true);
    expect(xsdToJsRegex('\\S*').test('a b')).toBe(false);
    expect(xsdToJsRegex('[0-9]+').test('12x')).toBe(false);
  });
});

describe('primitive checkers compiled from the definitions', () => {
  it('knows every R4 primitive', () => {
    expect([...checkers.keys()].sort()).toEqual(
      ['base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml'].sort(),
    );
  });

  it('checks dates, dateTimes, instants and times by their R4 shapes', () => {
    for (const d of ['2020', '2020-02', '2020-02-29']) expect(ok('date', d), d).toBe(true);
    for (const d of ['2020-13-01', '2020-02-30T', '20-01-01', '2020-1-1', '2020-01-01T10:00:00Z']) expect(ok('date', d), d).toBe(false);
    for (const d of ['2020', '2020-01-01', '2020-01-01T10:00:00Z', '2020-01-01T10:00:00.123+05:30']) expect(ok('dateTime', d), d).toBe(true);
    // R4: a time needs seconds and a zone.
    for (const d of ['2020-01-01T10:00', '2020-01-01T10:00:00', '2020-01-01T25:00:00Z', '2020-01-01 10:00:00Z']) expect(ok('dateTime', d), d).toBe(false);
    expect(ok('instant', '2020-01-01T10:00:00Z')).toBe(true);
    expect(ok('instant', '2020-01-01')).toBe(false);
    expect(ok('time', '23:59:60')).toBe(true);
    expect(ok('time', '24:00:00')).toBe(false);
  });

  it('checks numbers: decimals finite, integers whole and 32-bit, positive and unsigned ranges', () => {
    expect(ok('decimal', 1.5)).toBe(true);
    expect(ok('decimal', '1.5')).toBe(false);
    expect(ok('integer', -2147483648)).toBe(true);
    expect(ok('integer', 2147483648)).toBe(false);
    expect(ok('integer', 1.5)).toBe(false);
    expect(ok('positiveInt', 0)).toBe(false);
    expect(ok('positiveInt', 1)).toBe(true);
    expect(ok('unsignedInt', 0)).toBe(true);
    expect(ok('unsignedInt', -1)).toBe(false);
    expect(checkers.get('integer')!.check('1')).toBe('Invalid JSON type: expected number, but got string');
  });

  it('checks the string types', () => {
    expect(ok('boolean', true)).toBe(true);
    expect(ok('boolean', 'true')).toBe(false);
    expect(ok('id', 'a'.repeat(64))).toBe(true);
    expect(ok('id', 'a'.repeat(65))).toBe(false);
    expect(ok('id', 'a b$')).toBe(false);
    expect(ok('code', 'in-progress')).toBe(true);
    expect(ok('code', 'two  spaces')).toBe(false);
    expect(ok('uri', 'http://example.org/a b')).toBe(false);
    expect(ok('oid', 'urn:oid:1.2.3')).toBe(true);
    expect(ok('oid', 'urn:oid:1.02')).toBe(false);
    expect(ok('uuid', 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520')).toBe(true);
    expect(ok('uuid', 'c757873d-ec9a-4326-a141-556f43239520')).toBe(false);
    // base64: line-wrapped content is valid R4 (the official examples use it).
    expect(ok('base64Binary', 'SGVs\nbG8g\r\nd29y bGQ=')).toBe(true);
    expect(ok('base64Binary', 'not base64!')).toBe(false);
    expect(ok('string', 'x'.repeat(1024 * 1024))).toBe(true);
    expect(checkers.get('string')!.check('x'.repeat(1024 * 1024 + 1))).toBe('String cannot be larger than 1 MB');
    // '' is FHIR JSON's no-empty-values rule, reported by json-rules.ts, not a format error.
    expect(ok('dateTime', '')).toBe(true);
  });

  it('never quotes the value in a message', () => {
    const secret = '1999-99-99';
    const why = checkers.get('date')!.check(secret)!;
    expect(why).toBe('Invalid date format');
    expect(why).not.toContain(secret);
  });
});
