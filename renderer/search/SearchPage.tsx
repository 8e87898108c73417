/**
 * `/search/:type?query`: search any resource type the CapabilityStatement lists, with
 * criteria rows (parameter, a modifier fitting its type, a prefix for dates, numbers and
 * quantities, the value) or an expert's raw query. The query is the page's address, so it
 * can be bookmarked and Back works; the page of results shown (a Bundle's next/previous
 * link) travels in the history entry's state. Results in a sortable table (`_sort`),
 * `_count` 20/50/100, the total when known; a row opens the resource.
 */
import type { Bundle, CapabilityStatement, Observation, Patient, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { linkOf, matches } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { elementAt, useStructureDefinition } from '../editing/definitions';
import { dateText, humanName, quantityText, resourceDate, resourceSummary } from '../fhir/format';
import { DataTable, type Column } from '../ui/DataTable';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import {
  COMMON_PARAMS,
  PREFIXES,
  blankCriterion,
  encodeQuery,
  fromQuery,
  hasPrefix,
  modifiersFor,
  parseRawQuery,
  sortParam,
  sortState,
  toQuery,
  typeOf,
  valueHint,
  type Criterion,
  type ParamInfo,
  type SearchState,
} from './criteria';

const COUNTS = [20, 50, 100];

export function useCapabilities() {
  const { fhir } = useFlint();
  return useQuery({ queryKey: ['fhir', 'metadata'], queryFn: () => fhir.capabilities(), staleTime: Infinity, gcTime: Infinity });
}

/** A type's search parameters: the server's, then the common ones it does not list. */
export function paramsOf(cs: CapabilityStatement | undefined, type: string): ParamInfo[] {
  const rest = cs?.rest?.[0];
  const own = (rest?.resource?.find((r) => r.type === type)?.searchParam ?? []).map((p) => ({ name: p.name, type: p.type as ParamInfo['type'], ...(p.documentation ? { documentation: p.documentation } : {}) }));
  const shared = (rest?.searchParam ?? []).map((p) => ({ name: p.name, type: p.type as ParamInfo['type'] }));
  const all = [...own];
  for (const p of [...shared, ...COMMON_PARAMS]) if (!all.some((x) => x.name === p.name)) all.push(p);
  return all.sort((a, b) => (a.name.startsWith('_') === b.name.startsWith('_') ? a.name.localeCompare(b.name) : a.name.startsWith('_') ? 1 : -1));
}

/** The target types of a reference parameter, from the element of the same name in the definition. */
export function targetsOf(sd: StructureDefinition | undefined, type: string, param: string, types: readonly string[]): string[] {
  const asType = param.charAt(0).toUpperCase() + param.slice(1);
  if (types.includes(asType)) return [asType];
  const element = elementAt(sd, `${type}.${param.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}`);
  const targets = (element?.type ?? []).flatMap((t) => t.targetProfile ?? []).map((p) => p.slice(p.lastIndexOf('/') + 1));
  return [...new Set(targets.filter((t) => t !== 'Resource' && types.includes(t)))];
}

interface Row {
  resource: Resource;
}

/** Sensible columns for a type: its own where it has them, then date and last update. */
function columnsFor(type: string, params: readonly ParamInfo[]): Column<Row>[] {
  const has = (name: string) => params.some((p) => p.name === name);
  const id: Column<Row> = { id: 'id', header: 'ID', cell: (r) => <code>{r.resource.id}</code>, sortKey: '_id', width: '14rem' };
  const updated: Column<Row> = { id: 'updated', header: 'Last updated', cell: (r) => dateText(r.resource.meta?.lastUpdated), sortKey: '_lastUpdated', width: '12.5rem' };
  if (type === 'Patient') {
    return [
      id,
      { id: 'name', header: 'Name', cell: (r) => humanName((r.resource as Patient).name), ...(has('family') ? { sortKey: 'family' } : {}) },
      { id: 'birthdate', header: 'Birth date', cell: (r) => dateText((r.resource as Patient).birthDate), ...(has('birthdate') ? { sortKey: 'birthdate' } : {}), width: '9rem' },
      { id: 'gender', header: 'Gender', cell: (r) => (r.resource as Patient).gender ?? '', ...(has('gender') ? { sortKey: 'gender' } : {}), width: '7rem' },
      updated,
    ];
  }
  const dateParam = ['date', 'authoredon', 'onset-date', 'recorded-date', 'occurrence', 'period', 'created', 'issued', 'recorded'].find(has);
  const cols: Column<Row>[] = [id, { id: 'summary', header: 'Summary', cell: (r) => resourceSummary(r.resource), ...(has('code') ? { sortKey: 'code' } : {}) }];
  if (type === 'Observation') cols.push({ id: 'value', header: 'Value', cell: (r) => observationValue(r.resource as Observation), width: '10rem' });
  cols.push({ id: 'date', header: 'Date', cell: (r) => dateText(resourceDate(r.resource)), ...(dateParam ? { sortKey: dateParam } : {}), width: '12.5rem' });
  if (has('status')) cols.push({ id: 'status', header: 'Status', cell: (r) => String((r.resource as { status?: string }).status ?? ''), sortKey: 'status', width: '8rem' });
  cols.push(updated);
  return cols;
}

function observationValue(o: Observation): string {
  if (o.valueQuantity) return quantityText(o.valueQuantity);
  if (o.component?.length) return o.component.map((c) => quantityText(c.valueQuantity)).filter(Boolean).join(' / ');
  if (o.valueString) return o.valueString;
  return o.valueCodeableConcept?.text ?? o.valueCodeableConcept?.coding?.[0]?.display ?? '';
}

export function SearchPage() {
  const { '*': rest = '' } = useParams();
  const type = rest.split('/')[0] ?? '';
  const location = useLocation();
  const navigate = useNavigate();
  const { fhir, can } = useFlint();
  const caps = useCapabilities();
  const sd = useStructureDefinition(type || undefined);
  const types = useMemo(
    () =>
      (caps.data?.rest?.[0]?.resource ?? [])
        .filter((r) => (r.interaction ?? []).some((i) => i.code === 'search-type') && can(r.type, 'search'))
        .map((r): string => r.type)
        .sort(),
    [caps.data, can],
  );
  const params = useMemo(() => paramsOf(caps.data, type), [caps.data, type]);
  const state = useMemo(() => fromQuery(type, location.search, params), [type, location.search, params]);
  const pageLink = (location.state as { page?: string } | null)?.page;
  const query = encodeQuery(toQuery(state, params));

  const results = useQuery({
    queryKey: ['search', type, query, pageLink],
    queryFn: ({ signal }) => (pageLink ? fhir.page(pageLink, signal) : fhir.search(type, query, signal)),
    enabled: !!type && types.includes(type),
    placeholderData: keepPreviousData,
    staleTime: 5_000,
  });

  const go = (next: Pick<SearchState, 'criteria' | 'sort' | 'count' | 'extras'>, nextType = type, page?: string) => {
    const q = encodeQuery(toQuery(next, nextType === type ? params : paramsOf(caps.data, nextType)));
    navigate(`/search/${nextType}${q ? `?${q}` : ''}`, page ? { state: { page } } : {});
  };

  if (caps.isPending) return <Loading label="Reading what this workstation can search…" />;
  if (caps.isError) return <ErrorNotice error={caps.error} title="Search" />;

  return (
    <section className="search-page" aria-labelledby="search-title">
      <h1 id="search-title">Search{type ? `: ${type}` : ''}</h1>
      <CriteriaForm
        key={`${type}?${location.search}`}
        type={type}
        types={types}
        params={params}
        sd={sd.data}
        state={state}
        onType={(t) => go({ criteria: [], sort: '', count: state.count, extras: [] }, t)}
        onSearch={(criteria) => go({ ...state, criteria })}
      />
      <RawQuery key={`raw-${type}?${query}`} current={type ? `${type}${query ? `?${query}` : ''}` : ''} onRun={(t, q) => navigate(`/search/${t}${q ? `?${q}` : ''}`)} />

      {type && !types.includes(type) ? <p className="notice notice-warn">{type} cannot be searched here, or your account may not search it.</p> : null}
      {type && types.includes(type) ? (
        <Results
          type={type}
          params={params}
          bundle={results.data}
          loading={results.isPending || results.isFetching}
          error={results.error}
          sort={state.sort}
          count={state.count}
          onSort={(s) => go({ ...state, sort: sortParam(s) })}
          onCount={(c) => go({ ...state, count: c })}
          onPage={(url) => go(state, type, url)}
          onOpen={(r) => navigate(r.resourceType === 'Patient' ? `/patients/${encodeURIComponent(r.id ?? '')}` : `/r/${r.resourceType}/${encodeURIComponent(r.id ?? '')}`)}
          canCreate={can(type, 'create')}
        />
      ) : null}
      {!type ? <p className="hint">Choose a resource type to list or search its records.</p> : null}
    </section>
  );
}

function CriteriaForm({
  type,
  types,
  params,
  sd,
  state,
  onType,
  onSearch,
}: {
  type: string;
  types: string[];
  params: ParamInfo[];
  sd: StructureDefinition | undefined;
  state: SearchState;
  onType(t: string): void;
  onSearch(criteria: Criterion[]): void;
}) {
  const [rows, setRows] = useState<Criterion[]>(() => (state.criteria.length ? state.criteria : [blankCriterion()]));
  const change = (i: number, patch: Partial<Criterion>) => setRows((rs) => rs.map((r, n) => (n === i ? { ...r, ...patch } : r)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(rows.filter((r) => r.param && (r.value.trim() || r.modifier === 'missing')));
  };
  return (
    <form className="search-form card" onSubmit={submit} aria-label="Search criteria">
      <div className="form-grid">
        <div className="field">
          <label htmlFor="search-type">Resource type</label>
          <select id="search-type" value={type} onChange={(e) => onType(e.target.value)}>
            <option value="">Choose a type…</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      {type ? (
        <fieldset className="criteria">
          <legend>Criteria (all must match)</legend>
          {rows.map((row, i) => (
            <CriterionRow
              key={i}
              n={i + 1}
              row={row}
              params={params}
              targets={targetsOf(sd, type, row.param, types)}
              onChange={(p) => change(i, p)}
              onRemove={rows.length > 1 ? () => setRows((rs) => rs.filter((_r, n) => n !== i)) : undefined}
            />
          ))}
          <button type="button" onClick={() => setRows((rs) => [...rs, blankCriterion()])}>
            Add a criterion
          </button>
        </fieldset>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={!type}>
          Search
        </button>
      </div>
    </form>
  );
}

function CriterionRow({ n, row, params, targets, onChange, onRemove }: { n: number; row: Criterion; params: ParamInfo[]; targets: string[]; onChange(p: Partial<Criterion>): void; onRemove: (() => void) | undefined }) {
  const known = params.find((p) => p.name === row.param.split('.')[0]);
  const pType = typeOf(row.param, params);
  const modifiers = modifiersFor(known, targets);
  if (row.modifier && !modifiers.some((m) => m.value === row.modifier)) modifiers.push({ value: row.modifier, label: `:${row.modifier}` });
  const id = `criterion-${n}`;
  const prefixed = hasPrefix(pType) && row.modifier !== 'missing';
  return (
    <div className="criterion-row" role="group" aria-label={`Criterion ${n}`}>
      <div className="field">
        <label htmlFor={`${id}-param`}>Parameter {n}</label>
        <select id={`${id}-param`} value={row.param} onChange={(e) => onChange({ param: e.target.value, modifier: '', prefix: '' })}>
          <option value="">Choose…</option>
          {params.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name} ({p.type})
            </option>
          ))}
          {row.param && !known ? <option value={row.param}>{row.param}</option> : null}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-modifier`}>Modifier {n}</label>
        <select id={`${id}-modifier`} value={row.modifier} onChange={(e) => onChange({ modifier: e.target.value, ...(e.target.value === 'missing' ? { value: 'true' } : {}) })} disabled={!row.param}>
          {modifiers.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </div>
      {prefixed ? (
        <div className="field">
          <label htmlFor={`${id}-prefix`}>Comparison {n}</label>
          <select id={`${id}-prefix`} value={row.prefix} onChange={(e) => onChange({ prefix: e.target.value })}>
            <option value="">equals (default)</option>
            {PREFIXES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
      ) : (
        <div className="criterion-no-prefix" />
      )}
      <div className="field criterion-value">
        <label htmlFor={`${id}-value`}>Value {n}</label>
        {row.modifier === 'missing' ? (
          <select id={`${id}-value`} value={row.value} onChange={(e) => onChange({ value: e.target.value })}>
            <option value="true">true: not set</option>
            <option value="false">false: set</option>
          </select>
        ) : (
          <input id={`${id}-value`} value={row.value} onChange={(e) => onChange({ value: e.target.value })} aria-describedby={`${id}-hint`} disabled={!row.param} autoComplete="off" spellCheck={false} />
        )}
        <p id={`${id}-hint`} className="hint">
          {row.param ? valueHint(known ?? (pType ? { name: row.param, type: pType } : undefined), row.modifier) : 'Choose a parameter first.'}
        </p>
      </div>
      {onRemove ? (
        <button type="button" className="criterion-remove" onClick={onRemove}>
          Remove<span className="visually-hidden"> criterion {n}</span>
        </button>
      ) : null}
    </div>
  );
}

function RawQuery({ current, onRun }: { current: string; onRun(type: string, query: string): void }) {
  const [text, setText] = useState(current);
  const [error, setError] = useState<string>();
  return (
    <details className="raw-query">
      <summary>Query for experts</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const r = parseRawQuery(text);
          if ('error' in r) setError(r.error);
          else {
            setError(undefined);
            onRun(r.type, r.query);
          }
        }}
      >
        <label htmlFor="raw-query">FHIR query</label>
        <div className="inline-controls">
          <input
            id="raw-query"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Observation?code=http://loinc.org|8867-4&date=ge2024"
            aria-describedby={error ? 'raw-query-hint raw-query-error' : 'raw-query-hint'}
            aria-invalid={error ? true : undefined}
            spellCheck={false}
            autoComplete="off"
          />
          <button type="submit">Run query</button>
        </div>
        <p id="raw-query-hint" className="hint">
          A type and its search parameters, as after /fhir/ in the FHIR API.
        </p>
        {error ? (
          <p id="raw-query-error" className="field-error">
            {error}
          </p>
        ) : null}
      </form>
    </details>
  );
}

function Results({
  type,
  params,
  bundle,
  loading,
  error,
  sort,
  count,
  onSort,
  onCount,
  onPage,
  onOpen,
  canCreate,
}: {
  type: string;
  params: ParamInfo[];
  bundle: Bundle | undefined;
  loading: boolean;
  error: unknown;
  sort: string;
  count: number | undefined;
  onSort(s: { key: string; direction: 'asc' | 'desc' }): void;
  onCount(c: number): void;
  onPage(url: string): void;
  onOpen(r: Resource): void;
  canCreate: boolean;
}) {
  const rows = useMemo(() => matches(bundle).map((resource) => ({ resource })), [bundle]);
  const columns = useMemo(() => columnsFor(type, params), [type, params]);
  const next = linkOf(bundle, 'next');
  const previous = linkOf(bundle, 'previous') ?? linkOf(bundle, 'prev');
  const warnings = (bundle?.entry ?? []).filter((e) => e.search?.mode === 'outcome').flatMap((e) => (e.resource as { issue?: Array<{ diagnostics?: string }> } | undefined)?.issue ?? []);
  return (
    <section className="search-results" aria-labelledby="results-title">
      <div className="page-header">
        <h2 id="results-title">Results</h2>
        <div className="actions results-tools">
          <div className="field inline-field">
            <label htmlFor="results-count">Per page</label>
            <select id="results-count" value={count ?? ''} onChange={(e) => onCount(Number(e.target.value))}>
              {count === undefined ? <option value="">Default</option> : null}
              {COUNTS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          {canCreate ? (
            <Link className="button" to={`/r/${type}/new`}>
              New {type}
            </Link>
          ) : null}
        </div>
      </div>
      <p role="status" aria-live="polite" className="results-status">
        {loading && !bundle
          ? 'Searching…'
          : bundle
            ? `${bundle.total !== undefined ? `${bundle.total} ${bundle.total === 1 ? 'match' : 'matches'}` : 'Matches'}${rows.length ? `; showing ${rows.length} on this page` : ''}.${loading ? ' Updating…' : ''}`
            : ''}
      </p>
      {error ? <ErrorNotice error={error} title="The search failed" /> : null}
      {warnings.length ? (
        <div className="notice notice-warn">
          <p>Part of the query was not used:</p>
          <ul>
            {warnings.map((w, i) => (
              <li key={i}>{w.diagnostics}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <DataTable
        label={`${type} results`}
        columns={columns}
        rows={rows}
        rowKey={(r) => `${r.resource.resourceType}/${r.resource.id}`}
        sort={sortState(sort)}
        onSort={onSort}
        onActivate={(r) => onOpen(r.resource)}
        empty={loading ? 'Searching…' : 'No records match.'}
        maxHeight={520}
      />
      <nav className="pager actions" aria-label="Result pages">
        <button type="button" disabled={!previous} onClick={() => previous && onPage(previous)}>
          Previous page
        </button>
        <button type="button" disabled={!next} onClick={() => next && onPage(next)}>
          Next page
        </button>
      </nav>
    </section>
  );
}
