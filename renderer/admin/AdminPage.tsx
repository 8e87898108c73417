/**
 * Settings and administration (admins only; routes.tsx hides it from everyone else and
 * the core refuses them anyway): the central server, users, SMART apps, security and
 * maintenance (the search index), each a tab with its own address under /admin.
 */
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { useFlint } from '../app/flint-context';
import { AppsTab } from './AppsTab';
import { MaintenanceTab } from './MaintenanceTab';
import { SecurityTab } from './SecurityTab';
import { ServerTab } from './ServerTab';
import { UsersTab } from './UsersTab';

const TABS = [
  { path: 'server', label: 'Central server', element: <ServerTab /> },
  { path: 'users', label: 'Users', element: <UsersTab /> },
  { path: 'apps', label: 'Apps', element: <AppsTab /> },
  { path: 'security', label: 'Security', element: <SecurityTab /> },
  { path: 'maintenance', label: 'Maintenance', element: <MaintenanceTab /> },
];

export function AdminPage() {
  const { session } = useFlint();
  if (!session.admin) {
    return (
      <section>
        <h1>Not found</h1>
        <p>There is no screen at this address, or your account may not open it.</p>
      </section>
    );
  }
  return (
    <section className="admin-page" aria-labelledby="admin-title">
      <h1 id="admin-title">Settings and administration</h1>
      <nav className="tabs" aria-label="Administration">
        {TABS.map((t) => (
          <NavLink key={t.path} to={`/admin/${t.path}`}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Navigate to="server" replace />} />
        {TABS.map((t) => (
          <Route key={t.path} path={t.path} element={t.element} />
        ))}
        <Route
          path="*"
          element={
            <p>
              There is no such settings page. <NavLink to="/admin/server">Open the central server settings</NavLink>.
            </p>
          }
        />
      </Routes>
    </section>
  );
}
