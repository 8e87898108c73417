/**
 * Medplum's `validateResource` over the same definitions, with the two second opinions
 * Flint applied to it before the compiled validator (second-opinion.ts; docs/decisions.md,
 * "Validation"): base64Binary may hold whitespace, as R4's regex allows, and an invariant
 * fails only when fhirpath.js also evaluates it to `false`. It is what validation against a
 * *profile* still uses (Medplum walks slices and profile constraints), the reference the
 * compiled validator's differential test compares with, and the benchmark's baseline.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource, type ValidatorOptions } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { constraintExpressions, evaluatesToFalse, resolveSimplePath } from '../second-opinion';

const BASE64_R4 = /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/;

export type MedplumValidate = (resource: Resource, options?: ValidatorOptions) => OperationOutcomeIssue[];

/** Indexes the definitions into Medplum (process-wide) and returns its validator, corrected. */
export function createMedplumValidator(bundles: ReadonlyArray<Bundle<StructureDefinition>>): MedplumValidate {
  for (const b of bundles) indexStructureDefinitionBundle(b);
  const constraints = constraintExpressions([...bundles]);

  function isFalsePositive(resource: Resource, issue: OperationOutcomeIssue): boolean {
    const text = issue.details?.text ?? issue.diagnostics ?? '';
    const path = issue.expression?.[0];
    if (!path) return false;
    if (text.startsWith('Invalid base64Binary format')) {
      const value = resolveSimplePath(resource, path);
      return typeof value === 'string' && BASE64_R4.test(value);
    }
    const m = /^Constraint ([A-Za-z0-9.-]+) not met/.exec(text);
    if (m) {
      const expression = constraints.get(m[1] as string);
      if (!expression) return false;
      const node = resolveSimplePath(resource, path);
      if (node === undefined) return false;
      return !evaluatesToFalse(resource, node, expression);
    }
    return false;
  }

  return (resource, options) => {
    let issues: OperationOutcomeIssue[];
    try {
      issues = validateResource(resource, options);
    } catch (e) {
      if (e instanceof OperationOutcomeError) issues = e.outcome.issue ?? [];
      else throw e;
    }
    return issues.filter((i) => !((i.severity === 'error' || i.severity === 'fatal') && isFalsePositive(resource, i))).map(normalizeIssue);
  };
}

/** Medplum puts the message in details.text; clients read diagnostics. Keep both. */
function normalizeIssue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const diagnostics = issue.diagnostics ?? issue.details?.text;
  return diagnostics ? { ...issue, diagnostics } : issue;
}
