/** A labelled form control with its hint and its error next to it (wired with aria-describedby). */
import type { ReactNode } from 'react';

export interface ControlProps {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

export function Field({ id, label, hint, error, children }: { id: string; label: ReactNode; hint?: ReactNode; error?: string; children: (p: ControlProps) => ReactNode }) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const props: ControlProps = { id };
  if (error) props['aria-invalid'] = true;
  if (described) props['aria-describedby'] = described;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(props)}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A success message that screen readers hear. */
export function Saved({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="notice notice-ok" role="status">
      {children}
    </p>
  );
}
