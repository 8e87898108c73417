/** One AuditEvent in full: when, what, how it ended, every agent (with network address) and entity. */
import type { AuditEvent } from '@medplum/fhirtypes';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Link } from 'react-router';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { actionText, agentRoleText, agentWhoText, decodeQuery, entityRoleText, entityText, isQueryEntity, outcomeText, outcomeTone, subtypeText, typeText } from './audit-format';

export function AuditEventDetail({ id, closeTo }: { id: string; closeTo: string }) {
  const { fhir } = useFlint();
  const queries = useQueryClient();
  const event = useQuery({
    queryKey: ['flint', 'audit', 'event', id],
    queryFn: async ({ signal }) => (await fhir.read<AuditEvent>('AuditEvent', id, signal)).resource,
    // Events never change: one read each.
    staleTime: Infinity,
    initialData: () => findInSearches(queries.getQueriesData<{ entry?: Array<{ resource?: AuditEvent }> }>({ queryKey: ['flint', 'audit', 'search'] }), id),
  });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id]);
  const e = event.data;
  return (
    <aside className="card audit-detail" aria-labelledby="audit-detail-title">
      <div className="page-header">
        <h2 id="audit-detail-title" ref={heading} tabIndex={-1}>
          Event details
        </h2>
        <Link to={closeTo} className="button">
          Close details
        </Link>
      </div>
      <ErrorNotice error={event.error} title="This event could not be read" />
      {event.isPending ? <Loading label="Reading the event…" /> : null}
      {e ? <EventFacts e={e} /> : null}
    </aside>
  );
}

function findInSearches(data: Array<[unknown, { entry?: Array<{ resource?: AuditEvent }> } | undefined]>, id: string): AuditEvent | undefined {
  for (const [, bundle] of data) {
    const hit = bundle?.entry?.find((x) => x.resource?.id === id)?.resource;
    if (hit) return hit;
  }
  return undefined;
}

function EventFacts({ e }: { e: AuditEvent }) {
  return (
    <>
      <dl className="facts">
        <dt>Recorded</dt>
        <dd>
          <time dateTime={e.recorded}>{dateText(e.recorded)}</time> <small>({e.recorded})</small>
        </dd>
        <dt>Event</dt>
        <dd>
          {typeText(e)}
          {subtypeText(e) ? ` — ${subtypeText(e)}` : ''}
        </dd>
        <dt>Action</dt>
        <dd>{actionText(e.action)}</dd>
        <dt>Outcome</dt>
        <dd>
          <span className={`badge ${outcomeTone(e.outcome)}`}>{outcomeText(e.outcome)}</span>
          {e.outcomeDesc ? ` ${e.outcomeDesc}` : ''}
        </dd>
        <dt>Recorded by</dt>
        <dd>{e.source?.observer?.display ?? e.source?.observer?.identifier?.value ?? ''}</dd>
        <dt>Event id</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
      </dl>
      <h3>Agents</h3>
      <table className="data audit-detail-table">
        <thead>
          <tr>
            <th scope="col">Who</th>
            <th scope="col">Role</th>
            <th scope="col">Network address</th>
          </tr>
        </thead>
        <tbody>
          {(e.agent ?? []).map((a, i) => (
            <tr key={i}>
              <td>
                {agentWhoText(a)}
                {a.requestor ? (
                  <>
                    {' '}
                    <span className="badge info">requestor</span>
                  </>
                ) : null}
                {a.altId ? (
                  <>
                    <br />
                    <small>user id {a.altId}</small>
                  </>
                ) : null}
              </td>
              <td>{agentRoleText(a)}</td>
              <td>{a.network?.address ? <code>{a.network.address}</code> : <span className="diff-none">(none)</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Entities</h3>
      {(e.entity ?? []).length === 0 ? <p>None.</p> : null}
      {(e.entity ?? []).length > 0 ? (
        <table className="data audit-detail-table">
          <thead>
            <tr>
              <th scope="col">What</th>
              <th scope="col">Role / type</th>
            </tr>
          </thead>
          <tbody>
            {(e.entity ?? []).map((x, i) => (
              <tr key={i}>
                <td>
                  {isQueryEntity(x) ? (
                    <>
                      Query: <code>{decodeQuery(x.query) ?? '(unreadable)'}</code>
                    </>
                  ) : (
                    entityText(x)
                  )}
                  {(x.detail ?? []).map((d, j) => (
                    <div key={j}>
                      <small>
                        {d.type}: {d.valueString ?? ''}
                      </small>
                    </div>
                  ))}
                </td>
                <td>{entityRoleText(x)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <details>
        <summary>The event as JSON</summary>
        <pre>{JSON.stringify(e, null, 2)}</pre>
      </details>
    </>
  );
}
