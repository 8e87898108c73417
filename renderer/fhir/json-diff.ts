/**
 * A readable difference between two versions of a resource: per path, what was added,
 * removed or changed (old -> new), never a text diff. Objects compare key by key; arrays
 * are aligned first (elements equal in both are matched by a longest common subsequence),
 * so inserting a name in front of another shows as one added name, not as every name
 * changed. Unmatched elements at the same place are compared field by field.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: Json;
  after?: Json;
}

export interface DiffOptions {
  /** Paths left out, with everything below them (default: meta.versionId and meta.lastUpdated, which every version changes). */
  ignore?: readonly string[];
}

export const DEFAULT_IGNORE = ['meta.versionId', 'meta.lastUpdated'];

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const at = (path: string, i: number) => `${path}[${i}]`;

/** Every leaf (primitive, or empty object/array) of a value with its path. */
export function flatten(value: Json | undefined, path = '', out: Array<[string, Json]> = []): Array<[string, Json]> {
  if (value === undefined) return out;
  if (Array.isArray(value)) {
    if (value.length === 0) out.push([path, []]);
    value.forEach((v, i) => flatten(v, at(path, i), out));
  } else if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) out.push([path, {}]);
    for (const k of keys) flatten(value[k], join(path, k), out);
  } else out.push([path, value]);
  return out;
}

export function diffJson(before: unknown, after: unknown, options: DiffOptions = {}): Change[] {
  const ignore = options.ignore ?? DEFAULT_IGNORE;
  const out: Change[] = [];
  walk(before as Json | undefined, after as Json | undefined, '', out);
  return out.filter((c) => !ignore.some((p) => c.path === p || c.path.startsWith(`${p}.`) || c.path.startsWith(`${p}[`)));
}

function leaves(kind: 'added' | 'removed', value: Json | undefined, path: string, out: Change[]) {
  for (const [p, v] of flatten(value, path)) out.push(kind === 'added' ? { path: p, kind, after: v } : { path: p, kind, before: v });
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: Change[]) {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return leaves('added', b, path, out);
  if (b === undefined) return leaves('removed', a, path, out);
  if (Array.isArray(a) && Array.isArray(b)) return walkArrays(a, b, path, out);
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const k of keys) walk(a[k], b[k], join(path, k), out);
    return;
  }
  if (!Array.isArray(a) && !isObject(a) && !Array.isArray(b) && !isObject(b)) {
    if (a !== b) out.push({ path, kind: 'changed', before: a, after: b });
    return;
  }
  // A primitive became a structure or the reverse.
  leaves('removed', a, path, out);
  leaves('added', b, path, out);
}

function walkArrays(a: Json[], b: Json[], path: string, out: Change[]) {
  const ka = a.map((x) => stableKey(x));
  const kb = b.map((x) => stableKey(x));
  // Longest common subsequence of equal elements.
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = ka[i] === kb[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  const removed: number[] = [];
  const added: number[] = [];
  const flush = () => {
    // Pair what was removed with what was added at the same place: a change of that element.
    const pairs = Math.min(removed.length, added.length);
    for (let k = 0; k < pairs; k++) {
      const x = a[removed[k]!]!;
      const y = b[added[k]!]!;
      if ((isObject(x) && isObject(y)) || (Array.isArray(x) && Array.isArray(y))) walk(x, y, at(path, added[k]!), out);
      else if (!isObject(x) && !Array.isArray(x) && !isObject(y) && !Array.isArray(y)) out.push({ path: at(path, added[k]!), kind: 'changed', before: x, after: y });
      else {
        leaves('removed', x, at(path, removed[k]!), out);
        leaves('added', y, at(path, added[k]!), out);
      }
    }
    for (const r of removed.slice(pairs)) leaves('removed', a[r], at(path, r), out);
    for (const d of added.slice(pairs)) leaves('added', b[d], at(path, d), out);
    removed.length = 0;
    added.length = 0;
  };
  while (i < n || j < m) {
    if (i < n && j < m && ka[i] === kb[j]) {
      flush();
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) removed.push(i++);
    else added.push(j++);
  }
  flush();
}

/** JSON with sorted keys: equal values give equal keys whatever their key order. */
function stableKey(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(stableKey).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableKey(v[k]!)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A value as one short line: strings as they are, structures as compact JSON. */
export function valueText(v: Json | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
