/**
 * The frame of every signed-in screen: a header with the navigation, the sync status
 * (always visible) and the user's menu; the routed screen below. A skip link leads
 * keyboard users past the navigation.
 */
import { Suspense } from 'react';
import { NavLink, Route, Routes } from 'react-router';
import { Loading } from '../ui/Loading';
import { SyncBadge } from '../sync/SyncBadge';
import { useFlint } from './flint-context';
import { SCREENS } from './routes';

export function Layout() {
  const { session, auth, can } = useFlint();
  const nav = SCREENS.filter((s) => s.nav && (!s.visible || s.visible({ session, can })));
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="brand">
          <img src="/flint.svg" alt="" width="28" height="28" />
          <span>Flint</span>
        </div>
        <nav aria-label="Main">
          <ul>
            {nav.map((s) => (
              <li key={s.path}>
                <NavLink to={s.nav!.to ?? s.path} end={s.nav!.end ?? false}>
                  {s.nav!.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <SyncBadge />
        <div className="user-menu">
          <span aria-label="Signed in as">
            {session.username} <small>({session.roles.join(', ')})</small>
          </span>
          <button type="button" onClick={() => void auth.lock('manual')}>
            Lock
          </button>
          <button type="button" onClick={() => void auth.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            {SCREENS.filter((s) => !s.visible || s.visible({ session, can })).map((s) => (
              <Route key={s.path} path={s.path} element={<s.component />} />
            ))}
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no screen at this address, or your account may not open it.</p>
    </section>
  );
}
