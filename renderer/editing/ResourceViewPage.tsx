/**
 * `/r/:type/:id`: one resource. Its narrative (sanitized), its elements in words (driven
 * by the StructureDefinition), the JSON on request, and the ways on: Edit and History
 * when the user may, and back to the patient the resource is about.
 */
import type { Resource } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError } from '../api/errors';
import { useFlint } from '../app/flint-context';
import { dateText, resourceSummary } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { Narrative } from '../ui/Narrative';
import { patientIdOf } from './convert';
import { useStructureDefinition } from './definitions';
import { ResourceDetails } from './ResourceDetails';
import { stringifyJson } from '../../shared/fhir/exact-json';

export function useResource(type: string | undefined, id: string | undefined) {
  const { fhir } = useFlint();
  return useQuery({
    queryKey: ['editing', 'read', type, id],
    queryFn: ({ signal }) => fhir.read<Resource>(type!, id!, signal),
    enabled: !!type && !!id,
  });
}

export function ResourceViewPage() {
  const { type = '', id = '' } = useParams();
  const { can } = useFlint();
  const location = useLocation();
  const read = useResource(type, id);
  const sd = useStructureDefinition(type);
  const saved = (location.state as { saved?: boolean } | null)?.saved;

  if (read.isPending) return <Loading label={`Opening ${type}/${id}…`} />;
  if (read.isError) {
    return (
      <section>
        <h1>
          {type}/{id}
        </h1>
        <ErrorNotice error={read.error} />
        {read.error instanceof ApiError && read.error.status === 410 && can(type, 'history') ? (
          <p>
            <Link to={`/r/${type}/${encodeURIComponent(id)}/history`}>See its history</Link>
          </p>
        ) : null}
      </section>
    );
  }
  const r = read.data.resource;
  const patient = patientIdOf(r);
  const narrative = (r as { text?: { div?: string } }).text?.div;
  return (
    <article className="resource-view" aria-labelledby="resource-title">
      <div className="page-header">
        <div>
          <h1 id="resource-title">
            {type}: {resourceSummary(r)}
          </h1>
          <p className="hint">
            {type}/{id}
            {r.meta?.versionId ? ` · version ${r.meta.versionId}` : ''}
            {r.meta?.lastUpdated ? ` · last changed ${dateText(r.meta.lastUpdated)}` : ''}
          </p>
        </div>
        <nav aria-label="This record" className="actions">
          {patient && type !== 'Patient' ? <Link to={`/patients/${encodeURIComponent(patient)}`}>Back to the patient</Link> : null}
          {type === 'Patient' ? <Link to={`/patients/${encodeURIComponent(id)}`}>Open the patient’s record</Link> : null}
          {can(type, 'history') ? <Link to={`/r/${type}/${encodeURIComponent(id)}/history`}>History</Link> : null}
          {can(type, 'update') ? (
            <Link className="button primary" to={`/r/${type}/${encodeURIComponent(id)}/edit`}>
              Edit
            </Link>
          ) : null}
        </nav>
      </div>
      {saved ? (
        <p className="notice notice-ok" role="status">
          Saved.
        </p>
      ) : null}
      {narrative ? (
        <section aria-labelledby="narrative-heading">
          <h2 id="narrative-heading">Summary</h2>
          <Narrative html={narrative} />
        </section>
      ) : null}
      <section aria-labelledby="details-heading">
        <h2 id="details-heading">Details</h2>
        {sd.isError ? <p className="hint">The definition of {type} could not be read; the elements are shown by their names.</p> : null}
        <ResourceDetails resource={r} sd={sd.data} />
      </section>
      <details className="json-view">
        <summary>JSON</summary>
        <pre>{stringifyJson(r, 2)}</pre>
      </details>
    </article>
  );
}
