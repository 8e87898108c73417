/**
 * Over the locked screen: the signed-in user's password, or sign out. Says why it locked.
 * The user's name is unknown when the page opened on a locked session (no token to ask
 * the core with); the core knows whose password unlocks it.
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/errors';
import { messageOf } from '../ui/ErrorNotice';
import type { AuthClient, LockReason } from './auth-client';

const WHY: Record<LockReason, string> = {
  idle: 'The screen was locked because it was not used for a while.',
  manual: 'The screen was locked.',
  'lock-screen': 'Flint was locked when this computer’s screen was locked.',
  suspend: 'Flint was locked when this computer went to sleep.',
  'found-locked': 'This session is locked.',
};

interface Props {
  auth: AuthClient;
  reason: LockReason;
  username: string | undefined;
  onUnlocked: () => void;
}

export function LockScreen({ auth, reason, username, onUnlocked }: Props) {
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
          {WHY[reason]}{' '}
          {username ? (
            <>
              Enter the password of <strong>{username}</strong> to continue where you left off.
            </>
          ) : (
            'Enter your password to continue.'
          )}
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
