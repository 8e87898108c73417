// @vitest-environment jsdom
/**
 * The sync panel and a conflict page against a fake core: what admins and others see,
 * pausing, the quarantine list, and a delete-against-edit conflict kept as the deletion.
 */
import { renderScreen } from '../app/screen-harness';
import type { Resource } from '@medplum/fhirtypes';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConflictEntry, SyncStatus } from '../../shared/api/sync';
import { ApiError } from '../api/errors';
import { type FlintContextValue } from '../app/flint-context';
import { ConflictPage } from './ConflictPage';
import { SyncPage } from './SyncPage';

const status = (over: Partial<SyncStatus> = {}): SyncStatus => ({
  configured: true,
  state: 'idle',
  remote: 'https://couch.example/clinic',
  pending: 2,
  auditPending: 5,
  sent: 10,
  received: 20,
  quarantined: 1,
  conflicts: 1,
  message: 'Up to date with the clinic server.',
  ...over,
});

const gone = () => new ApiError(410, undefined, 'deleted');

function setup(opts: { admin: boolean; flint: Partial<FlintContextValue['flint']>; fhir?: Partial<FlintContextValue['fhir']>; path: string }) {
  const auth = { current: 'signed-in', subscribe: () => () => undefined } as unknown as FlintContextValue['auth'];
  const ctx = {
    auth,
    flint: opts.flint,
    fhir: opts.fhir ?? { read: vi.fn(async () => Promise.reject(gone())) },
    session: { username: 'u', roles: [], admin: opts.admin, permissions: [] },
  };
  return renderScreen(
    <Routes>
      <Route path="/sync" element={<SyncPage />} />
      <Route path="/sync/conflicts/:type/:id" element={<ConflictPage />} />
    </Routes>,
    { ctx, path: opts.path },
  );
}

afterEach(cleanup);

describe('SyncPage', () => {
  const conflicts: ConflictEntry[] = [{ type: 'Observation', id: 'o1', kind: 'delete', current: '3.aaaaaa', versions: ['3.aaaaaa', '3.bbbbbb'] }];

  it('shows admins the figures, pause and the quarantine', async () => {
    const setSyncPaused = vi.fn(async (paused: boolean) => status({ state: paused ? 'paused' : 'idle' }));
    const quarantine = vi.fn(async () => [{ doc: 'r:Patient/bad', type: 'Patient', id: 'bad', vid: '2.cccccc', reason: 'Patient.gender: not in the value set', at: '2026-03-01T10:00:00Z' }]);
    setup({ admin: true, path: '/sync', flint: { syncStatus: vi.fn(async () => status()), conflicts: vi.fn(async () => conflicts), quarantine, setSyncPaused } });
    await screen.findByText('Up to date with the clinic server.');
    expect(screen.getByText('https://couch.example/clinic')).toBeTruthy();
    expect(screen.getByText('10 records sent, 20 records received')).toBeTruthy();
    await screen.findByText('Patient.gender: not in the value set');
    expect(screen.getByText('Patient/bad')).toBeTruthy();
    const row = (await screen.findByText('Deleted on one workstation, edited on another')).closest('tr')!;
    expect(row.textContent).toContain('Observation/o1');
    expect(row.textContent).toContain('2 versions');
    fireEvent.click(screen.getByRole('button', { name: 'Pause sync' }));
    await waitFor(() => expect(setSyncPaused).toHaveBeenCalledWith(true));
    await screen.findByRole('button', { name: 'Resume sync' });
  });

  it('shows others the status and conflicts, without pause or quarantine', async () => {
    const quarantine = vi.fn(async () => []);
    setup({ admin: false, path: '/sync', flint: { syncStatus: vi.fn(async () => status()), conflicts: vi.fn(async () => []), quarantine } });
    await screen.findByText('Up to date with the clinic server.');
    await screen.findByText(/No conflicts/);
    expect(screen.queryByRole('button', { name: /Pause sync|Resume sync/ })).toBeNull();
    expect(screen.queryByRole('heading', { name: /Quarantine/ })).toBeNull();
    expect(quarantine).not.toHaveBeenCalled();
  });
});

describe('ConflictPage', () => {
  it('shows a deletion against an edit and keeps the deletion', async () => {
    const edited: Resource = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'Weight' }, meta: { versionId: '3.bbbbbb' } } as Resource;
    const vread = vi.fn(async (_t: string, _i: string, vid: string) => {
      if (vid === '3.aaaaaa') throw gone();
      return edited;
    });
    const resolveConflict = vi.fn(async () => ({ type: 'Observation', id: 'o1', versionId: '4.aaaaaa', deleted: true }));
    const entry: ConflictEntry = { type: 'Observation', id: 'o1', kind: 'delete', current: '3.aaaaaa', versions: ['3.aaaaaa', '3.bbbbbb'] };
    setup({
      admin: true,
      path: '/sync/conflicts/Observation/o1',
      flint: { conflicts: vi.fn(async () => [entry]), syncStatus: vi.fn(async () => status()), quarantine: vi.fn(async () => []), resolveConflict },
      fhir: { vread, read: vi.fn(async () => Promise.reject(gone())) } as unknown as FlintContextValue['fhir'],
    });
    await screen.findByText('This version deletes the record');
    // Every field of the edit differs from the deletion.
    expect(screen.getByText('4 fields differ')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Keep this version' }));
    await waitFor(() => expect(resolveConflict).toHaveBeenCalledWith('Observation', 'o1', { keep: '3.aaaaaa' }));
    await waitFor(() => expect(screen.getByTestId('where').textContent).toBe('/sync'));
    await screen.findByText(/Observation\/o1: kept the current version; the record is now deleted\./);
  });

  it('says when the conflict is resolved already', async () => {
    setup({ admin: true, path: '/sync/conflicts/Patient/p9', flint: { conflicts: vi.fn(async () => []) } });
    await screen.findByText(/Patient\/p9 has no open conflict/);
  });
});
