/**
 * The core's refusals (an OperationOutcome's diagnostics, sometimes an expression) placed
 * next to the field they are about. The /flint admin routes name a field by its JSON
 * member (`"idleLockMinutes" must be ...`) or in words (`A password needs ...`), so each
 * form lists which words point at which of its fields. Pure; tested in field-errors.test.ts.
 */
import { ApiError } from '../api/errors';

export type FieldRules<F extends string> = ReadonlyArray<readonly [F, RegExp]>;

export interface FieldError<F extends string> {
  field: F;
  message: string;
}

/** The field a refusal is about, with the server's sentence; undefined when none is named (or it was no refusal). */
export function fieldErrorOf<F extends string>(error: unknown, rules: FieldRules<F>): FieldError<F> | undefined {
  if (!(error instanceof ApiError) || ![400, 409, 422].includes(error.status)) return undefined;
  const issue = error.issues[0];
  const message = sentence(issue?.diagnostics ?? issue?.details?.text ?? error.details);
  if (!message) return undefined;
  for (const expression of issue?.expression ?? []) {
    const hit = rules.find(([field]) => expression === field || expression.endsWith(`.${field}`));
    if (hit) return { field: hit[0], message };
  }
  // A member named in quotes first ("password" is required), then the words.
  const quoted = /"([A-Za-z]+)"/.exec(message)?.[1];
  const byName = quoted ? rules.find(([field]) => field === quoted) : undefined;
  if (byName) return { field: byName[0], message };
  const byWords = rules.find(([, re]) => re.test(message));
  return byWords ? { field: byWords[0], message } : undefined;
}

function sentence(s: string | undefined): string {
  const t = (s ?? '').trim();
  if (!t) return '';
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
