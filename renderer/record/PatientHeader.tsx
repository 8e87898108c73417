/** The record's header: who the patient is, how to reach them, and what may be done. */
import type { Patient } from '@medplum/fhirtypes';
import { Link } from 'react-router';
import { useFlint } from '../app/flint-context';
import { dateText, humanName } from '../fhir/format';
import { addressText, birthText, contactText, genderText, identifierLabel } from '../patients/patient-format';

export function PatientHeader({ patient }: { patient: Patient }) {
  const { can } = useFlint();
  const id = encodeURIComponent(patient.id ?? '');
  const ids = (patient.identifier ?? []).filter((i) => i.value && i.use !== 'old');
  const contacts = (patient.telecom ?? []).filter((c) => c.value && !c.period?.end);
  const addresses = (patient.address ?? []).filter((a) => a.use !== 'old' && !a.period?.end);
  const deceased = patient.deceasedBoolean || !!patient.deceasedDateTime;
  return (
    <header className="record-header">
      <div className="record-title">
        <h1>{humanName(patient.name)}</h1>
        {deceased ? <span className="badge error">Deceased{patient.deceasedDateTime ? ` ${dateText(patient.deceasedDateTime)}` : ''}</span> : null}
        {patient.active === false ? <span className="badge warn">Inactive record</span> : null}
        {can('Patient', 'update') ? (
          <div className="record-actions">
            <Link className="button" to={`/r/Patient/${id}/edit`}>
              Edit
            </Link>
            <Link className="button" to={`/r/Patient/${id}/history`}>
              History
            </Link>
          </div>
        ) : null}
      </div>
      <dl className="facts record-facts">
        <div>
          <dt>Gender</dt>
          <dd>{genderText(patient.gender) || 'Not recorded'}</dd>
        </div>
        <div>
          <dt>Born</dt>
          <dd>{birthText(patient.birthDate) || 'Not recorded'}</dd>
        </div>
        <div>
          <dt>Identifiers</dt>
          <dd>{ids.length ? ids.map((i, n) => <div key={n}>{identifierLabel(i)}</div>) : 'None'}</dd>
        </div>
        <div>
          <dt>Contact</dt>
          <dd>{contacts.length ? contacts.map((c, n) => <div key={n}>{contactText(c)}</div>) : 'None'}</dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>{addresses.length ? addresses.map((a, n) => <div key={n}>{addressText(a)}</div>) : 'None'}</dd>
        </div>
      </dl>
    </header>
  );
}
