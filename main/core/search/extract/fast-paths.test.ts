/**
 * The plain-path evaluator must give exactly what fhirpath.js gives (fast-paths.ts): on
 * hand-made edge cases, and on every search parameter expression of every official R4
 * example and of the Synthea bundles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable, listJson, readJson } from '../../../../test/support/corpus';
import { loadDefinitions, splitTopLevelUnion } from '../../fhir/definitions';
import { compileWithFhirpath, rewriteExpression } from './expressions';
import { loadCompositeDefs } from './composite-defs';
import { compilePath } from './fast-paths';
import { toValues } from './values';

const defs = loadDefinitions();
const SYNTHEA_SETS = ['smart-2019', 'synthea-hiv-2021'];

/** Both evaluations of one union member on one resource, as toValues() sees them. */
function both(expression: string, resource: Record<string, unknown>) {
  const fast = compilePath(expression);
  const reference = toValues(compileWithFhirpath(expression)(resource, { resource }));
  return { fast: fast ? toValues(fast(resource)) : undefined, reference };
}

describe('plain-path evaluation', () => {
  const obs = {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    valueQuantity: { value: 72, unit: '/min' },
    effectivePeriod: { start: '2026-01-01' },
    component: [{ code: { text: 'a' }, valueString: 'x' }, { code: { text: 'b' }, valueQuantity: { value: 1 } }],
  };
  const patient = {
    resourceType: 'Patient',
    name: [{ family: 'Lovelace', given: ['Ada', null, 'King'], _given: [null, { extension: [{ url: 'u', valueString: 'v' }] }, null] }],
    _birthDate: { extension: [{ url: 'http://example.org/unknown', valueCode: 'unknown' }] },
    deceasedBoolean: false,
    contact: [{ name: { family: 'Byron' } }],
  };
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['Observation.code', obs, 1],
    ['(Observation.value.ofType(Quantity))', obs, 1],
    ['Observation.value.ofType(string)', obs, 0],
    ['Observation.effective', obs, 1],
    ['Observation.component.code', obs, 2],
    ['Observation.component.value.ofType(Quantity)', obs, 1],
    ['Observation.component', obs, 2],
    ['Patient.name.given', patient, 2],
    ['Patient.birthDate', patient, 0],
    ['Patient.deceased', patient, 1],
    ['Patient.contact.name.family', patient, 1],
    ['Patient.name', obs, 0],
  ];
  it.each([
    ['code', 'Observation.component', obs.component[0]!, 1],
    ['value.ofType(Quantity)', 'Observation.component', obs.component[1]!, 1],
    ['value.ofType(string)', 'Observation.component', obs.component[0]!, 1],
    ['code', 'Observation', obs, 1],
  ] as Array<[string, string, object, number]>)('%s relative to %s gives what fhirpath.js gives', (expression, base, input, count) => {
    const fast = compilePath(expression, base);
    expect(fast).toBeDefined();
    const got = toValues(fast!(input as Record<string, unknown>));
    expect(got).toEqual(toValues(compileWithFhirpath(expression, base)(input, { resource: obs })));
    expect(got).toHaveLength(count);
  });
  it.each(cases)('%s gives what fhirpath.js gives', (expression, resource, count) => {
    const { fast, reference } = both(expression, resource);
    expect(fast).toBeDefined();
    expect(fast).toEqual(reference);
    expect(fast).toHaveLength(count);
  });

  it('leaves functions, filters, indexers and resources inside resources to fhirpath.js', () => {
    for (const e of [
      'Patient.name.where(use = \'official\')',
      'Patient.deceased.exists() and Patient.deceased != false',
      'Bundle.entry[0].resource',
      'Bundle.entry.resource',
      'Resource.id',
      'Observation.subject.resolve()',
      'Patient.nosuchelement',
      '(Observation.code',
    ]) {
      expect(compilePath(e), e).toBeUndefined();
    }
  });
});

describe.runIf(corpusAvailable())('plain-path evaluation over the FHIR corpus', () => {
  const composites = loadCompositeDefs();

  /** Composite components, relative to each node their composite's expression selects. */
  function compareComponents(resource: Record<string, unknown>, type: string, code: string, expression: string, mismatches: string[]): number {
    const parts = composites.get(`${type}.${code}`);
    if (!parts) return 0;
    let fast = 0;
    let nodes: ReturnType<typeof toValues>;
    try {
      nodes = toValues(compileWithFhirpath(rewriteExpression(expression))(resource, { resource }));
    } catch {
      return 0;
    }
    for (const node of nodes) {
      const base = node.path ?? type;
      for (const part of parts) {
        for (const member of splitTopLevelUnion(rewriteExpression(part.expression))) {
          const f = compilePath(member, base);
          if (!f) continue;
          let reference: ReturnType<typeof toValues>;
          try {
            reference = toValues(compileWithFhirpath(member, base)(node.value, { resource }));
          } catch {
            continue;
          }
          fast++;
          const got = toValues(f(node.value as Record<string, unknown>));
          if (JSON.stringify(got) !== JSON.stringify(reference)) mismatches.push(`${type}.${code} component ${member} from ${base} (${String(resource.id)})`);
        }
      }
    }
    return fast;
  }

  function compareAll(resources: Array<Record<string, unknown>>): { fast: number; members: number; values: number; components: number } {
    let fast = 0;
    let components = 0;
    let members = 0;
    let values = 0;
    const mismatches: string[] = [];
    for (const resource of resources) {
      const type = String(resource.resourceType);
      if (!defs.isResourceType(type)) continue;
      for (const p of defs.searchParams(type).values()) {
        if (!p.expression) continue;
        if (p.type === 'composite') components += compareComponents(resource, type, p.code, p.expression, mismatches);
        for (const member of splitTopLevelUnion(rewriteExpression(p.expression))) {
          members++;
          let r: ReturnType<typeof both>;
          try {
            r = both(member, resource);
          } catch {
            continue; // fhirpath.js fails on it: the extractor counts that, nothing to compare
          }
          if (!r.fast) continue;
          fast++;
          values += r.fast.length;
          if (JSON.stringify(r.fast) !== JSON.stringify(r.reference)) mismatches.push(`${type}.${p.code}: ${member} (${String(resource.id)})`);
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    return { fast, members, values, components };
  }

  it('agrees with fhirpath.js on every expression of every R4 example', () => {
    const lines = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { file: string });
    expect(lines.length).toBeGreaterThanOrEqual(743);
    const { fast, members, values, components } = compareAll(lines.map((l) => readJson<Record<string, unknown>>('r4-examples', l.file)));
    console.log(`R4 examples: ${fast} of ${members} (expression member, resource) pairs evaluated as plain paths, ${values} values, and ${components} composite components, all equal`);
    expect(components).toBeGreaterThan(100);
    // Most R4 search expressions are plain paths: if this drops, the fast path stopped applying.
    expect(fast / members).toBeGreaterThan(0.5);
    expect(values).toBeGreaterThan(1000);
  });

  it('agrees with fhirpath.js on the Synthea bundles', () => {
    const resources = SYNTHEA_SETS.flatMap((set) =>
      listJson('synthea', set)
        .slice(0, 3)
        .flatMap((f) => (readJson<{ entry?: Array<{ resource?: Record<string, unknown> }> }>('synthea', set, f).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []))),
    );
    expect(resources.length).toBeGreaterThan(100);
    const { fast, values, components } = compareAll(resources);
    console.log(`Synthea: ${resources.length} resources, ${fast} plain-path evaluations, ${values} values, ${components} composite components, all equal`);
    expect(values).toBeGreaterThan(1000);
  });
});
