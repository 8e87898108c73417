/**
 * The native invariant checks stand in for fhirpath.js only where they give its verdicts:
 * each is bound to an expression the R4 definitions really carry, and every official
 * example and a share of Synthea get the same issues with them as with fhirpath.js alone.
 * Known differences, each on purpose: dom-3 (fhirpath.js cannot evaluate it: `as()` over
 * many descendants), que-7 (fhirpath.js takes a FHIR boolean for no Boolean), ras-1 on a
 * decimal probability (fhirpath.js cannot start from a number), ref-1 on `#` from a
 * contained resource (a reference to the container; none in the corpus).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { corpusAvailable, listJson, readJson } from '../../../../../test/support/corpus';
import { createCompiledValidator } from './compiled-validator';
import { coreStructureDefinitions } from './core-definitions';
import { NATIVE_KEYS, nativeInvariant } from './native-invariants';

const available = corpusAvailable();
const bundles = coreStructureDefinitions();
const withNatives = createCompiledValidator(bundles);
const fhirpathOnly = createCompiledValidator(bundles, { natives: false });

const ON_PURPOSE = /^Constraint (dom-3|que-7|ras-1) /;
const key = (i: OperationOutcomeIssue) => `${i.severity} ${i.expression?.[0]} ${i.diagnostics}`;
const same = (r: unknown) => (v: typeof withNatives) => v.validate(r).filter((i) => !ON_PURPOSE.test(i.diagnostics ?? '')).map(key);

describe('native invariants', () => {
  it('each is bound to an expression of the R4 definitions', () => {
    const found = new Set<string>();
    for (const b of bundles) {
      for (const e of b.entry ?? []) {
        for (const el of e.resource?.snapshot?.element ?? []) {
          for (const c of el.constraint ?? []) if (c.key && c.expression && nativeInvariant(c.key, c.expression)) found.add(c.key);
        }
      }
    }
    expect([...found].sort()).toEqual([...NATIVE_KEYS].sort());
  });

  it.runIf(available)('give fhirpath.js\'s verdicts on every official example and on Synthea', () => {
    const resources: Array<{ name: string; r: unknown }> = [];
    for (const f of listJson('r4-examples')) resources.push({ name: f, r: readJson('r4-examples', f) });
    for (const f of listJson('synthea', 'smart-2019').slice(0, 15)) {
      for (const e of readJson<{ entry: Array<{ resource: { resourceType: string; id: string } }> }>('synthea', 'smart-2019', f).entry) resources.push({ name: `${e.resource.resourceType}/${e.resource.id}`, r: e.resource });
    }
    expect(resources.length).toBeGreaterThan(3000);
    const differ: string[] = [];
    for (const { name, r } of resources) {
      const a = same(r)(withNatives);
      const b = same(r)(fhirpathOnly);
      if (a.join('\n') !== b.join('\n')) differ.push(`${name}\n  native:    ${a.join(' | ')}\n  fhirpath: ${b.join(' | ')}`);
    }
    expect(differ).toEqual([]);
  }, 300_000);
});
