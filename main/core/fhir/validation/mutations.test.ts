/**
 * Property: every valid corpus resource, broken in one way the spec forbids, is refused
 * with an error at the element that was broken (issue 12). Mutations: drop a required
 * element, put a code outside a required binding, empty an array, inject markup into the
 * narrative (a script, an event handler), a Period that ends before it starts, and an id
 * that breaks the id rule. fast-check
 * picks the resource and the mutation; a failure shrinks to the smallest case.
 */
import fc from 'fast-check';
import type { ElementDefinition, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../../../../test/support/corpus';
import { sharedCatalog } from '../definition-catalog';
import { createValidator, hasErrors, type Validator } from './validator';

type Json = Record<string, unknown>;

interface Mutation {
  name: string;
  /** The broken copy and the path an error must name, or undefined when it does not apply. */
  apply(r: Json): { resource: Json; path: string } | undefined;
}

const available = corpusAvailable();

/** Top-level element definitions of a type (not choice, not backbone children). */
function topElements(type: string): ElementDefinition[] {
  const sd = sharedCatalog().structureDefinition(type);
  return (sd?.snapshot?.element ?? []).filter((e) => {
    const parts = (e.path ?? '').split('.');
    return parts.length === 2 && !parts[1]!.endsWith('[x]');
  });
}

const name = (e: ElementDefinition) => (e.path ?? '').split('.')[1]!;
const copy = (r: Json): Json => structuredClone(r);

/** The resource with a narrative holding `inner` in an otherwise valid XHTML div. */
function narrativeMutation(name: string, inner: string): Mutation {
  return {
    name,
    apply(r) {
      const out = copy(r);
      out.text = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>` };
      return { resource: out, path: `${r.resourceType as string}.text.div` };
    },
  };
}

const mutations: Mutation[] = [
  {
    name: 'drop a required element',
    apply(r) {
      const type = r.resourceType as string;
      const required = topElements(type).find((e) => (e.min ?? 0) >= 1 && r[name(e)] !== undefined);
      if (!required) return undefined;
      const out = copy(r);
      delete out[name(required)];
      delete out[`_${name(required)}`];
      return { resource: out, path: `${type}.${name(required)}` };
    },
  },
  {
    name: 'a code outside a required binding',
    apply(r) {
      const type = r.resourceType as string;
      const bound = topElements(type).find((e) => {
        if (e.type?.[0]?.code !== 'code' || e.binding?.strength !== 'required' || !e.binding.valueSet) return false;
        if (r[name(e)] === undefined || Array.isArray(r[name(e)])) return false;
        const vs = sharedCatalog().expand(e.binding.valueSet);
        return vs !== undefined && typeof vs === 'object';
      });
      if (!bound) return undefined;
      const out = copy(r);
      out[name(bound)] = 'not-a-code-from-the-value-set';
      return { resource: out, path: `${type}.${name(bound)}` };
    },
  },
  {
    name: 'an empty array',
    apply(r) {
      const type = r.resourceType as string;
      const key = Object.keys(r).find((k) => Array.isArray(r[k]) && !k.startsWith('_'));
      if (!key) return undefined;
      const out = copy(r);
      out[key] = [];
      return { resource: out, path: `${type}.${key}` };
    },
  },
  narrativeMutation('a script in the narrative', '<p>Summary</p><script>alert(1)</script>'),
  narrativeMutation('an event handler in the narrative', '<p onclick="steal()">Summary</p>'),
  {
    name: 'a Period that ends before it starts (per-1, an invariant of a data type)',
    apply(r) {
      const type = r.resourceType as string;
      const period = topElements(type).find((e) => e.type?.length === 1 && e.type[0]?.code === 'Period');
      if (!period) return undefined;
      const out = copy(r);
      const value = { start: '2024-02-01T10:00:00Z', end: '2024-01-01T10:00:00Z' };
      const many = period.max === '*';
      out[name(period)] = many ? [value] : value;
      return { resource: out, path: `${type}.${name(period)}${many ? '[0]' : ''}` };
    },
  },
  {
    name: 'an id that breaks the id rule',
    apply(r) {
      const type = r.resourceType as string;
      const out = copy(r);
      out.id = 'has spaces/and$signs';
      return { resource: out, path: `${type}.id` };
    },
  },
];

function errorPaths(issues: OperationOutcomeIssue[]): string[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').flatMap((i) => i.expression ?? []);
}

describe.runIf(available)('mutated corpus resources are refused at the mutated element', () => {
  let validator: Validator;
  let resources: Json[] = [];

  beforeAll(() => {
    validator = createValidator();
    // Official examples of domain resources (Bundles and the two known-invalid ones aside), plus Synthea's.
    const examples = listJson('r4-examples')
      .filter((f) => !/^(Bundle|ImplementationGuide-fhir|Questionnaire-qs1|AuditEvent)/.test(f))
      .map((f) => readJson<Json>('r4-examples', f));
    const synthea = listJson('synthea', 'smart-2019')
      .slice(0, 3)
      .flatMap((f) => (readJson<{ entry: Array<{ resource: Json }> }>('synthea', 'smart-2019', f).entry ?? []).map((e) => e.resource));
    resources = [...examples, ...synthea].filter((r) => !hasErrors(validator.validate(r as unknown as Resource)));
    expect(resources.length).toBeGreaterThan(500);
  });

  for (const mutation of mutations) {
    it(mutation.name, () => {
      let applied = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: resources.length - 1 }), (i) => {
          const result = mutation.apply(resources[i]!);
          if (!result) return;
          applied++;
          const paths = errorPaths(validator.validate(result.resource as unknown as Resource));
          expect(paths, `${String(resources[i]!.resourceType)}/${String(resources[i]!.id)}`).toContain(result.path);
        }),
        { numRuns: 150 },
      );
      expect(applied).toBeGreaterThan(20);
    });
  }
});
