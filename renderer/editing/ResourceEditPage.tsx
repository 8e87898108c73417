/**
 * `/r/:type/new` and `/r/:type/:id/edit`: a resource's form (forms/: Patient, Encounter,
 * Observation with vital signs, Condition, AllergyIntolerance, MedicationRequest,
 * Immunization; the generic editor for every other type) and its JSON (checked with
 * $validate). Saving creates with POST, or updates with PUT and If-Match.
 *
 * Nothing typed is lost on an error: the form stays as it was. The server's validation
 * issues appear next to the fields they concern (issues.ts); the others in a list at the
 * top. When someone else saved the record meanwhile (412), both versions are shown side
 * by side, to save over theirs or discard one's own.
 */
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useForm, type FieldValues } from 'react-hook-form';
import { flushSync } from 'react-dom';
import { UnsavedChangesGuard } from './UnsavedChangesGuard';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../api/errors';
import type { Versioned } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { resourceSummary } from '../fhir/format';
import { ErrorNotice, messageOf } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { ConflictPanel } from './ConflictPanel';
import { useStructureDefinition } from './definitions';
import { IssuesContext, SdContext, useFieldRegistry } from './fields';
import { formFor, type FormSpec } from './forms';
import { JsonItemError } from './forms/generic';
import { issuePaths, issueText, placeIssues, type PlacedIssues } from './issues';
import { parseJson as parseExactJson, stringifyJson } from '../../shared/fhir/exact-json';

export function ResourceEditPage() {
  const { type = '', id } = useParams();
  const [search] = useSearchParams();
  const { fhir, can } = useFlint();
  const sd = useStructureDefinition(type);
  const read = useQuery({
    queryKey: ['editing', 'edit', type, id],
    queryFn: ({ signal }) => fhir.read<Resource>(type, id!, signal),
    enabled: !!id,
    staleTime: 0,
    gcTime: 0,
  });
  const allowed = can(type, id ? 'update' : 'create');
  const title = id ? `Edit ${type}` : `New ${type}`;

  if (!allowed) {
    return (
      <section>
        <h1>{title}</h1>
        <p className="notice notice-warn">Your account may not {id ? 'change' : 'create'} {type} records. Ask an administrator if you need to.</p>
      </section>
    );
  }
  if ((id && read.isPending) || sd.isPending) return <Loading label={id ? `Opening ${type}/${id} for editing…` : `Preparing a new ${type}…`} />;
  if (id && read.isError) {
    return (
      <section>
        <h1>{title}</h1>
        <ErrorNotice error={read.error} />
      </section>
    );
  }
  return <Editor key={`${type}/${id ?? 'new'}`} type={type} id={id} initial={read.data} sd={sd.data} sdError={sd.error} patient={search.get('patient') ?? undefined} />;
}

interface EditorProps {
  type: string;
  id: string | undefined;
  initial: Versioned<Resource> | undefined;
  sd: StructureDefinition | undefined;
  sdError: unknown;
  patient: string | undefined;
}

type Mode = 'form' | 'json';

function Editor({ type, id, initial, sd, sdError, patient }: EditorProps) {
  const { fhir } = useFlint();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const registry = useFieldRegistry();
  const [base, setBase] = useState<Resource | undefined>(initial?.resource);
  const [etag, setEtag] = useState(initial?.etag);
  const spec: FormSpec | undefined = useMemo(() => (sd ? formFor(type, base, sd) : undefined), [type, base, sd]);
  const [mode, setMode] = useState<Mode>(spec ? 'form' : 'json');
  const [formKey, setFormKey] = useState(0);
  const [json, setJson] = useState(() => stringifyJson(initial?.resource ?? { resourceType: type }, 2));
  const [placed, setPlaced] = useState<PlacedIssues>();
  const [error, setError] = useState<unknown>();
  const [checked, setChecked] = useState<OperationOutcomeIssue[]>();
  const [conflict, setConflict] = useState<{ mine: Resource; theirs: Versioned<Resource> }>();
  const [saving, setSaving] = useState(false);
  // Typed into the JSON view (the form tracks its own changes); saved: leaving is fine.
  const [jsonEdited, setJsonEdited] = useState(false);
  const [saved, setSaved] = useState(false);
  const [notice, setNotice] = useState<string>();
  const summaryRef = useRef<HTMLDivElement>(null);
  const now = useMemo(() => new Date(), []);
  const form = useForm<FieldValues>({
    defaultValues: spec ? (base ? spec.fromResource(base) : spec.defaults({ patient, now })) : {},
  });

  // After a failed save: the first marked field, or the summary, gets the focus.
  const [focusTick, setFocusTick] = useState(0);
  useEffect(() => {
    if (focusTick === 0) return;
    const first = document.querySelector<HTMLElement>('form.resource-form [aria-invalid="true"]');
    (first ?? summaryRef.current)?.focus();
  }, [focusTick]);

  const currentResource = (): Resource => {
    if (mode === 'json') return parseJson(json, type, id);
    return withId(spec!.toResource(form.getValues(), base), id);
  };

  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.issues.length) setPlaced(placeIssues(e.issues, mode === 'form' ? registry.paths() : []));
    else if (e instanceof JsonItemError) setPlaced({ byField: { [e.path]: [{ severity: 'error', code: 'invalid', diagnostics: e.message }] }, unplaced: [] });
    else setPlaced(undefined);
    setError(e);
    setFocusTick((n) => n + 1);
  };

  const save = async (resource: Resource, ifMatch: string | undefined) => {
    setSaving(true);
    setError(undefined);
    setPlaced(undefined);
    setNotice(undefined);
    try {
      const written = id ? await fhir.update(resource, ifMatch) : await fhir.create(resource);
      await queries.invalidateQueries();
      const savedId = written.resource.id ?? id ?? '';
      flushSync(() => setSaved(true));
      navigate(type === 'Patient' ? `/patients/${encodeURIComponent(savedId)}` : `/r/${type}/${encodeURIComponent(savedId)}`, { state: { saved: true } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 412 && id) {
        try {
          const theirs = await fhir.read<Resource>(type, id);
          setConflict({ mine: resource, theirs });
        } catch (e2) {
          fail(e2);
        }
      } else fail(e);
    } finally {
      setSaving(false);
    }
  };

  const submit = async () => {
    let resource: Resource;
    try {
      resource = currentResource();
    } catch (e) {
      fail(e);
      return;
    }
    await save(resource, etag);
  };

  const onSubmit = (ev: FormEvent) => {
    ev.preventDefault();
    if (mode === 'json') void submit();
    else
      void form.handleSubmit(
        () => submit(),
        () => {
          setError(undefined);
          setPlaced(undefined);
        },
      )(ev);
  };

  const toJson = () => {
    try {
      setJson(stringifyJson(currentResource(), 2));
      setChecked(undefined);
      setMode('json');
    } catch (e) {
      fail(e);
    }
  };

  const toForm = () => {
    let r: Resource;
    try {
      r = parseJson(json, type, id);
    } catch (e) {
      fail(e);
      return;
    }
    const next = formFor(type, r, sd!);
    setBase(r);
    form.reset(next.fromResource(r));
    setFormKey((k) => k + 1);
    setError(undefined);
    setPlaced(undefined);
    setMode('form');
  };

  const check = async () => {
    setChecked(undefined);
    try {
      const outcome = await fhir.validate(parseJson(json, type, id), id ? 'update' : 'create');
      setChecked(outcome.issue ?? []);
      setError(undefined);
    } catch (e) {
      fail(e);
    }
  };

  const discardMine = () => {
    if (!conflict) return;
    const theirs = conflict.theirs;
    setBase(theirs.resource);
    setEtag(theirs.etag);
    if (sd) form.reset(formFor(type, theirs.resource, sd).fromResource(theirs.resource));
    setJson(stringifyJson(theirs.resource, 2));
    setFormKey((k) => k + 1);
    setConflict(undefined);
    setError(undefined);
    setPlaced(undefined);
    setNotice('Your changes were discarded. The form now shows the current version.');
  };

  const useMine = () => {
    if (!conflict) return;
    const { mine, theirs } = conflict;
    setConflict(undefined);
    setBase(theirs.resource);
    setEtag(theirs.etag);
    void save({ ...mine, ...(theirs.resource.meta ? { meta: theirs.resource.meta } : {}) }, theirs.etag);
  };

  const title = id ? `Edit ${type}: ${resourceSummary(initial?.resource ?? ({ resourceType: type } as Resource))}` : `New ${type}`;
  const cancelTo = id ? (type === 'Patient' ? `/patients/${encodeURIComponent(id)}` : `/r/${type}/${encodeURIComponent(id)}`) : patient ? `/patients/${encodeURIComponent(patient)}` : '/';
  const placedCount = placed ? Object.values(placed.byField).reduce((n, l) => n + l.length, 0) : 0;

  const dirty = !saved && (form.formState.isDirty || jsonEdited);

  return (
    <section className="resource-edit" aria-labelledby="edit-title">
      <UnsavedChangesGuard dirty={dirty} />
      <div className="page-header">
        <h1 id="edit-title">{title}</h1>
        {spec ? (
          <div className="mode-switch" role="group" aria-label="Edit as">
            <button type="button" aria-pressed={mode === 'form'} onClick={() => mode !== 'form' && toForm()}>
              Form
            </button>
            <button type="button" aria-pressed={mode === 'json'} onClick={() => mode !== 'json' && toJson()}>
              JSON
            </button>
          </div>
        ) : null}
      </div>
      {sdError && !spec ? <p className="notice notice-warn">The definition of {type} could not be read, so only its JSON can be edited here.</p> : null}
      {notice ? (
        <p className="notice notice-info" role="status">
          {notice}
        </p>
      ) : null}

      {conflict ? <ConflictPanel type={type} mine={conflict.mine} theirs={conflict.theirs} sd={sd} onUseMine={useMine} onDiscardMine={discardMine} /> : null}

      {error ? (
        <div className="notice notice-error" role="alert" tabIndex={-1} ref={summaryRef} aria-labelledby="edit-error-title">
          <p id="edit-error-title" className="notice-title">
            {errorText(error)}
          </p>
          {placedCount > 0 ? <p>{placedCount === 1 ? 'One problem is marked next to its field below.' : `${placedCount} problems are marked next to their fields below.`}</p> : null}
          {placed && placed.unplaced.length > 0 ? (
            <ul className="issue-list">
              {placed.unplaced.map((i, n) => (
                <IssueItem key={n} issue={i} />
              ))}
            </ul>
          ) : null}
          {!(error instanceof ApiError && error.issues.length) && !isOwnError(error) && messageOf(error).details ? (
            <details>
              <summary>Details</summary>
              <pre>{messageOf(error).details}</pre>
            </details>
          ) : null}
        </div>
      ) : null}

      <IssuesContext.Provider value={{ byField: placed?.byField ?? {}, register: registry.register }}>
        <SdContext.Provider value={sd}>
          <form className="resource-form" onSubmit={onSubmit} noValidate aria-labelledby="edit-title" hidden={!!conflict}>
            {mode === 'form' && spec ? (
              <spec.Fields key={`${spec.id}-${formKey}`} form={form} base={base} />
            ) : (
              <div className="json-editor">
                <label htmlFor="resource-json">Resource JSON</label>
                <textarea id="resource-json" className="json-text" spellCheck={false} value={json} onChange={(e) => {
                    setJson(e.target.value);
                    setJsonEdited(true);
                  }} rows={24} aria-describedby="resource-json-hint" />
                <p id="resource-json-hint" className="hint">
                  Check asks the server to validate the JSON ($validate) without saving it.
                </p>
                <div className="actions">
                  <button type="button" onClick={() => void check()}>
                    Check
                  </button>
                </div>
                {checked ? (
                  <div role="status" className={checked.some((i) => i.severity === 'error' || i.severity === 'fatal') ? 'notice notice-error' : 'notice notice-ok'}>
                    {checked.filter((i) => i.severity !== 'information').length === 0 ? (
                      <p>No problems found.</p>
                    ) : (
                      <ul className="issue-list">
                        {checked
                          .filter((i) => i.severity !== 'information')
                          .map((i, n) => (
                            <IssueItem key={n} issue={i} />
                          ))}
                      </ul>
                    )}
                  </div>
                ) : null}
              </div>
            )}
            <div className="actions form-actions">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? 'Saving…' : 'Save'}
              </button>
              <Link className="button" to={cancelTo}>
                Cancel
              </Link>
            </div>
          </form>
        </SdContext.Provider>
      </IssuesContext.Provider>
    </section>
  );
}

function IssueItem({ issue }: { issue: OperationOutcomeIssue }) {
  const where = issuePaths(issue)[0];
  return (
    <li>
      <span className={`badge ${issue.severity === 'warning' ? 'warn' : 'error'}`}>{issue.severity}</span> {issueText(issue)}
      {where ? <small> (at {where})</small> : null}
    </li>
  );
}

class JsonTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonTextError';
  }
}

/** The JSON view's text as a resource of this type (with this id when editing). */
function parseJson(text: string, type: string, id: string | undefined): Resource {
  let parsed: unknown;
  try {
    parsed = parseExactJson(text);
  } catch (e) {
    throw new JsonTextError(`The JSON is not valid: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new JsonTextError('The JSON must be one object, the resource.');
  const r = parsed as Resource;
  if (r.resourceType !== type) throw new JsonTextError(`The JSON must be a ${type} (its resourceType says ${String(r.resourceType)}).`);
  return withId(r, id);
}

const isOwnError = (e: unknown) => e instanceof JsonTextError || e instanceof JsonItemError;

/** The error in words: the form's own checks say exactly what is wrong; the server's in plain terms. */
const errorText = (e: unknown) => (isOwnError(e) ? (e as Error).message : messageOf(e).text);

const withId = (r: Resource, id: string | undefined): Resource => (id ? { ...r, id } : r);
