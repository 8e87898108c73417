/**
 * Local user accounts: the list with roles and state (disabled, locked after wrong
 * passwords); adding a user with a password and roles; changing a user's roles, disabling
 * or enabling the account, and resetting the password. Every change is audited by the core.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useId, useState } from 'react';
import { useForm, type UseFormReturn } from 'react-hook-form';
import type { AdminRole, AdminUser } from '../../shared/api/admin';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { Field, Saved } from './Field';
import { useFormMutation } from './use-form-mutation';
import { fieldErrorOf, type FieldRules } from './field-errors';

export const USERS_KEY = ['flint', 'admin', 'users'] as const;
export const ROLES_KEY = ['flint', 'admin', 'roles'] as const;

interface NewUserForm {
  username: string;
  password: string;
  confirm: string;
  roles: string[];
  fhirUser: string;
}

const USER_RULES: FieldRules<keyof NewUserForm> = [
  ['fhirUser', /fhirUser|Practitioner/],
  ['username', /user ?name/i],
  ['password', /password/i],
  ['roles', /role/i],
];

export const passwordRule = (v: string) => (v.length >= 10 ? true : 'A password needs at least 10 characters.');

export function UsersTab() {
  const { flint } = useFlint();
  const users = useQuery({ queryKey: USERS_KEY, queryFn: async (): Promise<AdminUser[]> => flint.users() });
  const roles = useQuery({ queryKey: ROLES_KEY, queryFn: async (): Promise<AdminRole[]> => flint.roles(), staleTime: 60_000 });
  const [managing, setManaging] = useState<string>();
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <ErrorNotice error={users.error} title="The users could not be listed" />
      <ErrorNotice error={roles.error} title="The roles could not be listed" />
      {users.isPending ? <Loading label="Listing users…" /> : null}
      {users.data ? (
        <table className="data users-table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Roles</th>
              <th scope="col">State</th>
              <th scope="col">Linked record</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <Fragment key={u.username}>
                <tr className={managing === u.username ? 'selected' : undefined}>
                  <th scope="row">
                    {u.username}
                    {u.display ? (
                      <>
                        <br />
                        <small>{u.display}</small>
                      </>
                    ) : null}
                  </th>
                  <td>{u.roles.join(', ')}</td>
                  <td>
                    <UserState u={u} />
                  </td>
                  <td>{u.fhirUser ?? ''}</td>
                  <td>
                    <button type="button" aria-expanded={managing === u.username} onClick={() => setManaging(managing === u.username ? undefined : u.username)}>
                      Manage<span className="visually-hidden"> {u.username}</span>
                    </button>
                  </td>
                </tr>
                {managing === u.username ? (
                  <tr className="manage-row">
                    <td colSpan={5}>
                      <ManageUser key={u.username} user={u} roles={roles.data ?? []} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : null}
      <AddUser roles={roles.data ?? []} />
    </section>
  );
}

function UserState({ u }: { u: AdminUser }) {
  if (u.disabled) return <span className="badge error">Disabled</span>;
  if (u.lockedUntil && Date.parse(u.lockedUntil) > Date.now()) {
    return (
      <>
        <span className="badge warn">Locked</span> <small>until {dateText(u.lockedUntil)}, after wrong passwords</small>
      </>
    );
  }
  return <span className="badge ok">Active</span>;
}

/** Checkboxes for the roles, with their descriptions, in a fieldset whose error is next to it. */
function RoleChoices<T extends { roles: string[] }>({ form, roles, idBase, error, legend }: { form: UseFormReturn<T>; roles: AdminRole[]; idBase: string; error?: string; legend: string }) {
  const register = form.register as unknown as UseFormReturn<{ roles: string[] }>['register'];
  return (
    <fieldset className="role-choices" aria-describedby={error ? `${idBase}-roles-error` : undefined} aria-invalid={error ? true : undefined}>
      <legend>{legend}</legend>
      {roles.length === 0 ? <p className="hint">Loading the roles…</p> : null}
      {roles.map((r) => (
        <div className="check" key={r.name}>
          <input type="checkbox" id={`${idBase}-role-${r.name}`} value={r.name} aria-describedby={`${idBase}-role-${r.name}-desc`} {...register('roles', { validate: (v) => (v.length > 0 ? true : 'Choose at least one role.') })} />
          <label htmlFor={`${idBase}-role-${r.name}`}>
            {r.name}
            {r.admin ? <span className="badge info">administrator</span> : null}
          </label>
          <small id={`${idBase}-role-${r.name}-desc`}>{r.description}</small>
        </div>
      ))}
      {error ? (
        <p className="field-error" id={`${idBase}-roles-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

function AddUser({ roles }: { roles: AdminRole[] }) {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const idBase = useId();
  const [added, setAdded] = useState<string>();
  const form = useForm<NewUserForm>({ defaultValues: { username: '', password: '', confirm: '', roles: [], fhirUser: '' } });
  const add = useFormMutation(
    form,
    USER_RULES,
    (f) => flint.addUser({ username: f.username.trim(), password: f.password, roles: f.roles, ...(f.fhirUser.trim() ? { fhirUser: f.fhirUser.trim() } : {}) }),
    {
      start: () => setAdded(undefined),
      saved: async (u) => {
        setAdded(`User ${u.username} added with the role${u.roles.length === 1 ? '' : 's'} ${u.roles.join(', ')}.`);
        form.reset();
        await queries.invalidateQueries({ queryKey: USERS_KEY });
      },
    },
  );
  const submit = form.handleSubmit((f) => add.mutate(f));
  const e = form.formState.errors;
  return (
    <form className="card admin-form" onSubmit={(ev) => void submit(ev)} noValidate aria-labelledby={`${idBase}-title`}>
      <h3 id={`${idBase}-title`}>Add a user</h3>
      <div className="form-grid">
        <Field id={`${idBase}-username`} label="Username" hint="Letters, digits, . _ @ -; what they sign in with." error={e.username?.message}>
          {(p) => <input {...p} autoComplete="off" spellCheck={false} {...form.register('username', { validate: (v) => (v.trim() ? true : 'Enter a username.') })} />}
        </Field>
        <Field id={`${idBase}-fhiruser`} label="Linked practitioner (optional)" hint="e.g. Practitioner/123" error={e.fhirUser?.message}>
          {(p) => (
            <input
              {...p}
              autoComplete="off"
              spellCheck={false}
              {...form.register('fhirUser', { validate: (v) => (!v.trim() || /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(v.trim()) ? true : 'Write it as a reference, e.g. Practitioner/123.') })}
            />
          )}
        </Field>
        <Field id={`${idBase}-password`} label="Password" hint="At least 10 characters. Tell the user in person." error={e.password?.message}>
          {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register('password', { validate: passwordRule })} />}
        </Field>
        <Field id={`${idBase}-confirm`} label="Password again" error={e.confirm?.message}>
          {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register('confirm', { validate: (v, all) => (v === all.password ? true : 'The two passwords differ.') })} />}
        </Field>
      </div>
      <RoleChoices form={form} roles={roles} idBase={idBase} error={e.roles?.message} legend="Roles" />
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add user
        </button>
      </div>
      <Saved>{added}</Saved>
      {add.isError && !fieldErrorOf(add.error, USER_RULES) ? <ErrorNotice error={add.error} title="The user was not added" /> : null}
    </form>
  );
}

function ManageUser({ user, roles }: { user: AdminUser; roles: AdminRole[] }) {
  const { flint, session } = useFlint();
  const queries = useQueryClient();
  const idBase = useId();
  const [done, setDone] = useState<string>();
  const rolesForm = useForm<{ roles: string[] }>({ defaultValues: { roles: user.roles } });
  const passwordForm = useForm<{ password: string; confirm: string }>({ defaultValues: { password: '', confirm: '' } });
  const change = useMutation({
    mutationFn: (c: { roles?: string[]; disabled?: boolean; password?: string }) => flint.changeUser(user.username, c),
    onMutate: () => setDone(undefined),
    onSuccess: async (u, c) => {
      if (c.password !== undefined) {
        passwordForm.reset();
        setDone(`The password of ${u.username} was reset. Tell them the new one in person.`);
      } else if (c.disabled !== undefined) setDone(`${u.username} is ${u.disabled ? 'disabled: they cannot sign in' : 'enabled again'}.`);
      else setDone(`${u.username} now has the role${u.roles.length === 1 ? '' : 's'} ${u.roles.join(', ')}.`);
      await queries.invalidateQueries({ queryKey: USERS_KEY });
    },
    onError: (e, c) => {
      const f = fieldErrorOf(e, [['password', /password/i], ['roles', /role|administrator/i]] as const);
      if (f?.field === 'password' && c.password !== undefined) passwordForm.setError('password', { type: 'server', message: f.message });
      else if (f?.field === 'roles' && c.roles) rolesForm.setError('roles', { type: 'server', message: f.message });
    },
  });
  const saveRoles = rolesForm.handleSubmit((f) => change.mutate({ roles: f.roles }));
  const savePassword = passwordForm.handleSubmit((f) => change.mutate({ password: f.password }));
  const self = user.username === session.username;
  const pe = passwordForm.formState.errors;
  const shownError = change.isError && !rolesForm.formState.errors.roles && !pe.password ? change.error : undefined;
  return (
    <div className="manage-user" aria-label={`Manage ${user.username}`} role="group">
      <div className="manage-columns">
        <form onSubmit={(ev) => void saveRoles(ev)} noValidate>
          <RoleChoices form={rolesForm} roles={roles} idBase={`${idBase}-r`} error={rolesForm.formState.errors.roles?.message} legend={`Roles of ${user.username}`} />
          <button type="submit" disabled={change.isPending}>
            Save roles
          </button>
        </form>
        <form onSubmit={(ev) => void savePassword(ev)} noValidate>
          <fieldset>
            <legend>Reset the password</legend>
            <Field id={`${idBase}-pw`} label="New password" hint="At least 10 characters." error={pe.password?.message}>
              {(p) => <input {...p} type="password" autoComplete="new-password" {...passwordForm.register('password', { validate: passwordRule })} />}
            </Field>
            <Field id={`${idBase}-pw2`} label="New password again" error={pe.confirm?.message}>
              {(p) => <input {...p} type="password" autoComplete="new-password" {...passwordForm.register('confirm', { validate: (v, all) => (v === all.password ? true : 'The two passwords differ.') })} />}
            </Field>
            <button type="submit" disabled={change.isPending}>
              Reset password
            </button>
          </fieldset>
        </form>
        <div>
          <fieldset>
            <legend>Account</legend>
            <p>{user.disabled ? `${user.username} cannot sign in.` : `${user.username} can sign in.`}</p>
            <button type="button" className={user.disabled ? undefined : 'danger'} disabled={change.isPending || (self && !user.disabled)} onClick={() => change.mutate({ disabled: !user.disabled })}>
              {user.disabled ? 'Enable account' : 'Disable account'}
            </button>
            {self && !user.disabled ? <p className="hint">You cannot disable your own account.</p> : null}
          </fieldset>
        </div>
      </div>
      <Saved>{done}</Saved>
      <ErrorNotice error={shownError} title="The change was not saved" />
    </div>
  );
}
