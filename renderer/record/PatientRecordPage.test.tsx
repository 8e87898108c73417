// @vitest-environment jsdom
import { renderScreen } from '../app/screen-harness';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes } from 'react-router';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { type Interaction } from '../app/flint-context';
import { recentPatientsOf } from '../patients/recent-patients';
import { PatientRecordPage } from './PatientRecordPage';

// uPlot draws on a canvas, which jsdom does not have: a stand-in records what it was given.
const plots: Array<{ data: unknown[]; target: HTMLElement }> = [];
vi.mock('uplot', () => ({
  default: class {
    constructor(_opts: unknown, data: unknown[], target: HTMLElement) {
      plots.push({ data, target });
      target.appendChild(document.createElement('canvas'));
    }
    setSize() {}
    destroy() {}
  },
}));
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

beforeAll(() => {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
});
afterEach(() => {
  cleanup();
  plots.length = 0;
});

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  name: [{ family: 'Ash', given: ['Ann'] }],
  gender: 'female',
  birthDate: '1984-03-07',
  identifier: [{ type: { text: 'MRN' }, value: '00123' }],
  telecom: [{ system: 'phone', value: '555-0100', use: 'mobile' }],
  address: [{ line: ['1 High St'], city: 'Springfield', postalCode: '12345' }],
};
const bundle = (...rs: Resource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource, search: { mode: 'match' } })) });
const LOINC = 'http://loinc.org';
const vital = (id: string, code: string, date: string, value: number, unit: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  effectiveDateTime: date,
  valueQuantity: { value, unit },
});

function setup(path: string, opts: { can?: (type: string, i: Interaction) => boolean; read?: () => Promise<unknown> } = {}) {
  const searches: Array<{ type: string; params: Record<string, string> }> = [];
  const data: Record<string, Resource[]> = {
    AllergyIntolerance: [{ resourceType: 'AllergyIntolerance', id: 'a1', patient: { reference: 'Patient/p1' }, code: { text: 'Penicillin' }, criticality: 'high' }],
    Condition: [{ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' }, onsetDateTime: '2010-05-01' }],
    MedicationRequest: [],
    Immunization: [{ resourceType: 'Immunization', id: 'i1', status: 'completed', patient: { reference: 'Patient/p1' }, vaccineCode: { text: 'Influenza' }, occurrenceDateTime: '2023-10-01' }],
    Encounter: [{ resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB', display: 'ambulatory' }, type: [{ text: 'Check-up' }], period: { start: '2024-03-01T09:00:00Z' } }],
    Observation: [
      vital('hr1', '8867-4', '2024-03-01T09:00:00Z', 72, '/min'),
      vital('hr2', '8867-4', '2024-03-02T09:00:00Z', 75, '/min'),
      {
        resourceType: 'Observation',
        id: 'bp1',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '85354-6' }] },
        effectiveDateTime: '2024-03-01T09:00:00Z',
        component: [
          { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 121, unit: 'mmHg' } },
          { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 79, unit: 'mmHg' } },
        ],
      },
      vital('w1', '29463-7', '2024-03-01T09:00:00Z', 70.2, 'kg'),
    ],
  };
  const fhir = {
    read: vi.fn(opts.read ?? (async () => ({ resource: patient, etag: 'W/"1"' }))),
    search: vi.fn(async (type: string, params: Record<string, string>) => {
      searches.push({ type, params });
      return bundle(...(data[type] ?? []));
    }),
    everything: vi.fn(async () => ({
      ...bundle(patient, ...Object.values(data).flat()),
      link: [{ relation: 'next', url: '/fhir/Patient/p1/$everything?_cursor=n.x' }],
    })),
    page: vi.fn(async () => bundle({ resourceType: 'Flag', id: 'f1', status: 'active', code: { text: 'Fall risk' }, subject: { reference: 'Patient/p1' } } as Resource)),
  };
  const auth = { subscribe: () => () => undefined };
  const ctx = {
    fhir,
    flint: {},
    auth,
    session: { username: 'u', roles: ['writer'], permissions: [] },
    can: opts.can ?? (() => true),
  };
  renderScreen(
    <Routes>
      <Route path="/patients/:id/*" element={<PatientRecordPage />} />
    </Routes>,
    { ctx, path },
  );
  return { fhir, searches, auth };
}

describe('PatientRecordPage', () => {
  it('shows the demographics, the Edit and History links, and remembers the patient as recent', async () => {
    const { auth } = setup('/patients/p1');
    expect(await screen.findByRole('heading', { level: 1, name: 'Ash, Ann' })).toBeTruthy();
    expect(screen.getByText('MRN 00123')).toBeTruthy();
    expect(screen.getByText('Phone (mobile): 555-0100')).toBeTruthy();
    expect(screen.getByText('1 High St, 12345 Springfield')).toBeTruthy();
    expect(screen.getByText(/1984 \(\d+ y\)/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Edit' }).getAttribute('href')).toBe('/r/Patient/p1/edit');
    expect(screen.getByRole('link', { name: 'History' }).getAttribute('href')).toBe('/r/Patient/p1/history');
    await waitFor(() => expect(recentPatientsOf(auth).current.map((p) => p.id)).toEqual(['p1']));
  });

  it('fetches the summary cards together (not the vital signs) and links each item and Add', async () => {
    const { searches } = setup('/patients/p1');
    await screen.findByRole('link', { name: 'Penicillin' });
    expect(searches.map((s) => s.type).sort()).toEqual(['AllergyIntolerance', 'Condition', 'Encounter', 'Immunization', 'MedicationRequest']);
    expect(searches.find((s) => s.type === 'Condition')!.params).toMatchObject({ patient: 'p1', 'clinical-status': 'active' });
    expect(searches.find((s) => s.type === 'MedicationRequest')!.params).toMatchObject({ patient: 'p1', status: 'active' });
    expect(searches.find((s) => s.type === 'Encounter')!.params).toMatchObject({ patient: 'p1', _sort: '-date', _count: '10' });
    expect(screen.getByRole('link', { name: 'Penicillin' }).getAttribute('href')).toBe('/r/AllergyIntolerance/a1');
    expect(screen.getByText('High criticality')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Asthma' }).getAttribute('href')).toBe('/r/Condition/c1');
    expect(screen.getByRole('link', { name: 'Influenza' }).getAttribute('href')).toBe('/r/Immunization/i1');
    expect(screen.getByRole('link', { name: 'Check-up' }).getAttribute('href')).toBe('/r/Encounter/e1');
    expect(screen.getByText('No active medications.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Add allergy' }).getAttribute('href')).toBe('/r/AllergyIntolerance/new?patient=p1');
    expect(screen.getByRole('link', { name: 'Add encounter' }).getAttribute('href')).toBe('/r/Encounter/new?patient=p1');
    const tabs = screen.getByRole('navigation', { name: 'Patient record' });
    expect(within(tabs).getByRole('link', { name: 'Summary' }).getAttribute('aria-current')).toBe('page');
    expect(within(tabs).getByRole('link', { name: 'Vital signs' }).getAttribute('href')).toBe('/patients/p1/vitals');
  });

  it('starts loading a tab’s data when its link is pointed at or focused', async () => {
    const { searches, fhir } = setup('/patients/p1');
    await screen.findByRole('link', { name: 'Penicillin' });
    expect(searches.some((s) => s.type === 'Observation')).toBe(false);
    fireEvent.pointerEnter(screen.getByRole('link', { name: 'Vital signs' }));
    await waitFor(() => expect(searches.filter((s) => s.type === 'Observation')).toHaveLength(1));
    expect(fhir.everything).not.toHaveBeenCalled();
    fireEvent.focus(screen.getByRole('link', { name: 'Timeline' }));
    await waitFor(() => expect(fhir.everything).toHaveBeenCalledTimes(1));
  });

  it('hides Edit, History and the Add links from a user who may only read', async () => {
    setup('/patients/p1', { can: (_t, i) => i === 'read' || i === 'search' });
    await screen.findByRole('link', { name: 'Penicillin' });
    expect(screen.queryByRole('link', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'History' })).toBeNull();
    expect(screen.queryByRole('link', { name: /^Add / })).toBeNull();
  });

  it('says plainly when the patient does not exist', async () => {
    setup('/patients/nope', { read: async () => Promise.reject(new ApiError(404, undefined, 'gone')) });
    expect((await screen.findByRole('alert')).textContent).toContain('This record was not found');
    expect(screen.queryByRole('navigation', { name: 'Patient record' })).toBeNull();
  });

  it('charts the vital signs, with the values in a table, on the Vital signs tab', async () => {
    const { searches } = setup('/patients/p1/vitals');
    await screen.findByRole('heading', { name: /Heart rate/ });
    expect(searches.filter((s) => s.type === 'Observation').map((s) => s.params)).toEqual([
      { patient: 'p1', category: 'vital-signs', _sort: 'date', _count: '1000' },
    ]);
    expect(searches.some((s) => s.type === 'AllergyIntolerance')).toBe(false);
    const hr = screen.getByRole('img', { name: /^Heart rate chart, 2 readings/ });
    expect(hr.getAttribute('aria-label')).toMatch(/Latest: 75 beats per minute\.$/);
    expect(screen.getByRole('img', { name: /^Blood pressure chart, 1 reading .* Latest: systolic 121, diastolic 79 mmHg\.$/ })).toBeTruthy();
    expect(screen.getByText('No body mass index readings recorded.')).toBeTruthy();
    // Blood pressure: one x, two series.
    const bpPlot = plots.find((p) => p.target === screen.getByRole('img', { name: /^Blood pressure/ }))!;
    expect(bpPlot.data).toEqual([[Date.parse('2024-03-01T09:00:00Z') / 1000], [121], [79]]);

    const details = screen.getByText('Values of blood pressure (1)').closest('details')!;
    details.open = true;
    fireEvent(details, new Event('toggle'));
    const table = await within(details).findByRole('table');
    expect(within(table).getAllByRole('columnheader').map((c) => c.textContent)).toEqual(['Date', 'Systolic (mmHg)', 'Diastolic (mmHg)']);
    expect(within(table).getAllByRole('cell').slice(1).map((c) => c.textContent)).toEqual(['121', '79']);
    expect(screen.getByRole('link', { name: 'Add vital signs' }).getAttribute('href')).toBe('/r/Observation/new?patient=p1&category=vital-signs');
  });

  it('lists the whole record on the Timeline tab, following next links, filtered by type', async () => {
    const { fhir } = setup('/patients/p1/timeline');
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('9 entries'));
    expect(fhir.everything).toHaveBeenCalledWith('p1', { _count: '200' }, expect.anything());
    expect(fhir.page).toHaveBeenCalledWith('/fhir/Patient/p1/$everything?_cursor=n.x', expect.anything());
    const table = screen.getByRole('table', { name: 'Timeline' });
    expect(within(table).getByRole('link', { name: 'Fall risk' }).getAttribute('href')).toBe('/r/Flag/f1');
    fireEvent.click(screen.getByRole('checkbox', { name: /Observation/ }));
    expect(screen.getByRole('status').textContent).toBe('5 of 9 entries');
    expect(within(table).queryByRole('link', { name: 'Fall risk' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'No types' }));
    expect(screen.getByText('Nothing matches these filters.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'All types' }));
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2024-03-02' } });
    expect(screen.getByRole('status').textContent).toBe('1 of 9 entries');
  });
});
