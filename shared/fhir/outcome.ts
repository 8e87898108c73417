/**
 * Errors as values with a FHIR face: a closed set of constructors producing an
 * OperationOutcome plus the HTTP status that carries it. Every layer throws or returns
 * a FhirError; only the HTTP adapter turns it into bytes. Diagnostics must never
 * contain PHI: say what was wrong with the request, not what the data was.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  constructor(status: number, outcome: OperationOutcome) {
    super(outcome.issue?.[0]?.diagnostics ?? `FHIR error ${status}`);
    this.name = 'FhirError';
    this.status = status;
    this.outcome = outcome;
  }
}

export function outcome(
  severity: IssueSeverity,
  code: IssueCode,
  diagnostics: string,
  expression?: string[],
): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression && expression.length > 0) issue.expression = expression;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export function outcomeOf(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export const allOk = (diagnostics = 'All OK'): OperationOutcome =>
  outcome('information', 'informational', diagnostics);

const make =
  (status: number, code: IssueCode) =>
  (diagnostics: string, expression?: string[]): FhirError =>
    new FhirError(status, outcome('error', code, diagnostics, expression));

export const badRequest = make(400, 'invalid');
export const invalidResource = (issues: OperationOutcomeIssue[]): FhirError =>
  new FhirError(400, outcomeOf(issues));
export const unprocessable = make(422, 'processing');
export const notFound = make(404, 'not-found');
export const gone = make(410, 'deleted');
export const conflict = make(409, 'conflict');
export const preconditionFailed = make(412, 'conflict');
export const methodNotAllowed = make(405, 'not-supported');
export const notAcceptable = make(406, 'not-supported');
export const unsupportedMediaType = make(415, 'not-supported');
export const payloadTooLarge = make(413, 'too-costly');
export const forbidden = make(403, 'forbidden');
export const unauthorized = make(401, 'login');
export const notSupported = make(501, 'not-supported');
export const multipleMatches = make(412, 'multiple-matches');
export const tooManyRequests = make(429, 'throttled');
export const serviceUnavailable = make(503, 'transient');

/** The one fault constructor for unexpected errors: never echo the cause (it may hold PHI). */
export const internalError = (): FhirError =>
  new FhirError(500, outcome('fatal', 'exception', 'Internal server error; the request was not completed'));

export function isFhirError(e: unknown): e is FhirError {
  return e instanceof FhirError;
}
