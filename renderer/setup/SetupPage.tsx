/**
 * First run: /setup#token=... (printed once by `flint serve` on a data dir without users)
 * creates the administrator. The token sits in the fragment, so it never reaches a server
 * log or a Referer; it is taken out of the address bar at once and sent with the form.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, OfflineError, describeIssues, isOperationOutcome } from '../api/errors';

function takeToken(): string {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  if (location.hash) history.replaceState(null, '', '/setup');
  return token;
}

export function SetupPage() {
  const [token] = useState(takeToken);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ text: string; details?: string }>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (password !== confirm) {
      setError({ text: 'The two passwords are not the same.' });
      return;
    }
    setBusy(true);
    try {
      let res: Response;
      try {
        res = await fetch('/flint/setup', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ token, username, password }),
          cache: 'no-store',
          credentials: 'omit',
        });
      } catch {
        throw new OfflineError();
      }
      const body = (await res.json().catch(() => undefined)) as unknown;
      if (!res.ok) throw new ApiError(res.status, isOperationOutcome(body) ? body : undefined, isOperationOutcome(body) ? describeIssues(body) : '');
      setDone(username);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setError({ text: 'This setup link is not valid: it was used already or is more than an hour old. Restart Flint for a new one.' });
      else if (err instanceof ApiError && err.status === 409) setError({ text: 'This workstation already has an administrator. Sign in instead.' });
      else if (err instanceof ApiError && err.status === 400) setError({ text: err.details || err.message });
      else setError({ text: err instanceof Error ? err.message : 'Setup failed.' });
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <main className="center-card">
        <h1>Flint is ready</h1>
        <p>
          The administrator <strong>{done}</strong> was created. Sign in with that name and password.
        </p>
        <a className="button primary" href="/">
          Go to sign-in
        </a>
      </main>
    );
  }
  return (
    <main className="center-card">
      <img src="/flint.svg" alt="" width="64" height="64" />
      <h1>Set up Flint</h1>
      {!token ? (
        <p role="alert">Open the setup link that Flint printed when it started: it contains a one-time code this page needs.</p>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p>Create the administrator of this workstation. The administrator then adds the clinic’s staff.</p>
          <label htmlFor="setup-username">Administrator’s user name</label>
          <input id="setup-username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
          <label htmlFor="setup-password">Password</label>
          <input id="setup-password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <label htmlFor="setup-confirm">Password again</label>
          <input id="setup-confirm" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          {error ? (
            <div className="field-error" role="alert">
              {error.text}
              {error.details ? <pre>{error.details}</pre> : null}
            </div>
          ) : null}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              Create administrator
            </button>
          </div>
        </form>
      )}
    </main>
  );
}
