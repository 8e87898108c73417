/**
 * Nothing typed is lost by leaving: while a form has unsaved changes, a move to another
 * screen (a link, Back) waits for "Leave without saving" in a dialog, and closing or
 * reloading the window asks the browser's own question.
 */
import { useEffect, useRef } from 'react';
import { useBlocker } from 'react-router';

export function UnsavedChangesGuard({ dirty }: { dirty: boolean }) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [dirty]);
  const stay = useRef<HTMLButtonElement>(null);
  const blocked = blocker.state === 'blocked';
  useEffect(() => {
    if (blocked) stay.current?.focus();
  }, [blocked]);
  if (!blocked) return null;
  return (
    <div className="lock-overlay unsaved-overlay">
      <div className="center-card" role="alertdialog" aria-modal="true" aria-labelledby="unsaved-title" aria-describedby="unsaved-text">
        <h2 id="unsaved-title">Leave without saving?</h2>
        <p id="unsaved-text">This record has changes that are not saved. If you leave now, they are lost.</p>
        <div className="actions">
          <button type="button" className="primary" ref={stay} onClick={() => blocker.reset?.()}>
            Stay and keep my changes
          </button>
          <button type="button" className="danger" onClick={() => blocker.proceed?.()}>
            Leave without saving
          </button>
        </div>
      </div>
    </div>
  );
}
