/**
 * Import sources (import-sources.ts) on real files: NDJSON lines with bad ones reported
 * by line (without quoting them) and the rest read, exact decimals, Bundles by type, single
 * resources, folder order with Synthea's information Bundles first.
 */
import type { Resource } from '@medplum/fhirtypes';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { numberText } from '../../../shared/fhir/exact-json';
import { importFiles, itemPlace, readImportSources, type ImportItem } from './import-sources';

const dir = mkdtempSync(join(tmpdir(), 'flint-import-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(paths: string[]): Promise<ImportItem[]> {
  const out: ImportItem[] = [];
  for await (const item of readImportSources(paths)) out.push(item);
  return out;
}

describe('import sources', () => {
  it('reads NDJSON line by line: resources with exact decimals, bad lines reported by place without their text', async () => {
    const file = join(dir, 'obs.ndjson');
    writeFileSync(
      file,
      [
        '{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"w"},"valueQuantity":{"value":1.10}}',
        '',
        '{"resourceType":"Observation","id":"o2", SecretName}',
        '[1,2]',
        '{"id":"no-type"}',
        '{"resourceType":"Patient","id":"p1"}',
      ].join('\n'),
    );
    const items = await all([file]);
    expect(items.map((i) => [i.kind, itemPlace(i)])).toEqual([
      ['resource', 'obs.ndjson:1'],
      ['error', 'obs.ndjson:3'],
      ['error', 'obs.ndjson:4'],
      ['error', 'obs.ndjson:5'],
      ['resource', 'obs.ndjson:6'],
    ]);
    const o1 = (items[0] as { resource: Resource }).resource;
    expect(numberText(o1, 'valueQuantity.value')).toBe('1.10');
    expect(JSON.stringify(items)).not.toContain('SecretName');
  });

  it('takes transaction and batch Bundles whole, collection entries one by one, and single resources', async () => {
    const d = join(dir, 'bundles');
    mkdirSync(d);
    writeFileSync(join(d, 'a-tx.json'), JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    writeFileSync(join(d, 'b-col.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'x' } }, { fullUrl: 'urn:uuid:1' }] }));
    writeFileSync(join(d, 'c-one.json'), '\uFEFF{"resourceType":"Practitioner","id":"dr"}');
    writeFileSync(join(d, 'd-bad.json'), '{"resourceType":');
    writeFileSync(join(d, 'notes.txt'), 'ignored');
    const items = await all([d]);
    expect(items.map((i) => [i.kind, itemPlace(i)])).toEqual([
      ['bundle', 'a-tx.json'],
      ['resource', 'b-col.json:1'],
      ['error', 'b-col.json:2'],
      ['resource', 'c-one.json'],
      ['error', 'd-bad.json'],
    ]);
  });

  it('reads a Synthea folder with the information Bundles first', () => {
    const d = join(dir, 'synthea');
    mkdirSync(d);
    for (const n of ['Aaron_Smith.json', 'hospitalInformation1.json', 'Zed_Jones.json', 'practitionerInformation1.json']) writeFileSync(join(d, n), '{}');
    expect(importFiles([d]).map((f) => f.slice(d.length + 1))).toEqual([
      'hospitalInformation1.json',
      'practitionerInformation1.json',
      'Aaron_Smith.json',
      'Zed_Jones.json',
    ]);
  });
});
