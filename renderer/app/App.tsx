/**
 * The UI's root: routes that work without a session (first-run setup, the sign-in
 * callback) and everything else behind a signed-in session. The clients and the query
 * cache are made once per page load; tokens live in the AuthClient's memory only (and, in
 * the desktop app, the refresh token in the shell's: renderer/api/desktop.ts).
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { Route, RouterProvider, createBrowserRouter, createRoutesFromElements } from 'react-router';
import { desktopApi } from '../api/desktop';
import { ApiError } from '../api/errors';
import { FhirApi } from '../api/fhir';
import { FlintApi } from '../api/flint';
import { Http } from '../api/http';
import { AuthClient } from '../auth/auth-client';
import { CallbackPage } from '../auth/CallbackPage';
import { SetupPage } from '../setup/SetupPage';
import type { FlintDesktopApi } from '../../shared/desktop-api';
import { SignedIn } from './SignedIn';

export interface Clients {
  auth: AuthClient;
  fhir: FhirApi;
  flint: FlintApi;
}

interface AppParts extends Clients {
  /** The desktop bridge (window.flint); undefined in a plain browser. */
  desktop: FlintDesktopApi | undefined;
}

function makeClients(): AppParts {
  const desktop = desktopApi();
  const auth = new AuthClient(desktop);
  const http = new Http(auth);
  return { auth, fhir: new FhirApi(http), flint: new FlintApi(http), desktop };
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A refused request is not retried: it would only be refused again.
        retry: (count, e) => !(e instanceof ApiError && e.status < 500) && count < 2,
        staleTime: 15_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function App() {
  const clients = useMemo(makeClients, []);
  const queries = useMemo(makeQueryClient, []);
  // In the desktop app: the shell's session instead of a second sign-in, and its locks.
  // An effect, not makeClients: StrictMode may make a second, unused set of clients, which
  // must neither refresh the kept token nor listen for locks. resume() runs once per client.
  useEffect(() => {
    const { auth, desktop } = clients;
    if (!desktop) return;
    // On /callback a new sign-in is completing; it replaces whatever the shell kept.
    if (location.pathname !== '/callback') void auth.resume();
    return desktop.onLock((reason) => void auth.lockedByShell(reason));
  }, [clients]);
  // A data router: screens can hold a navigation back while a form has unsaved changes.
  const router = useMemo(
    () =>
      createBrowserRouter(
        createRoutesFromElements(
          <>
            <Route path="/setup" element={<SetupPage />} />
            <Route path="/callback" element={<CallbackPage auth={clients.auth} />} />
            <Route path="*" element={<Session clients={clients} />} />
          </>,
        ),
      ),
    [clients],
  );
  return (
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}

/** Everything else follows the sign-in state. */
function Session({ clients }: { clients: Clients }) {
  const state = useSyncExternalStore(
    (fn) => clients.auth.subscribe(fn),
    () => clients.auth.current,
  );
  return <SignedIn clients={clients} state={state} />;
}
