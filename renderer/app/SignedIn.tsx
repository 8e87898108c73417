/**
 * Everything behind a session: the sign-in prompt when there is none, the screens when
 * there is one, and the lock screen over them (kept mounted, so nothing on screen or in
 * a form is lost) when the session is locked. A page that opens on a locked session (the
 * desktop app resumed one) has no screens yet: the lock screen alone, then the screens.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo } from 'react';
import { useLocation } from 'react-router';
import { setupNeeded } from '../api/flint';
import type { AuthState } from '../auth/auth-client';
import { LockScreen } from '../auth/LockScreen';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import type { Clients } from './App';
import { FlintContext, canWith, type FlintContextValue } from './flint-context';
import { useIdle } from './idle';
import { Layout } from './Layout';

export function SignedIn({ clients, state }: { clients: Clients; state: AuthState }) {
  if (state === 'signed-out') return <SignInPrompt clients={clients} />;
  return <Session clients={clients} state={state} />;
}

function SignInPrompt({ clients }: { clients: Clients }) {
  const location = useLocation();
  const setup = useQuery({ queryKey: ['setup-needed'], queryFn: setupNeeded, staleTime: 0 });
  const returnTo = `${location.pathname}${location.search}`;
  return (
    <main className="center-card">
      <img src="/flint.svg" alt="" width="64" height="64" />
      <h1>Flint</h1>
      {setup.data ? (
        <p role="alert">
          This workstation has no administrator yet. Open the setup link that <code>flint serve</code> printed when it started (it is valid for one
          hour; restart Flint for a new one).
        </p>
      ) : (
        <>
          <p>The clinic’s records on this computer. Sign in to continue.</p>
          <button type="button" className="primary" autoFocus onClick={() => void clients.auth.beginSignIn(returnTo === '/callback' ? '/' : returnTo)}>
            Sign in
          </button>
        </>
      )}
    </main>
  );
}

function Session({ clients, state }: { clients: Clients; state: AuthState }) {
  const queries = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: clients.flint.session, staleTime: Infinity, enabled: state === 'signed-in' });
  const value = useMemo<FlintContextValue | undefined>(() => {
    const s = session.data;
    if (!s) return undefined;
    return { ...clients, session: s, can: (type, interaction) => canWith(s, type, interaction) };
  }, [clients, session.data]);
  const lock = useCallback(() => void clients.auth.lock('idle'), [clients.auth]);
  useIdle(session.data?.idleLockMinutes ?? 15, state === 'signed-in', lock);
  const unlocked = useCallback(() => void queries.invalidateQueries(), [queries]);
  const username = session.data?.username;
  useEffect(() => {
    if (username !== undefined) clients.auth.rememberUser(username);
  }, [clients.auth, username]);

  const lockScreen = <LockScreen auth={clients.auth} reason={clients.auth.lockReason} username={username ?? clients.auth.username} onUnlocked={unlocked} />;
  if (!value) {
    if (state === 'locked') return lockScreen;
    return <main className="center-card">{session.error ? <ErrorNotice error={session.error} /> : <Loading label="Opening your session…" />}</main>;
  }
  const locked = state === 'locked';
  return (
    <FlintContext.Provider value={value}>
      <div className={locked ? 'app locked' : 'app'} inert={locked} aria-hidden={locked}>
        <Layout />
      </div>
      {locked ? lockScreen : null}
    </FlintContext.Provider>
  );
}
