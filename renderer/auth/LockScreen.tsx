/** Over the locked screen: the signed-in user's password, or sign out. */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/errors';
import { messageOf } from '../ui/ErrorNotice';
import type { AuthClient } from './auth-client';

export function LockScreen({ auth, username, onUnlocked }: { auth: AuthClient; username: string; onUnlocked: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await auth.unlock(password);
      setPassword('');
      onUnlocked();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 400 ? 'The password is wrong, or the account is locked.' : messageOf(err).text);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="lock-overlay">
      <form className="center-card" role="dialog" aria-modal="true" aria-labelledby="lock-title" onSubmit={(e) => void submit(e)}>
        <h1 id="lock-title">Locked</h1>
        <p>
          The screen was locked because it was not used for a while. Enter the password of <strong>{username}</strong> to continue where you left off.
        </p>
        <label htmlFor="unlock-password">Password</label>
        <input id="unlock-password" type="password" autoComplete="current-password" autoFocus required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Unlock
          </button>
          <button type="button" onClick={() => void auth.signOut()}>
            Sign out
          </button>
        </div>
      </form>
    </div>
  );
}
