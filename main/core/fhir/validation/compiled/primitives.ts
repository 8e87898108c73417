/**
 * Checkers for the R4 primitive types, compiled once from the primitive StructureDefinitions
 * (the `regex` extension on each type's `value` element) plus what R4 states in prose
 * (datatypes.html): the JSON type of each primitive, the 32-bit range of the integer types,
 * the 1 MB limit of strings. The definitions' regexes are XML Schema regexes: `\s` there is
 * only space, tab, CR and LF (JavaScript's also takes in Unicode spaces), so they are
 * translated before compiling, and anchored, as XML Schema patterns always are.
 *
 * A checker returns nothing for a good value, else a plain-English reason that never
 * quotes the value.
 */
import type { StructureDefinition } from '@medplum/fhirtypes';

export type JsType = 'string' | 'number' | 'boolean';

export interface PrimitiveChecker {
  readonly type: string;
  readonly jsType: JsType;
  /** Undefined when the value is good, else why not (no value quoted). */
  check(value: unknown): string | undefined;
}

const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/regex';
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const STRING_MAX = 1024 * 1024;

const NUMBER_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);

/** `\s`/`\S` of XML Schema in JavaScript terms; the rest of the syntax is shared. */
export function xsdToJsRegex(source: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\' && i + 1 < source.length) {
      const next = source[i + 1]!;
      i++;
      if (next === 's') out += inClass ? ' \\t\\n\\r' : '[ \\t\\n\\r]';
      else if (next === 'S') out += inClass ? '\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x21-\\uFFFF' : '[^ \\t\\n\\r]';
      else out += ch + next;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    out += ch;
  }
  return new RegExp(`^(?:${out})$`);
}

function jsTypeOf(type: string): JsType {
  if (type === 'boolean') return 'boolean';
  return NUMBER_TYPES.has(type) ? 'number' : 'string';
}

function regexOf(sd: StructureDefinition): RegExp | undefined {
  const value = sd.snapshot?.element?.find((e) => e.path === `${sd.type}.value`);
  const src = value?.type?.[0]?.extension?.find((x) => x.url === REGEX_EXT)?.valueString;
  return src ? xsdToJsRegex(src) : undefined;
}

function wrongJsType(jsType: JsType, value: unknown): string {
  return `Invalid JSON type: expected ${jsType}, but got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`;
}

function numberChecker(type: string): (n: number) => string | undefined {
  if (type === 'decimal') return (n) => (Number.isFinite(n) ? undefined : 'Invalid numeric value');
  const min = type === 'positiveInt' ? 1 : type === 'unsignedInt' ? 0 : INT_MIN;
  return (n) => {
    if (!Number.isInteger(n)) return 'Expected number to be an integer';
    if (n < min) return type === 'positiveInt' ? 'Expected number to be positive' : type === 'unsignedInt' ? 'Expected number to be non-negative' : `Invalid ${type}: below the 32-bit range`;
    if (n > INT_MAX) return `Invalid ${type}: above the 32-bit range`;
    return undefined;
  };
}

function makeChecker(type: string, regex: RegExp | undefined): PrimitiveChecker {
  const jsType = jsTypeOf(type);
  if (jsType === 'boolean') {
    return { type, jsType, check: (v) => (typeof v === 'boolean' ? undefined : wrongJsType(jsType, v)) };
  }
  if (jsType === 'number') {
    const num = numberChecker(type);
    return { type, jsType, check: (v) => (typeof v === 'number' ? num(v) : wrongJsType(jsType, v)) };
  }
  // Strings: '' is FHIR JSON's no-empty rule (json-rules.ts reports it), not a format error.
  // string and markdown's regex admits every non-empty string: only the size is checked.
  const anything = type === 'string' || type === 'markdown' || type === 'xhtml' || !regex;
  const invalid = `Invalid ${type} format`;
  return {
    type,
    jsType,
    check(v) {
      if (typeof v !== 'string') return wrongJsType(jsType, v);
      if (v.length > STRING_MAX) return 'String cannot be larger than 1 MB';
      if (anything || v === '') return undefined;
      return regex.test(v) ? undefined : invalid;
    },
  };
}

/** Checkers by primitive type name (`string`, `dateTime`, `positiveInt`, ...). */
export function compilePrimitives(sds: Iterable<StructureDefinition>): Map<string, PrimitiveChecker> {
  const out = new Map<string, PrimitiveChecker>();
  for (const sd of sds) {
    if (sd.kind !== 'primitive-type' || !sd.type) continue;
    out.set(sd.type, makeChecker(sd.type, regexOf(sd)));
  }
  return out;
}
