/**
 * Errors from the core, in words a receptionist understands, with the technical details
 * (the OperationOutcome's issues) one click away. Never loses what the user typed: the
 * forms keep their values and show this next to them.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome | undefined,
    /** What the server said (diagnostics), for the details. */
    readonly details: string,
  ) {
    super(friendlyMessage(status));
    this.name = 'ApiError';
  }

  get issues(): OperationOutcomeIssue[] {
    return this.outcome?.issue ?? [];
  }
}

/** No answer at all: the core is not running or the connection broke. */
export class OfflineError extends Error {
  constructor() {
    super('Flint’s service on this computer is not answering. Your work on screen is kept; try again in a moment.');
    this.name = 'OfflineError';
  }
}

export function friendlyMessage(status: number): string {
  if (status === 400 || status === 422) return 'Some of the information is not valid. Check the marked fields and try again.';
  if (status === 401) return 'Your session has ended. Sign in again to continue.';
  if (status === 403) return 'Your account is not allowed to do this. Ask an administrator if you need it.';
  if (status === 404) return 'This record was not found. It may have been removed.';
  if (status === 410) return 'This record has been deleted.';
  if (status === 409 || status === 412) return 'Someone else changed this record while you were working on it.';
  if (status === 413) return 'This is too large to save.';
  if (status === 429) return 'Too many attempts. Wait a minute and try again.';
  return 'Flint had a problem doing this. Nothing you typed is lost; try again.';
}

/** The issues' texts, for "Show details". */
export function describeIssues(outcome: OperationOutcome | undefined): string {
  const lines = (outcome?.issue ?? []).map((i) => {
    const where = i.expression?.join(', ') ?? i.location?.join(', ');
    const text = i.diagnostics ?? i.details?.text ?? i.code;
    return `${i.severity}: ${text}${where ? ` (at ${where})` : ''}`;
  });
  return lines.join('\n');
}

export function isOperationOutcome(x: unknown): x is OperationOutcome {
  return typeof x === 'object' && x !== null && (x as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}
