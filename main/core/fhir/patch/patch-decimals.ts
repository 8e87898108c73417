/**
 * Exact decimals through a FHIRPath Patch (shared/fhir/exact-json.ts). FHIRPath Patch
 * finds elements by FHIRPath and writes into the object that owns them, so it never knows
 * a path from the root. The texts therefore ride on the objects while the operations run:
 * `distribute` hangs each kept text on the object that holds its number (keyed by the
 * property), values from the patch bring their own, `forget` drops a property's text
 * when the property is written or removed, and `collect` gathers them back into the
 * resource's texts at the end. A text keyed by a property moves with its object (list
 * inserts and moves keep it), and goes when its object goes.
 *
 * Not covered: a decimal directly in a list of decimals (FHIR R4 has no such element),
 * and values sent as nested parts (their numbers are written as JavaScript writes them).
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import {
  DECIMAL_TEXT,
  decimalTextsOf,
  decimalTextsUnder,
  replaceDecimalTextsUnder,
  textPath,
  textPathSteps,
  withDecimalTexts,
  type DecimalTexts,
} from '../../../../shared/fhir/exact-json';

type Texts = Record<string, string>;
type Annotated = Record<string | symbol, unknown> & { [DECIMAL_TEXT]?: Texts };

const isObject = (v: unknown): v is Annotated => typeof v === 'object' && v !== null;

/** Hangs `texts` (paths relative to `value`) on the objects that hold their numbers. */
export function distribute(value: unknown, texts: DecimalTexts | undefined): void {
  for (const [path, text] of Object.entries(texts ?? {})) {
    const steps = textPathSteps(path);
    const last = steps.pop() as string;
    let owner: unknown = value;
    for (const step of steps) owner = isObject(owner) ? owner[step] : undefined;
    // A number straight in a list (no property to key it by) keeps no text.
    if (!isObject(owner) || Array.isArray(owner) || last === '') continue;
    setText(owner, last, text);
  }
}

function setText(owner: Annotated, key: string, text: string): void {
  withDecimalTexts(owner, { ...(owner[DECIMAL_TEXT] ?? {}), [key]: text });
}

/** The property `key` of `owner` is written or removed: its old text no longer applies. */
export function forget(owner: object, key: string): void {
  const texts = (owner as Annotated)[DECIMAL_TEXT];
  if (!texts || !(key in texts)) return;
  const { [key]: _gone, ...rest } = texts;
  withDecimalTexts(owner, rest);
}

/**
 * A value written at owner[key]: its texts (relative to it, '' for a number that is the
 * value itself) go on the objects that will hold them.
 */
export function place(owner: object, key: string, json: unknown, texts: DecimalTexts | undefined): void {
  forget(owner, key);
  if (!texts) return;
  if (typeof json === 'number') {
    if (texts[''] !== undefined) setText(owner as Annotated, key, texts['']);
    return;
  }
  distribute(json, texts);
}

/**
 * The texts of the value part of an operation (`valueDecimal: 1.10`, `valueQuantity`),
 * relative to the value, from the Parameters resource the request brought.
 */
export function valueTexts(params: Parameters, at: number, part: ParametersParameter | undefined): DecimalTexts | undefined {
  if (!part || !decimalTextsOf(params)) return undefined;
  const k = params.parameter?.[at]?.part?.indexOf(part) ?? -1;
  const key = Object.keys(part).find((name) => name.startsWith('value'));
  if (k < 0 || !key) return undefined;
  return decimalTextsUnder(params, `parameter.${at}.part.${k}.${key}`);
}

/** Gathers the texts hung on the objects of `root` into its own texts (checked against the numbers). */
export function collect<T extends object>(root: T): T {
  const found: Texts = {};
  const walk = (node: unknown, prefix: string): void => {
    if (!isObject(node)) return;
    const here = node[DECIMAL_TEXT];
    if (here) {
      for (const [key, text] of Object.entries(here)) found[prefix + textPath([key])] = text;
      delete node[DECIMAL_TEXT];
    }
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${prefix}${i}.`));
    else for (const [k, v] of Object.entries(node)) walk(v, `${prefix}${textPath([k])}.`);
  };
  walk(root, ''); // the root's own annotation is gone too: texts are rebuilt from `found`
  // Each text checked against the number now at its path (replaceDecimalTextsUnder does).
  let out: T = root;
  for (const [path, text] of Object.entries(found)) out = replaceDecimalTextsUnder(out, path, { '': text });
  return out;
}
