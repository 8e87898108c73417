/**
 * FHIR JSON with exact decimals (https://hl7.org/fhir/R4/json.html#primitive: "decimal
 * values ... SHALL keep their precision"): `1.10` stays `1.10`, and a decimal that a
 * JavaScript number cannot hold exactly (`1234567890123456789.0123456789`) keeps its text.
 *
 * Resources stay plain objects with JavaScript numbers, so validation, FHIRPath and the
 * search index work unchanged. Where the request's text of a number differs from what
 * `JSON.stringify` would write for it, the text is kept beside the resource: an object
 * mapping the number's path inside the resource (`component.0.valueQuantity.value`) to
 * its text, attached to the resource object under the `DECIMAL_TEXT` symbol. The symbol
 * property is enumerable, so object spread (`{ ...resource, meta }`) carries it, while
 * JSON.stringify, structuredClone and Object.keys ignore it. The store persists it beside
 * the resource (`decimals` in each document), and `stringifyJson` writes the texts back.
 *
 * A text is used only while the number at its path still equals it, so an edited or
 * patched value is never overwritten by a stale text. The cost for a body without such
 * numbers (all of Synthea) is one scan of the text; the path-tracking pass runs only when
 * one is found. Numbers outside the range of a double are refused: they cannot be
 * searched or compared, and writing them back as `null` would change the data.
 */

export const DECIMAL_TEXT: unique symbol = Symbol('flint.decimalText');

/** Path (property names and array indexes joined by '.'; '.' and '~' in names escaped as ~1, ~0) -> the number's exact text. */
export type DecimalTexts = Record<string, string>;

type Annotated = { [DECIMAL_TEXT]?: DecimalTexts };

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
type Path = Array<string | number>;

export class NumberRangeError extends Error {
  constructor() {
    super('A number in the body is outside the range Flint can store exactly');
  }
}

/** JSON.parse, keeping the exact text of numbers that a plain parse would change. */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  keepDecimalTexts(value, text);
  return value;
}

/**
 * Annotates the resources inside `value` (parsed from `text`) with the exact text of their
 * numbers wherever it differs from the number's JavaScript form. Throws NumberRangeError
 * for a number a double cannot hold at all.
 */
export function keepDecimalTexts(value: unknown, text: string): void {
  if (!hasInexactNumber(text)) return;
  for (const { path, text: exact } of inexactNumbers(text)) annotate(value, path, exact);
}

/** The texts that still apply to `resource` (stale ones dropped), or undefined. */
export function decimalTextsOf(resource: unknown): DecimalTexts | undefined {
  const texts = (resource as Annotated | undefined)?.[DECIMAL_TEXT];
  if (!texts) return undefined;
  let out: DecimalTexts | undefined;
  for (const [path, text] of Object.entries(texts)) {
    if (numberAt(resource, path) === Number(text)) (out ??= {})[path] = text;
  }
  return out;
}

/**
 * Whether `texts` (a document's `decimals`, from another workstation) is an object of
 * JSON number texts, each equal to the number at its path in `resource`.
 */
export function decimalTextsMatch(resource: object, texts: unknown): boolean {
  if (texts === null || typeof texts !== 'object' || Array.isArray(texts)) return false;
  const entries = Object.entries(texts as Record<string, unknown>);
  return entries.every(([path, t]) => typeof t === 'string' && JSON_NUMBER.test(t) && numberAt(resource, path) === Number(t));
}

/** Attaches texts (from the store, or carried from another version of the object). */
export function withDecimalTexts<T>(resource: T, texts: DecimalTexts | undefined): T {
  if (texts && resource !== null && typeof resource === 'object') {
    Object.defineProperty(resource, DECIMAL_TEXT, { value: texts, enumerable: true, writable: true, configurable: true });
  }
  return resource;
}

/** The text of the number at `path` (`valueQuantity.value`): its kept exact text, else as JavaScript writes it. */
export function numberText(resource: unknown, path: string): string | undefined {
  const n = numberAt(resource, path);
  if (n === undefined) return undefined;
  const kept = (resource as Annotated | undefined)?.[DECIMAL_TEXT]?.[path];
  return kept !== undefined && Number(kept) === n ? kept : String(n);
}

/**
 * Makes `text` (what a user typed: `37.50`) the text of the number at `path`, when it is a
 * JSON number equal to the value there: kept when it differs from JavaScript's form, and
 * any earlier text dropped when it does not (typing `1.1` over a stored `1.10`).
 */
export function keepNumberText<T>(resource: T, path: string, text: string): T {
  const t = text.trim();
  const n = numberAt(resource, path);
  if (n === undefined || !JSON_NUMBER.test(t) || Number(t) !== n) return resource;
  const { [path]: _old, ...others } = (resource as Annotated)[DECIMAL_TEXT] ?? {};
  return withDecimalTexts(resource, String(n) === t ? others : { ...others, [path]: t });
}

/** Carries `from`'s texts to `to` (a patched copy, an `_elements` subset): only those that still apply. */
export function carryDecimalTexts<T>(from: unknown, to: T): T {
  const texts = (from as Annotated | undefined)?.[DECIMAL_TEXT];
  return texts ? withDecimalTexts(to, texts) : to;
}

/**
 * The exact texts of the numbers in JSON `text` that differ from JavaScript's form, by
 * path from the root of the value (whether or not it is a resource): for a part of a
 * resource edited as JSON text. Throws NumberRangeError for a number no double can hold.
 */
export function exactNumberTexts(text: string): DecimalTexts | undefined {
  if (!hasInexactNumber(text)) return undefined;
  let out: DecimalTexts | undefined;
  for (const { path, text: exact } of inexactNumbers(text)) {
    if (!Number.isFinite(Number(exact))) throw new NumberRangeError();
    (out ??= {})[textPath(path)] = exact;
  }
  return out;
}

/**
 * The kept texts at or under `prefix` (a path such as `component.0`), relative to it: ''
 * for the number at `prefix` itself. For showing a part of a resource with its texts.
 */
export function decimalTextsUnder(resource: unknown, prefix: string): DecimalTexts | undefined {
  let out: DecimalTexts | undefined;
  for (const [path, text] of Object.entries(decimalTextsOf(resource) ?? {})) {
    if (path === prefix) (out ??= {})[''] = text;
    else if (path.startsWith(`${prefix}.`)) (out ??= {})[path.slice(prefix.length + 1)] = text;
  }
  return out;
}

/**
 * `resource` with its texts at or under `prefix` replaced by `texts` (relative to it, as
 * decimalTextsUnder gives them; undefined drops them): for a part of a resource written
 * anew (an edited element). A text is kept only when it is a JSON number equal to the
 * number now at its path and differs from JavaScript's form of it.
 */
export function replaceDecimalTextsUnder<T>(resource: T, prefix: string, texts: DecimalTexts | undefined): T {
  const out: DecimalTexts = {};
  for (const [path, text] of Object.entries((resource as Annotated)[DECIMAL_TEXT] ?? {})) {
    if (path !== prefix && !path.startsWith(`${prefix}.`)) out[path] = text;
  }
  for (const [rel, text] of Object.entries(texts ?? {})) {
    const path = rel === '' ? prefix : `${prefix}.${rel}`;
    const t = text.trim();
    const n = numberAt(resource, path);
    if (n !== undefined && JSON_NUMBER.test(t) && Number(t) === n && String(n) !== t) out[path] = t;
  }
  if (Object.keys(out).length > 0) return withDecimalTexts(resource, out);
  if (resource !== null && typeof resource === 'object') delete (resource as Annotated)[DECIMAL_TEXT];
  return resource;
}

/**
 * For display only: a deep copy of `resource` in which each number with a kept text is
 * that text, as a string (`1.10`), so a view that prints values shows what was stored.
 */
export function numbersAsTexts<T>(resource: T): T {
  const texts = decimalTextsOf(resource);
  if (!texts) return resource;
  const copy = JSON.parse(JSON.stringify(resource)) as T;
  for (const [path, text] of Object.entries(texts)) {
    const steps = splitPath(path);
    let node: unknown = copy;
    for (const step of steps.slice(0, -1)) node = (node as Record<string, unknown>)[step];
    (node as Record<string, unknown>)[steps[steps.length - 1] as string] = text;
  }
  return copy;
}

/**
 * JSON.stringify that writes back the exact texts of the resources in `body`: the body
 * itself, `entry[].resource` of a Bundle and `parameter[].resource` of Parameters.
 */
export function stringifyJson(body: unknown, indent?: number): string {
  const texts: string[] = [];
  const nonce = `\u0000${Math.random().toString(36).slice(2)}#`;
  const swapped = swapResources(body, texts, nonce);
  const out = JSON.stringify(swapped, null, indent);
  if (texts.length === 0) return out;
  const sentinel = new RegExp(`"${JSON.stringify(nonce).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`, 'g');
  return out.replace(sentinel, (_m, i: string) => texts[Number(i)] as string);
}

function swapResources(body: unknown, texts: string[], nonce: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  let node = withTexts(body, texts, nonce);
  const rec = node as { resourceType?: unknown; entry?: unknown; parameter?: unknown };
  if (rec.resourceType === 'Bundle' && Array.isArray(rec.entry)) {
    const entries = rec.entry.map((e: unknown) => swapMember(e, 'resource', texts, nonce));
    if (entries.some((e, i) => e !== (rec.entry as unknown[])[i])) node = { ...node, entry: entries };
  } else if (rec.resourceType === 'Parameters' && Array.isArray(rec.parameter)) {
    const params = rec.parameter.map((p: unknown) => swapMember(p, 'resource', texts, nonce));
    if (params.some((p, i) => p !== (rec.parameter as unknown[])[i])) node = { ...node, parameter: params };
  }
  return node;
}

function swapMember(holder: unknown, key: string, texts: string[], nonce: string): unknown {
  if (holder === null || typeof holder !== 'object') return holder;
  const child = (holder as Record<string, unknown>)[key];
  const swapped = swapResources(child, texts, nonce);
  return swapped === child ? holder : { ...holder, [key]: swapped };
}

/** A copy of `resource` with each applicable exact number replaced by a sentinel string. */
function withTexts(resource: object, texts: string[], nonce: string): object {
  const map = (resource as Annotated)[DECIMAL_TEXT];
  if (!map) return resource;
  let copy: unknown = resource;
  for (const [path, text] of Object.entries(map)) {
    const steps = splitPath(path);
    if (numberAt(copy, path) !== Number(text)) continue;
    copy = replaced(copy, steps, 0, `${nonce}${texts.length}`);
    texts.push(text);
  }
  return copy as object;
}

/** Copy-on-write replacement along `steps`. */
function replaced(node: unknown, steps: string[], i: number, value: string): unknown {
  if (i === steps.length) return value;
  const key = steps[i] as string;
  if (Array.isArray(node)) {
    const copy = node.slice();
    copy[Number(key)] = replaced(node[Number(key)], steps, i + 1, value);
    return copy;
  }
  const obj = node as Record<string, unknown>;
  return { ...obj, [key]: replaced(obj[key], steps, i + 1, value) };
}

function numberAt(root: unknown, path: string): number | undefined {
  let node = root;
  for (const step of splitPath(path)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(step)] : (node as Record<string, unknown>)[step];
  }
  return typeof node === 'number' ? node : undefined;
}

/** A property name with '.' and '~' escaped (as JSON Pointer escapes '/'); FHIR's names have neither. */
function encodeStep(step: string | number): string {
  return typeof step === 'number' ? String(step) : step.replace(/~/g, '~0').replace(/\./g, '~1');
}

function splitPath(path: string): string[] {
  return path.split('.').map((s) => (s.includes('~') ? s.replace(/~1/g, '.').replace(/~0/g, '~') : s));
}

/** The path of a kept text (as DecimalTexts keys it) from property names and list indexes. */
export const textPath = (steps: ReadonlyArray<string | number>): string => steps.map(encodeStep).join('.');

/** The property names and list indexes (as strings) of a kept text's path. */
export const textPathSteps = (path: string): string[] => splitPath(path);

/** Walks `path` in the parsed value and records the text on every resource on the way. */
function annotate(root: unknown, path: Path, text: string): void {
  const value = Number(text);
  if (!Number.isFinite(value)) throw new NumberRangeError();
  const resources: Array<[object, number]> = [];
  let node = root;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object') return;
    if (!Array.isArray(node) && typeof (node as { resourceType?: unknown }).resourceType === 'string') resources.push([node, i]);
    const step = path[i] as string | number;
    node = Array.isArray(node) ? node[step as number] : (node as Record<string, unknown>)[step];
  }
  // Duplicate keys: the parse kept another value here; there is nothing to keep.
  if (node !== value) return;
  for (const [res, depth] of resources) {
    const target = res as Annotated;
    const key = path.slice(depth).map(encodeStep).join('.');
    if (!target[DECIMAL_TEXT]) withDecimalTexts(target, {});
    (target[DECIMAL_TEXT] as DecimalTexts)[key] = text;
  }
}

const QUOTE = 34;
const BACKSLASH = 92;

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

/** Index of the quote closing the string that opens at `open`. */
function stringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  while (j > 0) {
    let slashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
  return text.length;
}

/** The text of a number as JSON.stringify writes it: `1.10` is not; `12`, `0.5` are. */
function isPlainNumber(token: string): boolean {
  const n = Number(token);
  return Number.isFinite(n) && String(n) === token;
}

/** Fast scan: does any number token differ from its JavaScript form? */
export function hasInexactNumber(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      let simple = c !== 45 && (c !== 48 || !isNumberChar(text.charCodeAt(i + 1)));
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) {
        const d = text.charCodeAt(++i);
        if (d < 48 || d > 57) simple = false;
      }
      // Up to 15 digits without sign, point or exponent always prints back the same.
      if (simple && i - start < 15) continue;
      if (!isPlainNumber(text.slice(start, i + 1))) return true;
    }
  }
  return false;
}

/**
 * The path and text of every number whose text differs from its JavaScript form. The
 * text was already accepted by JSON.parse, so this tokenizer only tracks where it is;
 * it is iterative, so no nesting depth can overflow the stack.
 */
export function inexactNumbers(text: string): Array<{ path: Path; text: string }> {
  const out: Array<{ path: Path; text: string }> = [];
  const path: Path = [];
  /** For each open container: is it an array (and then its next index). */
  const arrays: Array<number | undefined> = [];
  let key: string | undefined;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const top = arrays.length - 1;
    if (c === 123 /* { */ || c === 91 /* [ */) {
      enterValue();
      arrays.push(c === 91 ? 0 : undefined);
      key = undefined;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      arrays.pop();
      if (arrays.length > 0) path.pop();
    } else if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (arrays[top] === undefined && key === undefined && top >= 0) {
        key = JSON.parse(text.slice(i, end + 1)) as string;
      } else {
        enterValue();
        leaveValue();
      }
      i = end;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) i++;
      const token = text.slice(start, i + 1);
      enterValue();
      if (!isPlainNumber(token)) out.push({ path: path.slice(), text: token });
      leaveValue();
    } else if (c === 116 || c === 102 || c === 110 /* true false null */) {
      enterValue();
      leaveValue();
      i += c === 102 ? 4 : 3;
    }
  }
  return out;

  /** A value starts: push its step (the pending key, or the array's next index). */
  function enterValue(): void {
    const top = arrays.length - 1;
    if (top < 0) return;
    const index = arrays[top];
    if (index === undefined) {
      path.push(key as string);
      key = undefined;
    } else {
      path.push(index);
      arrays[top] = index + 1;
    }
  }

  function leaveValue(): void {
    if (arrays.length > 0) path.pop();
  }
}
