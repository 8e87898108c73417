/**
 * Server validation issues, placed next to the form fields they concern. Each field of a
 * form names the FHIR path it edits (`Patient.birthDate`, `Patient.name[0].family`,
 * `Observation.valueQuantity`); each OperationOutcome issue names where it applies in
 * `expression` (FHIRPath, e.g. `Observation.component[0].value[x].value`) or, in older
 * servers, `location` (also XPath: `/f:Patient/f:name[1]/f:family`). An issue goes to:
 *
 *  1. the field whose path is the issue's path (same element, same indexes), else
 *  2. the deepest field that contains the issue's path (a field for `Patient.name[0].given`
 *     gets `Patient.name[0].given[1]`; a group for `Observation.code` gets
 *     `Observation.code.coding[0].system`), else
 *  3. the first field inside the issue's path (an issue on `Patient.name[0]` goes to its
 *     first field), else
 *  4. the list at the top of the form.
 *
 * A field path without an index on a repeating element stands for every repetition.
 * `value[x]` matches any type's name (`valueQuantity`, `valueString`).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

interface Segment {
  name: string;
  index?: number;
}

/** `Patient.name[0].family` -> [{Patient}, {name,0}, {family}]; also XPath locations. */
export function parsePath(path: string): Segment[] {
  let p = path.trim();
  if (p.startsWith('/')) {
    // XPath (1-based indexes, f: prefixes), as some servers still send in `location`.
    p = p
      .replace(/^\/+/, '')
      .replace(/f:/g, '')
      .replace(/\[(\d+)\]/g, (_m, n: string) => `[${Number(n) - 1}]`)
      .replace(/\//g, '.');
  }
  const out: Segment[] = [];
  for (const part of splitDots(p)) {
    const m = /^([^[\]]+?)((?:\[[^\]]*\])*)$/.exec(part);
    if (!m) return [];
    const name = m[1]!;
    const brackets = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((b) => b[1]!);
    const seg: Segment = { name: brackets.includes('x') ? `${name}[x]` : name };
    const index = brackets.find((b) => /^\d+$/.test(b));
    if (index !== undefined) seg.index = Number(index);
    out.push(seg);
  }
  return out;
}

/** Dots outside brackets and parentheses (FHIRPath functions such as `.where(...)` are cut off). */
function splitDots(p: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of p) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === '.' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  // `name.where(...)`, `ofType(...)`, `extension('url')`: keep only plain element names.
  const cut = parts.findIndex((s) => s.includes('('));
  return cut < 0 ? parts : parts.slice(0, cut);
}

function namesMatch(issue: string, field: string): boolean {
  if (issue === field) return true;
  const choice = (choiceName: string, concrete: string) =>
    choiceName.endsWith('[x]') && concrete.startsWith(choiceName.slice(0, -3)) && /^[A-Z]/.test(concrete.slice(choiceName.length - 3));
  return choice(issue, field) || choice(field, issue) || (issue.endsWith('[x]') && field.endsWith('[x]') && issue === field);
}

/** An issue segment against a field segment: a missing index matches any. */
function segmentsMatch(issue: Segment, field: Segment): boolean {
  if (!namesMatch(issue.name, field.name)) return false;
  return issue.index === undefined || field.index === undefined || issue.index === field.index;
}

function prefixLength(issue: Segment[], field: Segment[]): number {
  let i = 0;
  while (i < issue.length && i < field.length && segmentsMatch(issue[i]!, field[i]!)) i++;
  return i;
}

/** The field (one of `fields`) an issue path belongs to, or undefined. */
export function fieldForPath(issuePath: string, fields: readonly string[]): string | undefined {
  const issue = parsePath(issuePath);
  if (issue.length === 0) return undefined;
  const parsed = fields.map((f) => ({ f, segs: parsePath(f) }));
  // 1 and 2: fields that contain the issue's path (the field's path is a prefix of it);
  // the deepest wins, an exact match being the deepest possible.
  let best: { f: string; depth: number } | undefined;
  for (const { f, segs } of parsed) {
    if (segs.length > issue.length || prefixLength(issue, segs) !== segs.length) continue;
    if (segs.length <= 1) continue; // the resource itself is not a field
    if (!best || segs.length > best.depth) best = { f, depth: segs.length };
  }
  if (best) return best.f;
  // 3: the first field inside the issue's path.
  if (issue.length <= 1) return undefined;
  return parsed.find(({ segs }) => segs.length > issue.length && prefixLength(issue, segs) === issue.length)?.f;
}

/** The paths an issue names (expression first, then location). */
export function issuePaths(issue: OperationOutcomeIssue): string[] {
  return [...(issue.expression ?? []), ...(issue.location ?? [])].filter((p) => p.trim() !== '');
}

export interface PlacedIssues {
  /** Field path -> the issues shown next to it. */
  byField: Record<string, OperationOutcomeIssue[]>;
  /** Issues that concern no field on the form: listed at the top. */
  unplaced: OperationOutcomeIssue[];
}

/** Sorts the outcome's issues onto `fields`; informational issues are left out. */
export function placeIssues(issues: readonly OperationOutcomeIssue[] | OperationOutcome | undefined, fields: readonly string[]): PlacedIssues {
  const list = Array.isArray(issues) ? issues : ((issues as OperationOutcome | undefined)?.issue ?? []);
  const out: PlacedIssues = { byField: {}, unplaced: [] };
  for (const issue of list) {
    if (issue.severity === 'information') continue;
    let field: string | undefined;
    for (const p of issuePaths(issue)) {
      field = fieldForPath(p, fields);
      if (field) break;
    }
    if (field) (out.byField[field] ??= []).push(issue);
    else out.unplaced.push(issue);
  }
  return out;
}

/** An issue in words for the person at the form. */
export function issueText(issue: OperationOutcomeIssue): string {
  return issue.diagnostics ?? issue.details?.text ?? issue.code ?? 'Not valid';
}

/** A DOM id for a field's path (`Patient.name[0].family` -> `f-Patient-name-0-family`). */
export function fieldId(path: string): string {
  return `f-${path.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-+$/, '')}`;
}
