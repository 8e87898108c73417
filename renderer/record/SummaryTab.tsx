/**
 * Summary: allergies, active problems, active medications, immunizations and the latest
 * encounters, one card each. Every card is its own query, all started together, so the
 * slowest card never holds up the others.
 */
import type { AllergyIntolerance, Condition, Encounter, Immunization, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { useId, type ReactNode } from 'react';
import { Link } from 'react-router';
import { linkOf, matches } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { codingText, conceptText, dateText, resourceSummary } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';

export interface CardDef<T extends Resource = Resource> {
  key: string;
  title: string;
  type: T['resourceType'];
  /** The Add link's name ("Add allergy"). */
  addLabel: string;
  empty: string;
  params: (patientId: string) => Record<string, string>;
  /** Left out of the card (e.g. entered in error). */
  skip?: (r: T) => boolean;
  titleOf?: (r: T) => string;
  details: (r: T) => ReactNode;
}

const clinical = (c: { coding?: Array<{ code?: string }> } | undefined) => c?.coding?.[0]?.code;

const allergies: CardDef<AllergyIntolerance> = {
  key: 'allergies',
  title: 'Allergies',
  type: 'AllergyIntolerance',
  addLabel: 'Add allergy',
  empty: 'No allergies recorded.',
  params: (patient) => ({ patient, _count: '50', _sort: '-date' }),
  skip: (a) => clinical(a.verificationStatus) === 'entered-in-error' || clinical(a.verificationStatus) === 'refuted',
  details: (a) => {
    const reactions = (a.reaction ?? []).flatMap((r) => (r.manifestation ?? []).map(conceptText)).filter(Boolean);
    const status = clinical(a.clinicalStatus);
    return (
      <>
        {a.criticality === 'high' ? <span className="badge error">High criticality</span> : null}
        {status && status !== 'active' ? <span className="badge">{status}</span> : null}
        {reactions.length ? <span>{reactions.join(', ')}</span> : null}
      </>
    );
  },
};

const problems: CardDef<Condition> = {
  key: 'problems',
  title: 'Active problems',
  type: 'Condition',
  addLabel: 'Add problem',
  empty: 'No active problems.',
  params: (patient) => ({ patient, 'clinical-status': 'active', _count: '50', _sort: '-onset-date' }),
  skip: (c) => clinical(c.verificationStatus) === 'entered-in-error',
  details: (c) => {
    const since = c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate;
    return since ? <span>since {dateText(since)}</span> : null;
  },
};

const medications: CardDef<MedicationRequest> = {
  key: 'medications',
  title: 'Medications',
  type: 'MedicationRequest',
  addLabel: 'Add medication',
  empty: 'No active medications.',
  params: (patient) => ({ patient, status: 'active', _count: '50', _sort: '-authoredon' }),
  titleOf: (m) => conceptText(m.medicationCodeableConcept) || m.medicationReference?.display || resourceSummary(m),
  details: (m) => {
    const dose = m.dosageInstruction?.[0]?.text;
    return (
      <>
        {dose ? <span>{dose}</span> : null}
        {m.authoredOn ? <span>from {dateText(m.authoredOn)}</span> : null}
      </>
    );
  },
};

const immunizations: CardDef<Immunization> = {
  key: 'immunizations',
  title: 'Immunizations',
  type: 'Immunization',
  addLabel: 'Add immunization',
  empty: 'No immunizations recorded.',
  params: (patient) => ({ patient, _count: '50', _sort: '-date' }),
  skip: (i) => i.status === 'entered-in-error',
  details: (i) => (
    <>
      {i.occurrenceDateTime ? <span>{dateText(i.occurrenceDateTime)}</span> : i.occurrenceString ? <span>{i.occurrenceString}</span> : null}
      {i.status === 'not-done' ? <span className="badge warn">Not done</span> : null}
    </>
  ),
};

const encounters: CardDef<Encounter> = {
  key: 'encounters',
  title: 'Recent encounters',
  type: 'Encounter',
  addLabel: 'Add encounter',
  empty: 'No encounters recorded.',
  params: (patient) => ({ patient, _sort: '-date', _count: '10' }),
  skip: (e) => e.status === 'entered-in-error',
  titleOf: (e) => conceptText(e.type?.[0]) || conceptText(e.serviceType) || codingText(e.class) || 'Encounter',
  details: (e) => (
    <>
      {e.period?.start ? <span>{dateText(e.period.start)}</span> : null}
      {e.class && e.type?.length ? <span>{codingText(e.class)}</span> : null}
      {e.status && e.status !== 'finished' ? <span className="badge">{e.status}</span> : null}
    </>
  ),
};

export const CARDS = [allergies, problems, medications, immunizations, encounters] as CardDef[];

export function summaryQueryKey(patientId: string, card: string) {
  return ['record', patientId, 'summary', card] as const;
}

export function SummaryTab({ patientId }: { patientId: string }) {
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading" className="visually-hidden">
        Summary
      </h2>
      <div className="cards record-cards">
        {CARDS.map((c) => (
          <SummaryCard key={c.key} def={c} patientId={patientId} />
        ))}
      </div>
    </section>
  );
}

function SummaryCard({ def, patientId }: { def: CardDef; patientId: string }) {
  const { fhir, can } = useFlint();
  const headingId = useId();
  const q = useQuery({
    queryKey: summaryQueryKey(patientId, def.key),
    queryFn: async ({ signal }) => {
      const b = await fhir.search(def.type, def.params(patientId), signal);
      return { items: matches(b).filter((r) => !def.skip?.(r)), more: !!linkOf(b, 'next') };
    },
  });
  return (
    <section className="card summary-card" aria-labelledby={headingId} aria-busy={q.isPending}>
      <div className="summary-card-head">
        <h3 id={headingId}>
          {def.title}
          {q.data ? (
            <span className="count-badge">
              <span className="visually-hidden"> (</span>
              {q.data.items.length}
              {q.data.more ? '+' : ''}
              <span className="visually-hidden">)</span>
            </span>
          ) : null}
        </h3>
        {can(def.type, 'create') ? (
          <Link className="button small" to={`/r/${def.type}/new?patient=${encodeURIComponent(patientId)}`}>
            {def.addLabel}
          </Link>
        ) : null}
      </div>
      {q.isPending ? <Loading /> : null}
      <ErrorNotice error={q.error} title={`${def.title} could not be loaded`} />
      {q.data && q.data.items.length === 0 ? <p className="muted-text">{def.empty}</p> : null}
      {q.data && q.data.items.length > 0 ? (
        <ul className="summary-list">
          {q.data.items.map((r) => (
            <li key={r.id}>
              <Link to={`/r/${r.resourceType}/${encodeURIComponent(r.id ?? '')}`}>{def.titleOf?.(r) || resourceSummary(r)}</Link>
              <span className="summary-details">{def.details(r)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {q.data?.more ? <p className="hint">Only the latest are shown; the Timeline tab has them all.</p> : null}
    </section>
  );
}
