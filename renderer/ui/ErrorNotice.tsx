/** An error in plain words, with the server's details one click away. */
import { ApiError, OfflineError } from '../api/errors';

export function messageOf(error: unknown): { text: string; details?: string } {
  if (error instanceof ApiError) return { text: error.message, details: error.details };
  if (error instanceof OfflineError) return { text: error.message };
  if (error instanceof Error) return { text: 'Something went wrong. Nothing you typed is lost; try again.', details: error.message };
  return { text: 'Something went wrong. Try again.' };
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const m = messageOf(error);
  return (
    <div className="notice notice-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {m.text}
      {m.details ? (
        <details>
          <summary>Details</summary>
          <pre>{m.details}</pre>
        </details>
      ) : null}
    </div>
  );
}
