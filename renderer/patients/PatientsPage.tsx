/**
 * Patients: find a patient as you type, or pick one opened recently. The term decides the
 * search (search-term.ts); each settled term is its own query (key: the classified term
 * and the gender), so a slow answer to an earlier term is never shown for a later one,
 * and a query nobody waits for any more is aborted. Results show only once the box has
 * stopped changing for DEBOUNCE_MS and match what it holds.
 */
import type { Patient } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { Link } from 'react-router';
import { matches, linkOf, type FhirApi } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { PatientTable, focusFirstRow } from './PatientTable';
import { useRecentPatients } from './recent-patients';
import { GENDERS, PAGE_SIZE, classifyTerm, patientQueries, type GenderFilter, type SearchTerm } from './search-term';

/**
 * Short: results must show within 100 ms of the last keystroke (bench/ui.mjs, docs/
 * benchmarks.md section 6). A typist's keys come 60-200 ms apart, so most keys start a
 * search; each is an indexed query of 20 rows (5-50 ms) and the previous one is aborted.
 * Only keys less than 25 ms apart (a paste, auto-repeat) are coalesced.
 */
export const DEBOUNCE_MS = 25;

export interface PatientResults {
  patients: Patient[];
  /** More matched than shown. */
  more: boolean;
}

/** Runs the term's searches in parallel; merges them in order, each patient once. */
export async function searchPatients(fhir: FhirApi, term: SearchTerm, gender: GenderFilter, signal?: AbortSignal): Promise<PatientResults> {
  const queries = patientQueries(term, gender);
  const bundles = await Promise.all(queries.map((q) => fhir.search<Patient>('Patient', new URLSearchParams(q), signal)));
  const seen = new Set<string>();
  const patients: Patient[] = [];
  for (const b of bundles) {
    for (const p of matches(b)) {
      if (p.id && !seen.has(p.id)) {
        seen.add(p.id);
        patients.push(p);
      }
    }
  }
  const more = patients.length > PAGE_SIZE || bundles.some((b) => !!linkOf(b, 'next'));
  return { patients: patients.slice(0, PAGE_SIZE), more };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export function PatientsPage() {
  const { fhir, auth, can } = useFlint();
  const [text, setText] = useState('');
  const [gender, setGender] = useState<GenderFilter>('');
  const settledText = useDebounced(text, DEBOUNCE_MS);
  const term = useMemo(() => classifyTerm(settledText), [settledText]);
  const typing = classifyTerm(text);
  const settled = JSON.stringify(typing) === JSON.stringify(term);
  const active = term.kind !== 'empty' || gender !== '';

  const results = useQuery({
    queryKey: ['patients', 'search', term, gender],
    queryFn: ({ signal }) => searchPatients(fhir, term, gender, signal),
    enabled: active,
    staleTime: 5_000,
  });
  const recent = useRecentPatients(auth);

  const input = useRef<HTMLInputElement>(null);
  const table = useRef<HTMLTableElement>(null);
  const hintId = useId();

  const onInputKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      if (focusFirstRow(table.current)) e.preventDefault();
    } else if (e.key === 'Enter') {
      // Enter in the box opens the first result when there is exactly one.
      const only = settled && results.data?.patients.length === 1 ? table.current?.querySelector<HTMLAnchorElement>('tbody a') : undefined;
      if (only) {
        e.preventDefault();
        only.click();
      }
    } else if (e.key === 'Escape' && text) {
      e.preventDefault();
      setText('');
    }
  };

  const showResults = typing.kind !== 'empty' || gender !== '';
  let body: React.ReactNode;
  let status = '';
  if (!showResults) {
    status = recent.length ? '' : 'Type a name, an identifier or a birth date to find a patient.';
    body = recent.length ? (
      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent patients</h2>
        <PatientTable patients={recent} caption="Patients opened recently" tableRef={table} onLeaveTop={() => input.current?.focus()} />
      </section>
    ) : null;
  } else if (!settled || results.isPending) {
    status = 'Searching…';
  } else if (results.isError) {
    body = <ErrorNotice error={results.error} title="The search did not work" />;
  } else {
    const found = results.data.patients;
    if (found.length === 0) {
      status = describeNoMatch(term, gender);
    } else {
      status = results.data.more
        ? `Showing the first ${found.length} patients. Type more to narrow the search.`
        : `${found.length} ${found.length === 1 ? 'patient' : 'patients'} found.`;
      body = (
        <section aria-labelledby="results-heading">
          <h2 id="results-heading" className="visually-hidden">
            Search results
          </h2>
          <PatientTable patients={found} caption={`Patients matching ${text.trim() || genderLabel(gender)}`} tableRef={table} onLeaveTop={() => input.current?.focus()} />
        </section>
      );
    }
  }

  return (
    <section className="patients-page">
      <div className="page-header">
        <h1>Patients</h1>
        {can('Patient', 'create') ? (
          <Link className="button primary" to="/r/Patient/new">
            New patient
          </Link>
        ) : null}
      </div>
      <div className="patient-search" role="search" aria-label="Patients">
        <div className="patient-search-term">
          <label htmlFor="patient-search-input">Search patients</label>
          <input
            id="patient-search-input"
            ref={input}
            type="search"
            autoComplete="off"
            spellCheck={false}
            autoFocus
            value={text}
            aria-describedby={hintId}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onInputKey}
          />
          <p className="hint" id={hintId}>
            Name, identifier or birth date (1984, 1984-03-07 or 07/03/1984). Press the down arrow to move to the results.
          </p>
        </div>
        <div className="patient-search-gender">
          <label htmlFor="patient-search-gender">Gender</label>
          <select id="patient-search-gender" value={gender} onChange={(e) => setGender(e.target.value as GenderFilter)}>
            <option value="">Any</option>
            {GENDERS.map((g) => (
              <option key={g} value={g}>
                {genderLabel(g)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="patient-search-status" role="status" aria-live="polite">
        {status}
      </p>
      <div className="patient-results">{body}</div>
    </section>
  );
}

function genderLabel(g: GenderFilter): string {
  return g ? g.charAt(0).toUpperCase() + g.slice(1) : 'Any';
}

function describeNoMatch(term: SearchTerm, gender: GenderFilter): string {
  const who = gender ? ` (${gender})` : '';
  switch (term.kind) {
    case 'date':
      return `No patient${who} was born ${term.birthdate.length === 10 ? 'on' : 'in'} ${dateText(term.birthdate)}.`;
    case 'identifier':
      return `No patient${who} has the identifier or name “${term.identifier}”.`;
    case 'name':
      return `No patient${who} has a name starting with “${term.words.join(' ')}”.`;
    default:
      return `No ${gender} patients.`;
  }
}
