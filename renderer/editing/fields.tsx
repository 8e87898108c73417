/**
 * Form controls for FHIR data, bound to react-hook-form, each naming the FHIR path it
 * edits. A control registers its path with the form's IssuesContext, so the server's
 * validation issues (issues.ts) can be shown next to it: the message below the control,
 * `aria-invalid` and `aria-describedby` on it. Code pickers read their options from the
 * value set the element is bound to in the StructureDefinition (SdContext), and fall back
 * to free text when the value set cannot be listed (SNOMED CT, LOINC: 422).
 */
import type { OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { createContext, useCallback, useContext, useEffect, useId, useRef, type ReactNode } from 'react';
import { useController, type Control, type FieldValues, type RegisterOptions } from 'react-hook-form';
import { bindingOf, elementAt, useValueSet, type CodeOption } from './definitions';
import { fieldId, issueText } from './issues';

// ---- Issues next to fields -------------------------------------------------------------

export interface IssuesContextValue {
  byField: Record<string, OperationOutcomeIssue[]>;
  register(path: string): () => void;
}

export const IssuesContext = createContext<IssuesContextValue>({ byField: {}, register: () => () => {} });

/** The form's registry of field paths (for placing issues) as a stable pair of functions. */
export function useFieldRegistry() {
  const counts = useRef(new Map<string, number>());
  const register = useCallback((path: string) => {
    counts.current.set(path, (counts.current.get(path) ?? 0) + 1);
    return () => {
      const n = (counts.current.get(path) ?? 1) - 1;
      if (n <= 0) counts.current.delete(path);
      else counts.current.set(path, n);
    };
  }, []);
  const paths = useCallback(() => [...counts.current.keys()], []);
  return { register, paths };
}

function useFieldMessages(path: string, clientError: string | undefined): string[] {
  const ctx = useContext(IssuesContext);
  const { register } = ctx;
  useEffect(() => register(path), [register, path]);
  const server = (ctx.byField[path] ?? []).map(issueText);
  return clientError ? [clientError, ...server] : server;
}

/** The StructureDefinition of the resource type being edited (for bindings and labels). */
export const SdContext = createContext<StructureDefinition | undefined>(undefined);

// ---- Layout ------------------------------------------------------------------------------

export interface ControlA11y {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

interface FieldProps {
  /** The FHIR path edited (`Patient.birthDate`). */
  path: string;
  label: string;
  hint?: ReactNode;
  /** A message from the form's own checks. */
  error?: string | undefined;
  required?: boolean;
  className?: string;
}

function describedBy(...ids: Array<string | false | undefined>): string | undefined {
  const list = ids.filter(Boolean) as string[];
  return list.length ? list.join(' ') : undefined;
}

function Messages({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <p id={id} className="field-error">
      {messages.join(' ')}
    </p>
  );
}

/** One labelled control with its hint and error messages. */
export function Field({ path, label, hint, error, required, className, children }: FieldProps & { children: (a11y: ControlA11y) => ReactNode }) {
  const id = fieldId(path);
  const messages = useFieldMessages(path, error);
  const a11y: ControlA11y = { id };
  if (messages.length) a11y['aria-invalid'] = true;
  const by = describedBy(messages.length > 0 && `${id}-error`, !!hint && `${id}-hint`);
  if (by) a11y['aria-describedby'] = by;
  return (
    <div className={`field ${className ?? ''}`} data-path={path}>
      <label htmlFor={id}>
        {label}
        {required ? <span className="required-mark"> (required)</span> : null}
      </label>
      {children(a11y)}
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      <Messages id={`${id}-error`} messages={messages} />
    </div>
  );
}

/** Several controls for one FHIR element (a fieldset): every control carries the element's messages. */
export function FieldGroup({ path, label, hint, error, required, className, children }: FieldProps & { children: (a11y: (part: string) => ControlA11y) => ReactNode }) {
  const id = fieldId(path);
  const messages = useFieldMessages(path, error);
  const by = describedBy(messages.length > 0 && `${id}-error`, !!hint && `${id}-hint`);
  const a11y = (part: string): ControlA11y => {
    const a: ControlA11y = { id: `${id}-${part}` };
    if (messages.length) a['aria-invalid'] = true;
    if (by) a['aria-describedby'] = by;
    return a;
  };
  return (
    <fieldset className={`field-group ${className ?? ''}`} data-path={path}>
      <legend>
        {label}
        {required ? <span className="required-mark"> (required)</span> : null}
      </legend>
      {children(a11y)}
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      <Messages id={`${id}-error`} messages={messages} />
    </fieldset>
  );
}

// ---- Controls bound to react-hook-form ------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any -- the forms' value shapes differ; names are checked by the specs */
type AnyControl = Control<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

interface Bound {
  control: AnyControl;
  name: string;
  path: string;
  label: string;
  hint?: ReactNode;
  required?: boolean;
  rules?: RegisterOptions<FieldValues, string>;
  className?: string;
}

const requiredRule = (label: string, required: boolean | undefined, rules?: RegisterOptions<FieldValues, string>): RegisterOptions<FieldValues, string> => ({
  ...(required ? { required: `${label} is required.` } : {}),
  ...rules,
});

export function TextInput({ control, name, path, label, hint, required, rules, className, type = 'text', multiline, autoComplete, inputMode }: Bound & { type?: string; multiline?: boolean; autoComplete?: string; inputMode?: 'decimal' | 'numeric' | 'text' }) {
  const { field, fieldState } = useController({ control, name, ...(required || rules ? { rules: requiredRule(label, required, rules) } : {}) });
  const value = (field.value as string | undefined) ?? '';
  return (
    <Field path={path} label={label} hint={hint} error={fieldState.error?.message} required={!!required} {...(className ? { className } : {})}>
      {(a) =>
        multiline ? (
          <textarea {...a} name={field.name} value={value} onChange={field.onChange} onBlur={field.onBlur} ref={field.ref} aria-required={required || undefined} />
        ) : (
          <input
            {...a}
            type={type}
            name={field.name}
            value={value}
            onChange={field.onChange}
            onBlur={field.onBlur}
            ref={field.ref}
            aria-required={required || undefined}
            {...(autoComplete ? { autoComplete } : {})}
            {...(inputMode ? { inputMode } : {})}
            {...(type === 'number' ? { step: 'any' } : {})}
          />
        )
      }
    </Field>
  );
}

/** A yes / no / not set choice (a checkbox cannot say "not recorded"). */
export function BooleanSelect({ control, name, path, label, hint, className }: Bound) {
  const { field } = useController({ control, name });
  return (
    <Field path={path} label={label} hint={hint} {...(className ? { className } : {})}>
      {(a) => (
        <select {...a} name={field.name} value={(field.value as string | undefined) ?? ''} onChange={field.onChange} onBlur={field.onBlur} ref={field.ref}>
          <option value="">(not set)</option>
          <option value="true">Yes</option>
          <option value="false">No</option>
        </select>
      )}
    </Field>
  );
}

function optionLabel(o: CodeOption): string {
  return o.display && o.display !== o.code ? `${o.display} (${o.code})` : o.code;
}

/**
 * The options of the value set bound to `path` in the resource's StructureDefinition (or
 * `valueSet`). Not fetched when `free`, nor for example bindings of concepts, which only
 * suggest codes.
 */
export function useBoundOptions(path: string, valueSet?: string, opts: { free?: boolean; concept?: boolean } = {}) {
  const sd = useContext(SdContext);
  const binding = valueSet ? { url: valueSet, strength: 'required' } : bindingOf(elementAt(sd, path));
  const listed = !!binding && !opts.free && !(opts.concept && binding.strength === 'example');
  const q = useValueSet(listed ? binding.url : undefined);
  return { binding, listed, options: q.data, loading: listed && q.isPending, failed: !listed || q.isError };
}

/** Above this many codes a searchable combobox (input with a list) replaces the select. */
const SELECT_LIMIT = 40;

/** A `code` element's picker: a select of the bound value set's codes (free text when it cannot be listed). */
export function CodeSelect({ control, name, path, label, hint, required, className, valueSet }: Bound & { valueSet?: string }) {
  const { field, fieldState } = useController({ control, name, ...(required ? { rules: requiredRule(label, true) } : {}) });
  const { options, loading, failed } = useBoundOptions(path, valueSet);
  const value = (field.value as string | undefined) ?? '';
  const listId = useId();
  const common = { name: field.name, value, onChange: field.onChange, onBlur: field.onBlur, ref: field.ref, 'aria-required': required || undefined };
  return (
    <Field path={path} label={label} hint={failed && !loading ? (hint ?? 'Type the code.') : hint} error={fieldState.error?.message} required={!!required} {...(className ? { className } : {})}>
      {(a) =>
        failed && !loading ? (
          <input {...a} {...common} type="text" />
        ) : options && options.length > SELECT_LIMIT ? (
          <>
            <input {...a} {...common} type="text" list={listId} />
            <datalist id={listId}>
              {options.map((o) => (
                <option key={`${o.system}|${o.code}`} value={o.code}>
                  {o.display ?? o.code}
                </option>
              ))}
            </datalist>
          </>
        ) : (
          <select {...a} {...common} aria-busy={loading || undefined}>
            <option value="">{loading ? 'Loading…' : '(not set)'}</option>
            {(options ?? []).map((o) => (
              <option key={`${o.system}|${o.code}`} value={o.code}>
                {optionLabel(o)}
              </option>
            ))}
            {value && !options?.some((o) => o.code === value) ? <option value={value}>{value}</option> : null}
          </select>
        )
      }
    </Field>
  );
}

/** A CodeableConcept (or Coding) in the form: the chosen or typed code and its text. */
export interface ConceptValue {
  text: string;
  code: string;
  system: string;
  display: string;
}

export const emptyConcept = (): ConceptValue => ({ text: '', code: '', system: '', display: '' });

/**
 * A CodeableConcept's picker. With a listable bound value set (and not `free`): a select
 * of its codes. Otherwise (large or example-bound code sets such as Condition.code) free
 * text with an optional code and code system.
 */
export function ConceptInput({ control, name, path, label, hint, required, className, free, valueSet }: Bound & { free?: boolean; valueSet?: string }) {
  const rules = required
    ? { validate: (v: ConceptValue | undefined) => (v && (v.text.trim() || v.code.trim()) ? true : `${label} is required.`) }
    : undefined;
  const { field, fieldState } = useController({ control, name, ...(rules ? { rules: rules as RegisterOptions<FieldValues, string> } : {}) });
  const value = (field.value as ConceptValue | undefined) ?? emptyConcept();
  const { options, loading, failed } = useBoundOptions(path, valueSet, { free: !!free, concept: true });
  const set = (patch: Partial<ConceptValue>) => field.onChange({ ...value, ...patch });
  const error = fieldState.error?.message;

  if (!failed) {
    const key = (o: { system: string; code: string }) => `${o.system}|${o.code}`;
    const current = value.code ? key(value) : '';
    const known = options?.some((o) => key(o) === current);
    return (
      <Field path={path} label={label} hint={hint} error={error} required={!!required} {...(className ? { className } : {})}>
        {(a) => (
          <select
            {...a}
            name={field.name}
            ref={field.ref}
            onBlur={field.onBlur}
            value={current}
            aria-busy={loading || undefined}
            aria-required={required || undefined}
            onChange={(e) => {
              const o = options?.find((x) => key(x) === e.target.value);
              if (o) field.onChange({ ...value, code: o.code, system: o.system, display: o.display ?? '' });
              else if (e.target.value === '') field.onChange({ ...value, code: '', system: '', display: '' });
            }}
          >
            <option value="">{loading ? 'Loading…' : '(not set)'}</option>
            {(options ?? []).map((o) => (
              <option key={key(o)} value={key(o)}>
                {optionLabel(o)}
              </option>
            ))}
            {current && !known && !loading ? <option value={current}>{value.display || value.code}</option> : null}
          </select>
        )}
      </Field>
    );
  }
  return (
    <FieldGroup path={path} label={label} hint={hint ?? 'Describe it in words; add a code if you know it.'} error={error} required={!!required} className={`concept ${className ?? ''}`}>
      {(a) => (
        <div className="concept-row">
          <div className="concept-text">
            <label htmlFor={a('text').id}>Description</label>
            <input {...a('text')} name={`${field.name}.text`} ref={field.ref} value={value.text} onChange={(e) => set({ text: e.target.value })} onBlur={field.onBlur} aria-required={required || undefined} />
          </div>
          <div>
            <label htmlFor={a('code').id}>Code (optional)</label>
            <input {...a('code')} name={`${field.name}.code`} value={value.code} onChange={(e) => set({ code: e.target.value })} onBlur={field.onBlur} />
          </div>
          <div>
            <label htmlFor={a('system').id}>Code system (optional)</label>
            <input {...a('system')} name={`${field.name}.system`} value={value.system} placeholder="http://snomed.info/sct" onChange={(e) => set({ system: e.target.value })} onBlur={field.onBlur} />
          </div>
        </div>
      )}
    </FieldGroup>
  );
}
