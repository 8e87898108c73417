/**
 * The central server this workstation syncs with: its address, the workstation's user
 * there and password (write-only: it goes to the OS keychain), a private CA certificate
 * and the audit database; save or remove; and the live sync status.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import type { SyncSettingsView } from '../../shared/api/sync-settings';
import { useFlint } from '../app/flint-context';
import { SyncStatusDetails, SyncStatusMessage } from '../sync/SyncStatusDetails';
import { SYNC_SETTINGS_KEY, SYNC_STATUS_KEY, useSyncStatus } from '../sync/use-sync-status';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { Field, Saved } from './Field';
import { useFormMutation } from './use-form-mutation';
import { fieldErrorOf, type FieldRules } from './field-errors';

interface ServerForm {
  remote: string;
  username: string;
  password: string;
  caPem: string;
  auditRemote: string;
}

const RULES: FieldRules<keyof ServerForm> = [
  ['auditRemote', /audit/i],
  ['remote', /\bURL\b|remote|database name/i],
  ['username', /user ?name/i],
  ['password', /password/i],
  ['caPem', /certificate|\bPEM\b|\bCA\b/],
];

/** A database URL as the core accepts it, checked before sending. */
export function remoteProblem(v: string, required: boolean): string | undefined {
  const t = v.trim();
  if (!t) return required ? 'Enter the address of the clinic database, e.g. https://couch.clinic.example:6984/clinic.' : undefined;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return 'This is not a web address. Example: https://couch.clinic.example:6984/clinic.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The address must start with https:// (or http://).';
  if (url.username || url.password) return 'Put the user name and password in their own fields, not in the address.';
  if (!/\/[a-z][a-z0-9_$()+-]*\/?$/.test(url.pathname)) return 'The address must end in a database name (lower-case), e.g. …/clinic.';
  return undefined;
}

export function ServerTab() {
  const { flint } = useFlint();
  const settings = useQuery({ queryKey: SYNC_SETTINGS_KEY, queryFn: async (): Promise<SyncSettingsView> => flint.syncSettings() });
  const status = useSyncStatus();
  /** Kept here: saving refreshes the settings, which remounts the form. */
  const [done, setDone] = useState<string>();
  return (
    <section aria-labelledby="server-title">
      <h2 id="server-title">Central server</h2>
      <p className="hint">Workstations share records through the clinic’s central CouchDB server. Work on this computer goes on when it cannot be reached.</p>
      <div className="admin-columns">
        <div>
          <ErrorNotice error={settings.error} title="The sync settings could not be read" />
          {settings.isPending ? <Loading /> : null}
          {settings.data ? <ServerSettingsForm key={JSON.stringify(settings.data)} view={settings.data} done={done} setDone={setDone} /> : null}
        </div>
        <section className="card" aria-labelledby="live-status-title">
          <h3 id="live-status-title" className="card-title">
            Live status
          </h3>
          {status.data ? (
            <>
              <SyncStatusMessage status={status.data} />
              <SyncStatusDetails status={status.data} />
            </>
          ) : status.error ? (
            <ErrorNotice error={status.error} title="The sync status could not be read" />
          ) : (
            <Loading />
          )}
        </section>
      </div>
    </section>
  );
}

function ServerSettingsForm({ view, done, setDone }: { view: SyncSettingsView; done: string | undefined; setDone: (s: string | undefined) => void }) {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const [confirmRemove, setConfirmRemove] = useState(false);
  const defaultAudit = view.remote ? `${view.remote}-audit` : '';
  const form = useForm<ServerForm>({
    defaultValues: {
      remote: view.remote ?? '',
      username: view.username ?? '',
      password: '',
      caPem: '',
      auditRemote: view.auditRemote && view.auditRemote !== defaultAudit ? view.auditRemote : '',
    },
  });
  const refresh = async (v: SyncSettingsView) => {
    queries.setQueryData(SYNC_SETTINGS_KEY, v);
    await queries.invalidateQueries({ queryKey: SYNC_STATUS_KEY });
  };
  const save = useFormMutation(
    form,
    RULES,
    (f) =>
      flint.saveSyncSettings({
        remote: f.remote.trim(),
        username: f.username.trim(),
        password: f.password,
        ...(f.caPem.trim() ? { caPem: f.caPem } : {}),
        ...(f.auditRemote.trim() ? { auditRemote: f.auditRemote.trim() } : {}),
      }),
    {
      start: () => setDone(undefined),
      saved: async (v) => {
        form.resetField('password');
        setDone(`Saved. This workstation now syncs with ${v.remote ?? 'the server'}; the password is in the OS keychain.`);
        await refresh(v);
      },
    },
  );
  const remove = useMutation({
    mutationFn: async () => {
      await flint.removeSyncSettings();
      return flint.syncSettings();
    },
    onMutate: () => setDone(undefined),
    onSuccess: async (v) => {
      setConfirmRemove(false);
      setDone('Sync removed: this workstation keeps its records to itself now.');
      await refresh(v);
    },
  });
  const submit = form.handleSubmit((f) => save.mutate(f));
  const e = form.formState.errors;
  return (
    <form className="card admin-form" onSubmit={(ev) => void submit(ev)} noValidate aria-labelledby="server-form-title">
      <h3 id="server-form-title">{view.configured ? 'Connection' : 'Set up sync'}</h3>
      {!view.configured ? <p>Sync is not set up: this workstation keeps its records to itself.</p> : null}
      <Field id="sync-remote" label="Clinic database address" hint="The URL of the clinic’s database on the central server, e.g. https://couch.clinic.example:6984/clinic." error={e.remote?.message}>
        {(p) => <input {...p} type="url" autoComplete="off" spellCheck={false} {...form.register('remote', { validate: (v) => remoteProblem(v, true) ?? true })} />}
      </Field>
      <Field id="sync-username" label="User name on the server" error={e.username?.message}>
        {(p) => <input {...p} autoComplete="off" spellCheck={false} {...form.register('username', { validate: (v) => (v.trim() ? true : 'Enter the user name this workstation signs in with.') })} />}
      </Field>
      <Field
        id="sync-password"
        label="Password on the server"
        hint={view.configured ? 'Stored in the OS keychain and never shown. Enter it again to save changes.' : 'Stored in the OS keychain, never in a file, and never shown again.'}
        error={e.password?.message}
      >
        {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register('password', { validate: (v) => (v ? true : 'Enter the password (it is not shown, so it must be entered again).') })} />}
      </Field>
      <Field
        id="sync-ca"
        label="CA certificate (optional)"
        hint={
          view.customCa
            ? 'A private CA is trusted for this server now. Paste it again (PEM) to keep trusting it after saving; leave empty to trust only the system’s authorities.'
            : 'Only if the server’s certificate comes from the clinic’s own CA: paste that CA’s certificate (PEM, -----BEGIN CERTIFICATE-----).'
        }
        error={e.caPem?.message}
      >
        {(p) => (
          <textarea
            {...p}
            rows={4}
            spellCheck={false}
            className="mono"
            {...form.register('caPem', { validate: (v) => (!v.trim() || (v.includes('-----BEGIN CERTIFICATE-----') && v.includes('-----END CERTIFICATE-----')) ? true : 'This is not a PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).') })}
          />
        )}
      </Field>
      <Field id="sync-audit" label="Central audit database (optional)" hint={`Where this workstation’s audit trail is copied. Empty: the clinic database’s address followed by -audit${defaultAudit ? ` (${defaultAudit})` : ''}.`} error={e.auditRemote?.message}>
        {(p) => <input {...p} type="url" autoComplete="off" spellCheck={false} {...form.register('auditRemote', { validate: (v) => remoteProblem(v, false) ?? true })} />}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {view.configured ? 'Save changes' : 'Save and start syncing'}
        </button>
        {view.configured && !confirmRemove ? (
          <button type="button" className="danger" onClick={() => setConfirmRemove(true)}>
            Stop syncing…
          </button>
        ) : null}
      </div>
      {confirmRemove ? (
        <div className="notice notice-warn" role="alertdialog" aria-labelledby="remove-q" aria-describedby="remove-why">
          <p id="remove-q">
            <strong>Stop syncing with this server?</strong>
          </p>
          <p id="remove-why">The settings and the stored password are removed. Records on this computer stay; changes are no longer shared.</p>
          <div className="actions">
            <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending} autoFocus>
              Stop syncing
            </button>
            <button type="button" onClick={() => setConfirmRemove(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <Saved>{done}</Saved>
      {save.isError && !fieldErrorOf(save.error, RULES) ? <ErrorNotice error={save.error} title="The sync settings were not saved" /> : null}
      <ErrorNotice error={remove.error} title="Sync could not be removed" />
    </form>
  );
}
