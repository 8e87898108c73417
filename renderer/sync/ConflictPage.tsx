/**
 * One conflict, `/sync/conflicts/:type/:id`: every version in conflict side by side with
 * the fields that differ marked, and the ways out: keep one version, or merge them by hand
 * (checked with $validate before saving). A possible duplicate patient shows the patients
 * sharing the identifier instead, with "Not a duplicate (keep both)". Every version stays
 * in history whatever is chosen; the choice replicates to every workstation.
 */
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { ConflictEntry } from '../../shared/api/sync';
import { withoutConflictTag } from '../../shared/fhir/sync-tags';
import { ApiError } from '../api/errors';
import { useFlint } from '../app/flint-context';
import { dateText, resourceSummary } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { mergeStart, parseMerge } from './merge';
import { diffVersions, differenceCount, readablePath, type DiffRow } from './json-diff';
import { KIND_LABEL, plural, recordPath, ref, versionParts } from './sync-text';
import type { SyncPageState } from './SyncPage';
import { CONFLICTS_KEY, SYNC_STATUS_KEY } from './use-sync-status';

export function ConflictPage() {
  const { type = '', id = '' } = useParams();
  const { flint } = useFlint();
  const list = useQuery({ queryKey: CONFLICTS_KEY, queryFn: flint.conflicts });
  const entry = list.data?.find((c) => c.type === type && c.id === id);
  const self = ref(type, id);
  return (
    <section className="conflict-page" aria-labelledby="conflict-title">
      <p>
        <Link to="/sync">← Back to sync</Link>
      </p>
      <h1 id="conflict-title">{entry?.kind === 'duplicate' ? 'Possible duplicate patient' : 'Conflict'}: {self}</h1>
      {list.isPending ? <Loading label="Reading the conflict…" /> : null}
      <ErrorNotice error={list.error} title="The conflicts could not be listed" />
      {list.data && !entry ? (
        <div className="notice notice-info" role="status">
          <p>{self} has no open conflict: it was resolved already, here or on another workstation.</p>
          <p>
            <Link to={recordPath(self)}>Open the record</Link> · <Link to="/sync">Back to sync</Link>
          </p>
        </div>
      ) : null}
      {entry ? entry.kind === 'duplicate' ? <DuplicateReview entry={entry} /> : <VersionConflict entry={entry} /> : null}
    </section>
  );
}

// ---- After a choice ---------------------------------------------------------------

function useResolve(entry: ConflictEntry) {
  const { flint } = useFlint();
  const queries = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (choice: { keep: string; label: string } | { resource: Resource; label: string }) =>
      flint.resolveConflict(entry.type, entry.id, 'keep' in choice ? { keep: choice.keep } : { resource: choice.resource }),
    onSuccess: async (resolved, choice) => {
      await Promise.all([
        queries.invalidateQueries({ queryKey: CONFLICTS_KEY }),
        queries.invalidateQueries({ queryKey: SYNC_STATUS_KEY }),
        queries.invalidateQueries({ queryKey: ['fhir'] }),
      ]);
      const what = resolved.deleted ? 'the record is now deleted' : `saved as version ${versionParts(resolved.versionId).n}`;
      const state: SyncPageState = { notice: `${ref(entry.type, entry.id)}: ${choice.label}; ${what}. The other workstations get this at their next sync.` };
      navigate('/sync', { state });
    },
  });
}

// ---- Versions of one record -------------------------------------------------------

interface LoadedVersion {
  vid: string;
  current: boolean;
  resource?: Resource;
  deleted: boolean;
  error?: unknown;
  loading: boolean;
}

/** For comparing: without the conflict tag a read adds, and without an emptied meta. */
function comparable(r: Resource | undefined): Resource | undefined {
  return r ? withoutConflictTag(r) : undefined;
}

function VersionConflict({ entry }: { entry: ConflictEntry }) {
  const { fhir, can } = useFlint();
  const vids = useMemo(() => [entry.current, ...entry.versions.filter((v) => v !== entry.current)], [entry]);
  const results = useQueries({
    queries: vids.map((vid) => ({
      queryKey: ['fhir', 'vread', entry.type, entry.id, vid],
      queryFn: async () => {
        try {
          return { resource: await fhir.vread(entry.type, entry.id, vid), deleted: false };
        } catch (e) {
          if (e instanceof ApiError && e.status === 410) return { resource: undefined, deleted: true };
          throw e;
        }
      },
      staleTime: Infinity,
    })),
  });
  const versions: LoadedVersion[] = vids.map((vid, i) => {
    const r = results[i];
    return { vid, current: i === 0, resource: r?.data?.resource, deleted: r?.data?.deleted ?? false, error: r?.error, loading: r?.isPending ?? true };
  });
  const loaded = versions.every((v) => !v.loading);
  const rows = loaded ? diffVersions(versions.map((v) => comparable(v.resource))) : [];
  const resolve = useResolve(entry);
  const mayResolve = can(entry.type, 'update');

  return (
    <>
      <p className="lead">
        <span className={`badge ${entry.kind === 'delete' ? 'error' : 'warn'}`}>{KIND_LABEL[entry.kind]}</span> While the workstations could not reach each other, this
        record was {entry.kind === 'delete' ? 'deleted on one and edited on another' : 'edited on more than one'}. Everyone sees the current version until someone chooses.
        Nothing is lost: every version stays in the record’s history.
      </p>
      {versions.map((v) => (v.error ? <ErrorNotice key={v.vid} error={v.error} title={`Version ${v.vid} could not be read`} /> : null))}
      {!loaded ? <Loading label="Reading the versions…" /> : <VersionTable versions={versions} rows={rows} onKeep={mayResolve ? (v) => resolve.mutate({ keep: v.vid, label: v.current ? 'kept the current version' : `kept version ${versionParts(v.vid).n} from workstation ${versionParts(v.vid).workstation ?? '?'}` }) : undefined} busy={resolve.isPending} />}
      <ErrorNotice error={resolve.error} title="The conflict could not be resolved" />
      {loaded && mayResolve ? <MergeEditor entry={entry} start={versions.find((v) => v.resource)?.resource} onSave={(resource) => resolve.mutate({ resource, label: 'saved a merged version' })} busy={resolve.isPending} /> : null}
      {!mayResolve ? <p className="notice notice-info">Your account may not change {entry.type} records: ask someone who may to resolve this conflict.</p> : null}
    </>
  );
}

function versionHeading(v: LoadedVersion): { title: string; detail: string } {
  const { n, workstation } = versionParts(v.vid);
  const title = v.current ? 'Current version' : 'Other version';
  const when = v.resource?.meta?.lastUpdated ? `, saved ${dateText(v.resource.meta.lastUpdated)}` : '';
  return { title, detail: `Version ${n}${workstation ? ` from workstation ${workstation}` : ''}${when}` };
}

function VersionTable({ versions, rows, onKeep, busy }: { versions: LoadedVersion[]; rows: DiffRow[]; onKeep?: (v: LoadedVersion) => void; busy: boolean }) {
  const [onlyDiffs, setOnlyDiffs] = useState(true);
  const idBase = useId();
  const shown = onlyDiffs ? rows.filter((r) => r.differs) : rows;
  const differ = differenceCount(rows);
  return (
    <div className="conflict-versions">
      <div className="conflict-toolbar">
        <p>
          <strong>{plural(differ, 'field differs', 'fields differ')}</strong> between the {plural(versions.length, 'version')}.
        </p>
        <label className="inline-check">
          <input type="checkbox" checked={onlyDiffs} onChange={(e) => setOnlyDiffs(e.target.checked)} /> Show only the fields that differ
        </label>
      </div>
      <table className="data conflict-diff">
        <caption className="visually-hidden">The versions in conflict, field by field; fields that differ are marked</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            {versions.map((v, i) => {
              const h = versionHeading(v);
              return (
                <th scope="col" key={v.vid} id={`${idBase}-v${i}`}>
                  {h.title}
                  <br />
                  <small>{h.detail}</small>
                  {v.resource ? (
                    <>
                      <br />
                      <span className="conflict-summary">{resourceSummary(v.resource)}</span>
                    </>
                  ) : null}
                  {v.deleted ? (
                    <>
                      <br />
                      <span className="badge error">This version deletes the record</span>
                    </>
                  ) : null}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 ? (
            <tr>
              <td colSpan={versions.length + 1}>{onlyDiffs ? 'No field differs.' : 'No fields.'}</td>
            </tr>
          ) : null}
          {shown.map((r) => (
            <tr key={r.path} className={r.differs ? 'differs' : undefined}>
              <FieldHeader row={r} />
              {r.values.map((value, i) => {
                const cls = !r.differs || value === undefined ? undefined : i === 0 ? 'diff-del' : value !== r.values[0] ? 'diff-add' : undefined;
                return (
                  <td key={i} className={cls}>
                    {value === undefined ? <span className="diff-none">(none)</span> : <span className="diff-value">{value}</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        {onKeep ? (
          <tfoot>
            <tr>
              <td />
              {versions.map((v, i) => (
                <td key={v.vid}>
                  <button type="button" className={v.current ? 'primary' : undefined} disabled={busy || (!v.resource && !v.deleted)} aria-describedby={`${idBase}-v${i}`} onClick={() => onKeep(v)}>
                    {v.current ? 'Keep this version' : 'Keep that one'}
                  </button>
                </td>
              ))}
            </tr>
          </tfoot>
        ) : null}
      </table>
    </div>
  );
}

// ---- Merge by hand ----------------------------------------------------------------

const isBlocking = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';

interface MergeWords {
  title: string;
  intro: string;
  open: string;
  save: string;
}

const MERGE_WORDS: MergeWords = {
  title: 'Merge by hand',
  intro: 'Neither version is right on its own? Start from the current version, combine what is right from each, and save the result as the new version.',
  open: 'Merge…',
  save: 'Save merged version',
};

const CORRECT_WORDS: MergeWords = {
  title: 'Correct this record',
  intro: 'Change this patient (for example a mistyped identifier) and save it as a new version; it is then no longer listed as a possible duplicate.',
  open: 'Correct as JSON…',
  save: 'Save corrected version',
};

function MergeEditor({ entry, start, onSave, busy, words = MERGE_WORDS }: { entry: ConflictEntry; start: Resource | undefined; onSave: (r: Resource) => void; busy: boolean; words?: MergeWords }) {
  const { fhir } = useFlint();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState(() => mergeStart(start));
  const [problem, setProblem] = useState<string>();
  const [outcome, setOutcome] = useState<OperationOutcome>();
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<unknown>();
  const editorId = useId();

  const check = async (): Promise<Resource | undefined> => {
    setProblem(undefined);
    setOutcome(undefined);
    setCheckError(undefined);
    const parsed = parseMerge(text, entry.type, entry.id);
    if ('problem' in parsed) {
      setProblem(parsed.problem);
      return undefined;
    }
    setChecking(true);
    try {
      const o = await fhir.validate(parsed.resource);
      setOutcome(o);
      return (o.issue ?? []).some(isBlocking) ? undefined : parsed.resource;
    } catch (e) {
      setCheckError(e);
      return undefined;
    } finally {
      setChecking(false);
    }
  };

  if (!open) {
    return (
      <section className="merge" aria-labelledby={`${editorId}-title`}>
        <h2 id={`${editorId}-title`}>{words.title}</h2>
        <p>{words.intro}</p>
        <button type="button" onClick={() => setOpen(true)}>
          {words.open}
        </button>
      </section>
    );
  }
  // Informational issues ("No issues found") say nothing the summary does not.
  const issues = (outcome?.issue ?? []).filter((i) => i.severity !== 'information');
  const blocking = issues.some(isBlocking);
  return (
    <section className="merge" aria-labelledby={`${editorId}-title`}>
      <h2 id={`${editorId}-title`}>{words.title}</h2>
      <label htmlFor={editorId}>The {words === MERGE_WORDS ? 'merged' : 'corrected'} {entry.type} as JSON</label>
      <p className="hint" id={`${editorId}-hint`}>
        Prefilled with the current version. Keep <code>resourceType</code> and <code>id</code>; the version and time are set when it is saved.
      </p>
      <textarea
        id={editorId}
        className="merge-json"
        spellCheck={false}
        value={text}
        aria-describedby={`${editorId}-hint${problem || blocking ? ` ${editorId}-problem` : ''}`}
        aria-invalid={problem || blocking ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setOutcome(undefined);
        }}
      />
      <div id={`${editorId}-problem`}>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        {issues.length > 0 ? (
          <div className={`notice ${blocking ? 'notice-error' : 'notice-warn'}`} role="alert">
            <p>{blocking ? 'The record is not valid yet:' : 'The record is valid, with these remarks:'}</p>
            <ul>
              {issues.map((i, n) => (
                <li key={n}>
                  {i.diagnostics ?? i.details?.text ?? i.code}
                  {(i.expression ?? i.location)?.length ? <small> (at {(i.expression ?? i.location)!.join(', ')})</small> : null}
                </li>
              ))}
            </ul>
          </div>
        ) : outcome ? (
          <p className="notice notice-ok" role="status">
            The record is valid.
          </p>
        ) : null}
      </div>
      <ErrorNotice error={checkError} title="The record could not be checked" />
      <div className="actions">
        <button type="button" onClick={() => void check()} disabled={checking || busy}>
          Check
        </button>
        <button
          type="button"
          className="primary"
          disabled={checking || busy}
          onClick={() =>
            void check().then((r) => {
              if (r) onSave(r);
            })
          }
        >
          {words.save}
        </button>
        <button type="button" onClick={() => setText(mergeStart(start))} disabled={busy}>
          Start again from the current version
        </button>
      </div>
    </section>
  );
}

// ---- Possible duplicates ----------------------------------------------------------

function DuplicateReview({ entry }: { entry: ConflictEntry }) {
  const { fhir, can } = useFlint();
  const refs = useMemo(() => [ref(entry.type, entry.id), ...(entry.duplicates ?? [])], [entry]);
  const results = useQueries({
    queries: refs.map((r) => ({
      queryKey: ['fhir', 'read', r],
      queryFn: async () => {
        const [t = '', i = ''] = r.split('/');
        return (await fhir.read(t, i)).resource;
      },
    })),
  });
  const loaded = results.every((r) => !r.isPending);
  const resources = results.map((r) => r.data);
  const rows = loaded ? diffVersions(resources.map((r) => comparable(r)), ['meta', 'id']) : [];
  const resolve = useResolve(entry);
  const mayResolve = can('Patient', 'update');
  return (
    <>
      <p className="lead">
        <span className="badge warn">{KIND_LABEL.duplicate}</span> These patients were created on different workstations with the same identifier{' '}
        <strong>{entry.identifier?.value}</strong>
        {entry.identifier?.system ? <small> ({entry.identifier.system})</small> : null}. They may be the same person.
      </p>
      <ul className="duplicate-links">
        {refs.map((r, i) => (
          <li key={r}>
            <Link to={recordPath(r)}>
              {resources[i] ? resourceSummary(resources[i]!) : r} ({r})
            </Link>
            {i === 0 ? ' — this record' : ''}
            {can('Patient', 'update') ? (
              <>
                {' '}
                · <Link to={`/r/Patient/${encodeURIComponent(r.split('/')[1] ?? '')}/edit`}>Edit {r}</Link>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      {results.map((r, i) => (r.error ? <ErrorNotice key={refs[i]} error={r.error} title={`${refs[i]} could not be read`} /> : null))}
      {!loaded ? <Loading label="Reading the patients…" /> : <DuplicateTable refs={refs} resources={resources} rows={rows} />}
      {mayResolve ? (
        <div className="actions">
          <button type="button" className="primary" disabled={resolve.isPending} onClick={() => resolve.mutate({ keep: entry.current, label: 'marked as not a duplicate; both records kept' })}>
            Not a duplicate (keep both)
          </button>
          <span className="hint">If they are the same person, correct or retire one of the records (edit it), then come back.</span>
        </div>
      ) : (
        <p className="notice notice-info">Your account may not change patients: ask someone who may to review this.</p>
      )}
      <ErrorNotice error={resolve.error} title="The review could not be saved" />
      {loaded && mayResolve ? <MergeEditor entry={entry} start={resources[0]} words={CORRECT_WORDS} onSave={(resource) => resolve.mutate({ resource, label: 'saved a corrected version' })} busy={resolve.isPending} /> : null}
    </>
  );
}

function DuplicateTable({ refs, resources, rows }: { refs: string[]; resources: Array<Resource | undefined>; rows: DiffRow[] }) {
  return (
    <table className="data conflict-diff">
      <caption className="visually-hidden">The patients that share the identifier, field by field; fields that differ are marked</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          {refs.map((r, i) => (
            <th scope="col" key={r}>
              {i === 0 ? 'This record' : 'Other record'}
              <br />
              <small>{r}</small>
              {resources[i] ? (
                <>
                  <br />
                  <span className="conflict-summary">{resourceSummary(resources[i]!)}</span>
                </>
              ) : null}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.path} className={r.differs ? 'differs' : undefined}>
            <FieldHeader row={r} />
            {r.values.map((value, i) => (
              <td key={i} className={r.differs && value !== undefined ? (i === 0 ? 'diff-del' : value !== r.values[0] ? 'diff-add' : undefined) : undefined}>
                {value === undefined ? <span className="diff-none">(none)</span> : <span className="diff-value">{value}</span>}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A diff row's field, readable, marked when the versions differ there (not by colour alone). */
function FieldHeader({ row }: { row: DiffRow }) {
  return (
    <th scope="row">
      <code title={row.path}>{readablePath(row.path)}</code>
      {row.differs ? (
        <span className="diff-mark" title="differs">
          {' '}
          ≠<span className="visually-hidden"> differs</span>
        </span>
      ) : null}
    </th>
  );
}
