/**
 * Registered SMART apps: the list (public apps and backend services), registering a public
 * app (name, redirect URIs, scope), and revoking one after a confirmation.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useId, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { AdminApp } from '../../shared/api/admin';
import { useFlint } from '../app/flint-context';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { Field, Saved } from './Field';
import { useFormMutation } from './use-form-mutation';
import { fieldErrorOf, type FieldRules } from './field-errors';

export const APPS_KEY = ['flint', 'admin', 'apps'] as const;
export const DEFAULT_SCOPE = 'openid fhirUser launch/patient offline_access patient/*.rs';

interface NewAppForm {
  name: string;
  redirectUris: string;
  scope: string;
}

const APP_RULES: FieldRules<keyof NewAppForm> = [
  ['redirectUris', /redirect|URL|URI|loopback|fragment/i],
  ['scope', /scope/i],
  ['name', /name/i],
];

/** One redirect URI a line (or separated by spaces). */
export const redirectList = (text: string) => text.split(/\s+/).map((s) => s.trim()).filter(Boolean);

function redirectProblem(text: string): string | true {
  const list = redirectList(text);
  if (list.length === 0) return 'Enter at least one redirect URI.';
  for (const u of list) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return `${u} is not an absolute URL.`;
    }
    if (url.hash) return `${u}: a redirect URI has no #fragment.`;
  }
  return true;
}

export function AppsTab() {
  const { flint } = useFlint();
  const apps = useQuery({ queryKey: APPS_KEY, queryFn: async (): Promise<AdminApp[]> => flint.apps() });
  const [confirming, setConfirming] = useState<string>();
  const queries = useQueryClient();
  const revoke = useMutation({
    mutationFn: (clientId: string) => flint.revokeApp(clientId),
    onSuccess: async () => {
      setConfirming(undefined);
      await queries.invalidateQueries({ queryKey: APPS_KEY });
    },
  });
  return (
    <section aria-labelledby="apps-title">
      <h2 id="apps-title">Apps</h2>
      <p className="hint">SMART on FHIR apps that may ask users to sign in and act on their behalf, and backend services with their own role.</p>
      <ErrorNotice error={apps.error} title="The apps could not be listed" />
      {apps.isPending ? <Loading label="Listing apps…" /> : null}
      {apps.data && apps.data.length === 0 ? <p>No apps are registered.</p> : null}
      {apps.data && apps.data.length > 0 ? (
        <table className="data apps-table">
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">Kind</th>
              <th scope="col">Redirect URIs</th>
              <th scope="col">Scope</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {apps.data.map((a) => (
              <Fragment key={a.clientId}>
                <tr>
                  <th scope="row">
                    {a.name}
                    <br />
                    <small>
                      client id <code>{a.clientId}</code>
                    </small>
                  </th>
                  <td>{a.kind === 'backend' ? `Backend service (role ${a.role ?? '?'})` : 'SMART app'}</td>
                  <td className="break">{a.redirectUris.join(' ') || '—'}</td>
                  <td className="break">
                    <code>{a.scope}</code>
                  </td>
                  <td>{a.revoked ? <span className="badge error">Revoked</span> : <span className="badge ok">Active</span>}</td>
                  <td>
                    {!a.revoked && confirming !== a.clientId ? (
                      <button type="button" className="danger" aria-expanded={false} onClick={() => setConfirming(a.clientId)}>
                        Revoke<span className="visually-hidden"> {a.name}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
                {confirming === a.clientId ? (
                  <tr className="manage-row">
                    <td colSpan={6}>
                      <div className="notice notice-warn" role="alertdialog" aria-labelledby={`revoke-q-${a.clientId}`}>
                        <p id={`revoke-q-${a.clientId}`}>
                          <strong>Revoke {a.name}?</strong> It stops working at once: its tokens are refused and nobody can sign in to it. This cannot be undone (register it again instead).
                        </p>
                        <div className="actions">
                          <button type="button" className="danger" autoFocus disabled={revoke.isPending} onClick={() => revoke.mutate(a.clientId)}>
                            Revoke {a.name}
                          </button>
                          <button type="button" onClick={() => setConfirming(undefined)}>
                            Cancel
                          </button>
                        </div>
                        <ErrorNotice error={revoke.error} title="The app was not revoked" />
                      </div>
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : null}
      <RegisterApp />
    </section>
  );
}

function RegisterApp() {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const idBase = useId();
  const [registered, setRegistered] = useState<AdminApp>();
  const form = useForm<NewAppForm>({ defaultValues: { name: '', redirectUris: '', scope: DEFAULT_SCOPE } });
  const add = useFormMutation(form, APP_RULES, (f) => flint.addApp({ name: f.name.trim(), redirectUris: redirectList(f.redirectUris), scope: f.scope.trim() }), {
    start: () => setRegistered(undefined),
    saved: async (a) => {
      setRegistered(a);
      form.reset();
      await queries.invalidateQueries({ queryKey: APPS_KEY });
    },
  });
  const submit = form.handleSubmit((f) => add.mutate(f));
  const e = form.formState.errors;
  return (
    <form className="card admin-form" onSubmit={(ev) => void submit(ev)} noValidate aria-labelledby={`${idBase}-title`}>
      <h3 id={`${idBase}-title`}>Register a SMART app</h3>
      <Field id={`${idBase}-name`} label="Name" hint="Shown to users when the app asks them to sign in." error={e.name?.message}>
        {(p) => <input {...p} autoComplete="off" {...form.register('name', { validate: (v) => (v.trim() ? true : 'Enter the app’s name.') })} />}
      </Field>
      <Field id={`${idBase}-redirects`} label="Redirect URIs" hint="One a line, exactly as the app sends them. https, or http on this computer (127.0.0.1, localhost) only." error={e.redirectUris?.message}>
        {(p) => <textarea {...p} rows={3} spellCheck={false} className="mono" {...form.register('redirectUris', { validate: redirectProblem })} />}
      </Field>
      <Field id={`${idBase}-scope`} label="Scope" hint="The most the app may ask for; each user's roles still apply." error={e.scope?.message}>
        {(p) => <input {...p} spellCheck={false} className="mono" {...form.register('scope', { validate: (v) => (v.trim() ? true : 'Enter a scope.') })} />}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Register app
        </button>
      </div>
      <Saved>
        {registered ? (
          <>
            Registered {registered.name}. Its client id is <code>{registered.clientId}</code>: configure the app with it.
          </>
        ) : null}
      </Saved>
      {add.isError && !fieldErrorOf(add.error, APP_RULES) ? <ErrorNotice error={add.error} title="The app was not registered" /> : null}
    </form>
  );
}
