/**
 * A patient's record at /patients/:id: the header, then three tabs that are routes of
 * their own (/patients/:id, /vitals, /timeline), so each has an address to go back to
 * or share. Only the open tab's data is fetched (a tab's own query starts early when its
 * link is pointed at or focused); the summary cards and the patient load in parallel.
 */
import type { Patient } from '@medplum/fhirtypes';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { NavLink, Route, Routes, useParams } from 'react-router';
import { ApiError } from '../api/errors';
import { useFlint } from '../app/flint-context';
import { recentPatientsOf } from '../patients/recent-patients';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { PatientHeader } from './PatientHeader';
import { SummaryTab } from './SummaryTab';
import { TimelineTab, everythingQuery } from './TimelineTab';
import { VitalsTab, vitalsQuery } from './VitalsTab';

export function patientQueryKey(id: string) {
  return ['record', id, 'patient'] as const;
}

export function PatientRecordPage() {
  const { id = '' } = useParams();
  const { fhir, auth } = useFlint();
  const patient = useQuery({
    queryKey: patientQueryKey(id),
    queryFn: async ({ signal }) => (await fhir.read<Patient>('Patient', id, signal)).resource,
    enabled: !!id,
  });

  useEffect(() => {
    const recent = recentPatientsOf(auth);
    if (patient.data) recent.remember(patient.data);
    else if (patient.error instanceof ApiError && (patient.error.status === 404 || patient.error.status === 410)) recent.forget(id);
  }, [auth, id, patient.data, patient.error]);

  // A tab's data starts loading as the pointer or focus reaches its link, not before.
  const queries = useQueryClient();
  const prefetchVitals = () => void queries.prefetchQuery(vitalsQuery(fhir, id));
  const prefetchTimeline = () => void queries.prefetchInfiniteQuery(everythingQuery(fhir, id));

  const base = `/patients/${encodeURIComponent(id)}`;
  return (
    // Keyed by patient: another patient's record starts afresh (tab filters included).
    <article className="patient-record" key={id}>
      {patient.isPending ? <Loading label="Opening the record…" /> : null}
      {patient.isError ? (
        <>
          <h1>Patient record</h1>
          <ErrorNotice error={patient.error} />
        </>
      ) : null}
      {patient.data ? <PatientHeader patient={patient.data} /> : null}
      {/* The tabs do not wait for the patient: their data is fetched at the same time. */}
      {!patient.isError ? (
        <>
          <nav className="tabs record-tabs" aria-label="Patient record">
            <NavLink to={base} end>
              Summary
            </NavLink>
            <NavLink to={`${base}/vitals`} onPointerEnter={prefetchVitals} onFocus={prefetchVitals}>
              Vital signs
            </NavLink>
            <NavLink to={`${base}/timeline`} onPointerEnter={prefetchTimeline} onFocus={prefetchTimeline}>
              Timeline
            </NavLink>
          </nav>
          <Routes>
            <Route index element={<SummaryTab patientId={id} />} />
            <Route path="vitals" element={<VitalsTab patientId={id} />} />
            <Route path="timeline" element={<TimelineTab patientId={id} />} />
            <Route path="*" element={<p>This record has no such tab.</p>} />
          </Routes>
        </>
      ) : null}
    </article>
  );
}
