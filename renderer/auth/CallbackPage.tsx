/** /callback: the sign-in page sends the browser back here with a code. */
import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import type { AuthClient } from './auth-client';

export function CallbackPage({ auth }: { auth: AuthClient }) {
  const navigate = useNavigate();
  const [error, setError] = useState<string>();
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const url = new URL(location.href);
    // The code leaves the address bar (and history) at once.
    history.replaceState(null, '', '/callback');
    auth.completeSignIn(url).then(
      (to) => navigate(to, { replace: true }),
      (e: unknown) => setError(e instanceof Error ? e.message : 'Sign-in failed.'),
    );
  }, [auth, navigate]);
  return (
    <main className="center-card">
      <h1>Signing in…</h1>
      {error ? (
        <>
          <p role="alert">{error}</p>
          <button type="button" onClick={() => void auth.beginSignIn('/')}>
            Sign in again
          </button>
        </>
      ) : (
        <p role="status">One moment.</p>
      )}
    </main>
  );
}
