/**
 * Validation of every write against the official R4 StructureDefinitions: the compiled
 * validator (compiled/: structure, cardinality, primitive types and formats, choice
 * elements, primitive extensions, contained and Bundle/Parameters resources, the resource
 * id, and every invariant of the resource and of each data type wherever it occurs), then
 * Flint's rules that the definitions do not express as such: no empty values
 * (json-rules.ts), required bindings (bindings.ts), narrative XHTML (narrative.ts),
 * Attachment size and hash (attachments.ts), Bundle rules (bundle-rules.ts). Medplum's
 * validator is used only where a profile is asked for ($validate?profile=, operations/
 * validate.ts). See docs/decisions.md, "Validation".
 */
import { emptyValueIssues } from './json-rules';
import { BindingChecker } from './bindings';
import { narrativeIssues } from './narrative';
import { AttachmentChecker } from './attachments';
import { bundleIssues } from './bundle-rules';
import { createCompiledValidator } from './compiled/compiled-validator';
import { coreStructureDefinitions } from './compiled/core-definitions';
import { sharedCatalog } from '../definition-catalog';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

export interface Validator {
  /** Returns all issues; any with severity error/fatal means the resource is invalid. */
  validate(resource: Resource): OperationOutcomeIssue[];
}

export interface ValidatorOptions {
  /**
   * Build the compiled tables on the first validate() instead of now (`flint serve`: a start
   * that only reads never pays for them, in time or memory; the first write pays ~0.3 s).
   */
  lazy?: boolean;
}

export function createValidator(options: ValidatorOptions = {}): Validator {
  if (!options.lazy) return buildValidator();
  let built: Validator | undefined;
  return { validate: (resource) => (built ??= buildValidator()).validate(resource) };
}

function buildValidator(): Validator {
  const bundles = coreStructureDefinitions();
  // Best-practice invariants (dom-6: "a resource should have narrative") are not reported,
  // as HL7's validator can be told to ignore them: nothing the UI writes has a narrative,
  // and a warning on every resource would bury the real ones. bdl-7 is bundle-rules.ts's,
  // which names the repeated entry rather than the Bundle.
  const compiled = createCompiledValidator(bundles, { bestPractice: false, omit: new Set(['bdl-7']) });
  // The catalog indexes the definitions parsed just above instead of reading them again.
  const catalog = sharedCatalog();
  catalog.indexStructures(bundles);
  const bindings = new BindingChecker(catalog);
  const attachments = new AttachmentChecker(catalog);

  return {
    validate(resource: Resource): OperationOutcomeIssue[] {
      return [
        ...compiled.validate(resource),
        ...emptyValueIssues(resource),
        ...bindings.check(resource),
        ...narrativeIssues(resource),
        ...attachments.check(resource),
        ...bundleIssues(resource),
      ];
    },
  };
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
