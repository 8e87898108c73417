/**
 * Every screen, its address and whether it shows in the navigation. Feature folders own
 * their screens; this list only places them. `visible` hides what a role cannot use (the
 * core refuses it anyway).
 */
import { lazy, type ComponentType } from 'react';
import type { SessionInfo } from '../api/flint';
import { PatientsPage } from '../patients/PatientsPage';
import type { FlintContextValue } from './flint-context';

// The first screen is in the main bundle; every other feature is its own chunk, fetched
// (from this computer) the first time it is opened.
const PatientRecordPage = lazy(() => import('../record/PatientRecordPage').then((m) => ({ default: m.PatientRecordPage })));
const SearchPage = lazy(() => import('../search/SearchPage').then((m) => ({ default: m.SearchPage })));
const ResourceEditPage = lazy(() => import('../editing/ResourceEditPage').then((m) => ({ default: m.ResourceEditPage })));
const ResourceViewPage = lazy(() => import('../editing/ResourceViewPage').then((m) => ({ default: m.ResourceViewPage })));
const HistoryPage = lazy(() => import('../editing/HistoryPage').then((m) => ({ default: m.HistoryPage })));
const AuditPage = lazy(() => import('../audit/AuditPage').then((m) => ({ default: m.AuditPage })));
const SyncPage = lazy(() => import('../sync/SyncPage').then((m) => ({ default: m.SyncPage })));
const ConflictPage = lazy(() => import('../sync/ConflictPage').then((m) => ({ default: m.ConflictPage })));
const AdminPage = lazy(() => import('../admin/AdminPage').then((m) => ({ default: m.AdminPage })));

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
