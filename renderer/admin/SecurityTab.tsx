/** Security settings: how long the UI waits without input before it locks the session. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useFlint } from '../app/flint-context';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { Field, Saved } from './Field';
import { fieldErrorOf, type FieldRules } from './field-errors';
import { useFormMutation } from './use-form-mutation';

export const SETTINGS_KEY = ['flint', 'settings'] as const;
const RULES: FieldRules<'idleLockMinutes'> = [['idleLockMinutes', /minute|idle/i]];

export function SecurityTab() {
  const { flint } = useFlint();
  const settings = useQuery({ queryKey: SETTINGS_KEY, queryFn: flint.settings });
  return (
    <section aria-labelledby="security-title">
      <h2 id="security-title">Security</h2>
      <ErrorNotice error={settings.error} title="The settings could not be read" />
      {settings.isPending ? <Loading /> : null}
      {settings.data ? <IdleLockForm minutes={settings.data.idleLockMinutes} /> : null}
    </section>
  );
}

function IdleLockForm({ minutes }: { minutes: number }) {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const form = useForm<{ idleLockMinutes: string }>({ defaultValues: { idleLockMinutes: String(minutes) } });
  const save = useFormMutation(form, RULES, (v) => flint.saveSettings({ idleLockMinutes: Number(v.idleLockMinutes) }), {
    saved: async (s) => {
      queries.setQueryData(SETTINGS_KEY, s);
      // The session carries the idle time the lock timer uses.
      await queries.invalidateQueries({ queryKey: ['session'] });
    },
  });
  const submit = form.handleSubmit((v) => save.mutate(v));
  const error = form.formState.errors.idleLockMinutes?.message;
  return (
    <form className="card admin-form narrow" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="idle-title">
      <h3 id="idle-title">Lock when idle</h3>
      <Field id="idle-minutes" label="Lock the screen after this many minutes without use" hint="From 1 to 240 minutes. Applies to everyone on this workstation from their next action." error={error}>
        {(p) => (
          <input
            {...p}
            type="number"
            inputMode="numeric"
            min={1}
            max={240}
            step={1}
            className="input-short"
            {...form.register('idleLockMinutes', {
              required: 'Enter a number of minutes.',
              validate: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 240 ? true : 'Enter a whole number of minutes from 1 to 240.'),
            })}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
      <Saved>{save.isSuccess ? `Saved: the screen locks after ${save.data.idleLockMinutes} minutes without use.` : null}</Saved>
      {save.isError && !fieldErrorOf(save.error, RULES) ? <ErrorNotice error={save.error} title="The setting was not saved" /> : null}
    </form>
  );
}
