/**
 * The compiled validator against Medplum's (with Flint's second opinions), on outside data:
 *  - every official R4 example and every Synthea resource: no error where Medplum finds
 *    none; the two known-invalid examples are refused by both, naming the same element;
 *  - mutations of valid resources (unknown property, wrong primitive type, array where a
 *    single value goes and the reverse, each top-level element dropped in turn, a bad date,
 *    a choice with two types, a bad id): every error Medplum reports, the compiled
 *    validator (with json-rules.ts, as every write runs them) reports at the same path, and
 *    the mutations Medplum lets through (two choice types, a bad id) are refused.
 * Needs the corpus (test/support/corpus.ts).
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable, listJson, readJson } from '../../../../../test/support/corpus';
import { emptyValueIssues } from '../json-rules';
import { createCompiledValidator } from './compiled-validator';
import { coreStructureDefinitions } from './core-definitions';
import { createMedplumValidator } from './medplum-reference';

type Json = Record<string, unknown>;

const available = corpusAvailable();
const compiled = createCompiledValidator(coreStructureDefinitions());
const medplum = available ? createMedplumValidator(coreStructureDefinitions()) : undefined;

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';
const ours = (r: unknown) => [...compiled.validate(r), ...emptyValueIssues(r)].filter(isError);
const theirs = (r: Json) => medplum!(r as unknown as Resource).filter(isError);

/** Medplum names a choice `value[x]`; the compiled validator by the type given (`valueQuantity`). */
function concretePath(resource: Json, path: string): string {
  const parts = path.split('.');
  let node: unknown = resource;
  const out = [parts[0]!];
  for (const part of parts.slice(1)) {
    const m = /^([^[]+?)(\[x\])?(\[\d+\])?$/.exec(part);
    if (!m) return path;
    let name = m[1]!;
    const o = node !== null && typeof node === 'object' ? (node as Json) : {};
    if (m[2]) name = Object.keys(o).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))) ?? `${name}[x]`;
    node = o[name];
    if (m[3]) node = Array.isArray(node) ? node[Number(m[3].slice(1, -1))] : undefined;
    out.push(name + (m[3] ?? ''));
  }
  return out.join('.');
}

const noIndexes = (p: string) => p.replace(/\[\d+\]/g, '');

/** Medplum's error paths that the compiled validator does not report. */
function missed(r: Json): string[] {
  const mine = ours(r).map((i) => i.expression?.[0] ?? '');
  const mineLoose = new Set(mine.map(noIndexes));
  return theirs(r)
    .map((i) => concretePath(r, i.expression?.[0] ?? ''))
    .filter((p) => !mine.includes(p) && !mineLoose.has(noIndexes(p)));
}

interface Row {
  file: string;
}
const examples = available
  ? readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as Row).file)
  : [];
const KNOWN_INVALID: Record<string, string> = {
  'ImplementationGuide-fhir.json': 'ImplementationGuide.name',
  'Questionnaire-qs1.json': 'Questionnaire.item[0].item[0].linkId',
};

function syntheaResources(): Json[] {
  const out: Json[] = [];
  for (const dir of ['smart-2019', 'synthea-hiv-2021']) {
    for (const f of listJson('synthea', dir)) {
      for (const e of readJson<{ entry?: Array<{ resource?: Json }> }>('synthea', dir, f).entry ?? []) if (e.resource) out.push(e.resource);
    }
  }
  return out;
}

describe.runIf(available)('compiled validator vs Medplum on the corpus', () => {
  it('every official R4 example: no error where Medplum finds none; the known-invalid two refused by both at the same element', () => {
    expect(examples.length).toBeGreaterThan(700);
    const disagreements: string[] = [];
    for (const file of examples) {
      const r = readJson<Json>('r4-examples', file);
      const mine = ours(r);
      const expected = KNOWN_INVALID[file];
      if (expected) {
        expect(mine.map((i) => i.expression?.[0]), file).toContain(expected);
        expect(theirs(r).map((i) => i.expression?.[0]), file).toContain(expected);
        continue;
      }
      if (theirs(r).length === 0 && mine.length > 0) disagreements.push(`${file}: ${mine.map((i) => `${i.expression?.[0]} ${i.diagnostics}`).join('; ')}`);
      for (const p of missed(r)) disagreements.push(`${file}: Medplum's error at ${p} not found`);
    }
    expect(disagreements).toEqual([]);
  }, 300_000);

  it('every Synthea resource: valid for both', () => {
    const resources = syntheaResources();
    expect(resources.length).toBeGreaterThan(20_000);
    const refused: string[] = [];
    for (const r of resources) {
      for (const i of ours(r)) refused.push(`ours ${r.resourceType}/${r.id}: ${i.expression?.[0]} ${i.diagnostics}`);
      for (const i of theirs(r)) refused.push(`Medplum ${r.resourceType}/${r.id}: ${i.expression?.[0]} ${i.diagnostics}`);
    }
    expect(refused.slice(0, 20)).toEqual([]);
  }, 300_000);
});

// ---- mutations ----

type Mutate = (r: Json) => Json | undefined;
const clone = (r: Json): Json => structuredClone(r);
const DATE = /^\d{4}-\d\d-\d\d/;

/** The first string value at any depth that looks like a date, replaced by an impossible one. */
function badDate(r: Json): Json | undefined {
  const out = clone(r);
  const visit = (o: unknown): boolean => {
    if (o === null || typeof o !== 'object') return false;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'div' || k.startsWith('_')) continue;
      if (typeof v === 'string' && DATE.test(v)) {
        (o as Json)[k] = '2019-13-45';
        return true;
      }
      if (visit(v)) return true;
    }
    return false;
  };
  return visit(out) ? out : undefined;
}

function firstKey(r: Json, test: (v: unknown, k: string) => boolean): string | undefined {
  return Object.keys(r).find((k) => k !== 'resourceType' && k !== 'id' && k !== 'text' && !k.startsWith('_') && test(r[k], k));
}

const MUTATIONS: Record<string, Mutate> = {
  'unknown property': (r) => ({ ...clone(r), notAnElement: 1 }),
  'unknown property in a data type': (r) => {
    const k = firstKey(r, (v) => Array.isArray(v) && v[0] !== null && typeof v[0] === 'object');
    if (!k) return undefined;
    const out = clone(r);
    (out[k] as Json[])[0]!.notAnElement = 1;
    return out;
  },
  'wrong primitive type': (r) => {
    const k = firstKey(r, (v) => typeof v === 'string' || typeof v === 'boolean');
    return k ? { ...clone(r), [k]: typeof r[k] === 'string' ? 42 : 'true' } : undefined;
  },
  'array where a single value goes': (r) => {
    const k = firstKey(r, (v) => v !== null && !Array.isArray(v));
    return k ? { ...clone(r), [k]: [r[k]] } : undefined;
  },
  'single value where an array goes': (r) => {
    const k = firstKey(r, (v) => Array.isArray(v) && v.length > 0);
    return k ? { ...clone(r), [k]: (r[k] as unknown[])[0] } : undefined;
  },
  'bad date': badDate,
};

/** One resource of each type from the first Synthea bundles, plus some official examples. */
function validSamples(): Json[] {
  const byType = new Map<string, Json>();
  for (const f of listJson('synthea', 'smart-2019').slice(0, 3)) {
    for (const e of readJson<{ entry: Array<{ resource: Json }> }>('synthea', 'smart-2019', f).entry) {
      if (!byType.has(e.resource.resourceType as string)) byType.set(e.resource.resourceType as string, e.resource);
    }
  }
  for (const f of ['Observation-example.json', 'Patient-example.json', 'MedicationRequest-medrx0301.json', 'Questionnaire-f201.json', 'Bundle-bundle-example.json']) {
    byType.set(f, readJson<Json>('r4-examples', f));
  }
  return [...byType.values()];
}

describe.runIf(available)('mutations: every error Medplum reports, the compiled validator reports at the same path', () => {
  const samples = available ? validSamples() : [];

  it('has valid samples to break', () => {
    expect(samples.length).toBeGreaterThan(10);
    for (const r of samples) expect(ours(r), `${r.resourceType}/${r.id}`).toEqual([]);
  });

  it.each(Object.keys(MUTATIONS))('%s', (name) => {
    let applied = 0;
    let medplumFound = 0;
    const misses: string[] = [];
    for (const r of samples) {
      const broken = MUTATIONS[name]!(r);
      if (!broken) continue;
      applied++;
      if (theirs(broken).length > 0) medplumFound++;
      expect(ours(broken).length, `${name} on ${r.resourceType}/${r.id}`).toBeGreaterThan(0);
      for (const p of missed(broken)) misses.push(`${r.resourceType}/${r.id}: ${p}`);
    }
    expect(applied).toBeGreaterThan(5);
    // The comparison means something: Medplum refuses these too.
    expect(medplumFound).toBeGreaterThan(applied / 2);
    expect(misses).toEqual([]);
  });

  it('each top-level element dropped in turn', () => {
    const misses: string[] = [];
    let required = 0;
    for (const r of samples) {
      for (const k of Object.keys(r)) {
        if (k === 'resourceType') continue;
        const broken = clone(r);
        delete broken[k];
        if (theirs(broken).some((i) => i.diagnostics === 'Missing required property')) required++;
        for (const p of missed(broken)) misses.push(`${r.resourceType}/${r.id} without ${k}: ${p}`);
      }
    }
    expect(required).toBeGreaterThan(10);
    expect(misses).toEqual([]);
  });

  it('refuses what Medplum lets through: two types for one choice element, a bad id', () => {
    const withValue = samples.filter((r) => Object.keys(r).some((k) => /^value[A-Z]/.test(k)));
    expect(withValue.length).toBeGreaterThan(0);
    for (const r of withValue) {
      const extra = r.valueString === undefined ? { valueString: 'x' } : { valueBoolean: true };
      const broken = { ...clone(r), ...extra };
      expect(theirs(broken)).toEqual([]);
      expect(ours(broken).map((i) => i.diagnostics)).toContain('Only one type may be given for the choice element value[x]');
    }
    for (const r of samples) {
      const broken = { ...clone(r), id: 'a b$' };
      expect(ours(broken).map((i) => i.expression?.[0])).toEqual([`${r.resourceType}.id`]);
    }
  });
});
