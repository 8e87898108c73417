/**
 * Every screen, its address and whether it shows in the navigation. Feature folders own
 * their screens; this list only places them. `visible` hides what a role cannot use (the
 * core refuses it anyway).
 */
import type { ComponentType } from 'react';
import type { SessionInfo } from '../api/flint';
import { AdminPage } from '../admin/AdminPage';
import { AuditPage } from '../audit/AuditPage';
import { HistoryPage } from '../editing/HistoryPage';
import { ResourceEditPage } from '../editing/ResourceEditPage';
import { ResourceViewPage } from '../editing/ResourceViewPage';
import { PatientsPage } from '../patients/PatientsPage';
import { PatientRecordPage } from '../record/PatientRecordPage';
import { SearchPage } from '../search/SearchPage';
import { ConflictPage } from '../sync/ConflictPage';
import { SyncPage } from '../sync/SyncPage';
import type { FlintContextValue } from './flint-context';

export interface Screen {
  path: string;
  component: ComponentType;
  nav?: { label: string; to?: string; end?: boolean };
  visible?: (ctx: { session: SessionInfo; can: FlintContextValue['can'] }) => boolean;
}

export const SCREENS: Screen[] = [
  { path: '/', component: PatientsPage, nav: { label: 'Patients', end: true } },
  { path: '/patients/:id/*', component: PatientRecordPage },
  { path: '/search/*', component: SearchPage, nav: { label: 'Search', to: '/search' } },
  { path: '/r/:type/new', component: ResourceEditPage, visible: ({ can, session }) => session.permissions.some((p) => p.interactions.includes('create')) || can('Patient', 'create') },
  { path: '/r/:type/:id', component: ResourceViewPage },
  { path: '/r/:type/:id/edit', component: ResourceEditPage },
  { path: '/r/:type/:id/history', component: HistoryPage },
  { path: '/audit', component: AuditPage, nav: { label: 'Audit' }, visible: ({ can }) => can('AuditEvent', 'search') },
  { path: '/sync', component: SyncPage, nav: { label: 'Sync' } },
  { path: '/sync/conflicts/:type/:id', component: ConflictPage },
  { path: '/admin/*', component: AdminPage, nav: { label: 'Admin', to: '/admin' }, visible: ({ session }) => session.admin },
];
