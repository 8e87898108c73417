// @vitest-environment jsdom
import { renderScreen } from '../app/screen-harness';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PatientsPage } from './PatientsPage';
import { recentPatientsOf } from './recent-patients';

const ann: Patient = { resourceType: 'Patient', id: 'ann', name: [{ family: 'Ash', given: ['Ann'] }], gender: 'female', birthDate: '1984-03-07', identifier: [{ value: 'MRN-1' }] };
const bob: Patient = { resourceType: 'Patient', id: 'bob', name: [{ family: 'Birch', given: ['Bob'] }], gender: 'male', birthDate: '1950-01-01' };
const bundle = (...ps: Patient[]): Bundle<Patient> => ({ resourceType: 'Bundle', type: 'searchset', entry: ps.map((resource) => ({ resource, search: { mode: 'match' } })) });

interface Call {
  params: URLSearchParams;
  signal: AbortSignal | undefined;
  resolve: (b: Bundle<Patient>) => void;
  reject: (e: unknown) => void;
}

function setup(opts: { can?: boolean } = {}) {
  const calls: Call[] = [];
  const search = vi.fn(
    (_type: string, params: URLSearchParams, signal?: AbortSignal) =>
      new Promise<Bundle<Patient>>((resolve, reject) => {
        calls.push({ params, signal, resolve, reject });
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      }),
  );
  const auth = { subscribe: () => () => undefined };
  const ctx = {
    fhir: { search },
    flint: {},
    auth,
    session: { username: 'u', roles: ['writer'], permissions: [] },
    can: () => opts.can ?? true,
  };
  const { path } = renderScreen(
    <Routes>
      <Route path="/" element={<PatientsPage />} />
      <Route path="*" element={<p>elsewhere</p>} />
    </Routes>,
    { ctx },
  );
  const box = screen.getByLabelText('Search patients');
  return { calls, search, auth, box, path };
}

afterEach(cleanup);

describe('PatientsPage', () => {
  it('searches once typing pauses, by name, and shows the results', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: 'a' } });
    fireEvent.change(box, { target: { value: 'an' } });
    fireEvent.change(box, { target: { value: 'ann' } });
    expect(screen.getByRole('status').textContent).toBe('Searching…');
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.params.getAll('name')).toEqual(['ann']);
    expect(calls[0]!.params.get('_count')).toBe('20');
    act(() => calls[0]!.resolve(bundle(ann)));
    const link = await screen.findByRole('link', { name: 'Ash, Ann' });
    expect(link.getAttribute('href')).toBe('/patients/ann');
    expect(screen.getByRole('status').textContent).toBe('1 patient found.');
    expect(screen.getByRole('cell', { name: /1984 \(\d+ y\)$/ })).toBeTruthy();
    expect(screen.getByRole('cell', { name: 'MRN-1' })).toBeTruthy();
  });

  it('never shows an earlier term’s results for a later term, and aborts the earlier request', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: 'ann' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    fireEvent.change(box, { target: { value: 'bob' } });
    // The old answer arriving now, after the box changed, is not shown.
    act(() => calls[0]!.resolve(bundle(ann)));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole('link', { name: 'Ash, Ann' })).toBeNull();
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.params.getAll('name')).toEqual(['bob']);
    act(() => calls[1]!.resolve(bundle(bob)));
    await screen.findByRole('link', { name: 'Birch, Bob' });
    expect(screen.queryByRole('link', { name: 'Ash, Ann' })).toBeNull();
  });

  it('aborts a request nobody waits for any more', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: 'ann' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    fireEvent.change(box, { target: { value: 'bob' } });
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[0]!.signal?.aborted).toBe(true);
    expect(calls[1]!.signal?.aborted).toBe(false);
  });

  it('searches a birth date typed as DD/MM/YYYY, and an identifier as identifier or name, merged', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: '07/03/1984' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.params.get('birthdate')).toBe('1984-03-07');
    act(() => calls[0]!.resolve(bundle(ann)));
    await screen.findByRole('link', { name: 'Ash, Ann' });

    fireEvent.change(box, { target: { value: 'MRN-1' } });
    await waitFor(() => expect(calls).toHaveLength(3));
    expect(calls[1]!.params.get('identifier')).toBe('MRN-1');
    expect(calls[2]!.params.getAll('name')).toEqual(['MRN-1']);
    act(() => {
      calls[1]!.resolve(bundle(ann));
      calls[2]!.resolve(bundle(bob, ann));
    });
    await screen.findByRole('link', { name: 'Birch, Bob' });
    expect(screen.getAllByRole('link', { name: /, / }).map((a) => a.textContent)).toEqual(['Ash, Ann', 'Birch, Bob']);
  });

  it('adds the gender filter to the search', async () => {
    const { calls, box } = setup();
    fireEvent.change(screen.getByLabelText('Gender'), { target: { value: 'female' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.params.get('gender')).toBe('female');
    fireEvent.change(box, { target: { value: 'ash' } });
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.params.get('gender')).toBe('female');
    expect(calls[1]!.params.getAll('name')).toEqual(['ash']);
  });

  it('says so in plain words when nothing matches or the search fails', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: 'zed' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    act(() => calls[0]!.resolve(bundle()));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('No patient has a name starting with “zed”.'));
    fireEvent.change(box, { target: { value: 'zedd' } });
    await waitFor(() => expect(calls).toHaveLength(2));
    act(() => calls[1]!.reject(new Error('boom')));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The search did not work');
  });

  it('moves from the box into the results with the arrow keys, and opens one with Enter (a link)', async () => {
    const { calls, box } = setup();
    fireEvent.change(box, { target: { value: 'a' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    act(() => calls[0]!.resolve(bundle(ann, bob)));
    await screen.findByRole('link', { name: 'Ash, Ann' });
    box.focus();
    fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Ash, Ann');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Birch, Bob');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(box);
  });

  it('opens a patient by a click on its row', async () => {
    const { calls, box, path } = setup();
    fireEvent.change(box, { target: { value: 'a' } });
    await waitFor(() => expect(calls).toHaveLength(1));
    act(() => calls[0]!.resolve(bundle(ann, bob)));
    const cell = await screen.findByRole('cell', { name: 'Male' });
    fireEvent.click(cell);
    expect(path()).toBe('/patients/bob');
  });

  it('shows the recent patients when the box is empty, and the New patient link when allowed', async () => {
    const { auth } = setup();
    expect(screen.queryByRole('heading', { name: 'Recent patients' })).toBeNull();
    act(() => recentPatientsOf(auth).remember(bob));
    expect(await screen.findByRole('heading', { name: 'Recent patients' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Birch, Bob' }).getAttribute('href')).toBe('/patients/bob');
    expect(screen.getByRole('link', { name: 'New patient' }).getAttribute('href')).toBe('/r/Patient/new');
  });

  it('hides New patient from a user who may not create patients', () => {
    setup({ can: false });
    expect(screen.queryByRole('link', { name: 'New patient' })).toBeNull();
  });
});
