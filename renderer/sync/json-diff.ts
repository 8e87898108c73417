/**
 * A readable per-field comparison of versions of one resource: each version's JSON
 * flattened to element paths (`name[0].given[1]`) with its leaf values, the paths of all
 * versions merged in document order, and each row marked where the versions differ.
 * Pure; tested in json-diff.test.ts. The leaves come from fhir/json-diff.ts, which also
 * diffs two versions for the history screen.
 */
import { flatten as leavesOf, valueText, type Json } from '../fhir/json-diff';

/** Paths not worth comparing: they always differ between versions. */
export const DEFAULT_IGNORED = ['meta.versionId', 'meta.lastUpdated'];

/** Leaf paths and their values as text, in document order. Empty objects and arrays are leaves. */
export function flatten(value: unknown, ignored: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const skipped = (p: string) => ignored.some((i) => p === i || p.startsWith(`${i}.`) || p.startsWith(`${i}[`));
  for (const [path, v] of leavesOf(value as Json)) if (path && !skipped(path)) out.set(path, valueText(v));
  return out;
}

export interface DiffRow {
  path: string;
  /** One per version, in the order given; undefined where that version lacks the path. */
  values: Array<string | undefined>;
  /** Some version's value differs from another's (a missing value counts). */
  differs: boolean;
}

/**
 * Rows for every path of every version. Versions that are absent (a deletion) have no
 * values; they differ from the others everywhere.
 */
export function diffVersions(versions: ReadonlyArray<unknown>, ignored: readonly string[] = DEFAULT_IGNORED): DiffRow[] {
  const flat = versions.map((v) => (v === undefined || v === null ? new Map<string, string>() : flatten(v, ignored)));
  const order = mergeOrder(flat.map((m) => [...m.keys()]));
  return order.map((path) => {
    const values = flat.map((m) => m.get(path));
    return { path, values, differs: values.some((x) => x !== values[0]) };
  });
}

/**
 * The union of several ordered lists, each list's order kept: a path missing from the
 * result goes right after the path that precedes it in its own list.
 */
export function mergeOrder(lists: string[][]): string[] {
  const result: string[] = [];
  const seen = new Set<string>();
  for (const list of lists) {
    let after = -1;
    for (const p of list) {
      if (seen.has(p)) {
        after = result.indexOf(p);
        continue;
      }
      result.splice(after + 1, 0, p);
      seen.add(p);
      after += 1;
    }
  }
  return result;
}

/** `name[0].given[1]` for people: `name 1 › given 2`. */
export function readablePath(path: string): string {
  return path.replace(/\[(\d+)\]/g, (_, n: string) => ` ${Number(n) + 1}`).split('.').join(' › ');
}

/** Counts for a summary line: how many fields differ. */
export function differenceCount(rows: readonly DiffRow[]): number {
  return rows.filter((r) => r.differs).length;
}
