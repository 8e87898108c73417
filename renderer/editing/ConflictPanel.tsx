/**
 * A stale edit: someone else saved the record after this form opened it (412 on If-Match).
 * Says so plainly, lists what differs between their version and this one, shows both side
 * by side, and offers to save over theirs or to discard one's own changes.
 */
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { useEffect, useRef } from 'react';
import type { Versioned } from '../api/fhir';
import { dateText } from '../fhir/format';
import { DiffTable } from './DiffTable';
import { diffJson } from '../fhir/json-diff';
import { ResourceDetails } from './ResourceDetails';
import { whoOf } from './who';

interface Props {
  type: string;
  mine: Resource;
  theirs: Versioned<Resource>;
  sd: StructureDefinition | undefined;
  onUseMine(): void;
  onDiscardMine(): void;
}

export function ConflictPanel({ type, mine, theirs, sd, onUseMine, onDiscardMine }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const t = theirs.resource;
  const changes = diffJson(t, mine, { ignore: ['meta'] });
  const who = whoOf(t);
  return (
    <section className="conflict notice notice-warn" aria-labelledby="conflict-title">
      <h2 id="conflict-title" ref={heading} tabIndex={-1}>
        Someone else changed this record while you were editing it
      </h2>
      <p>
        {who ? `${who} saved` : 'A newer version was saved'}
        {t.meta?.lastUpdated ? ` at ${dateText(t.meta.lastUpdated)}` : ''}
        {t.meta?.versionId ? ` (version ${t.meta.versionId})` : ''}. Your changes have not been saved yet, and nothing you typed is lost. Choose which version to keep.
      </p>
      <h3>What differs (theirs → yours)</h3>
      {changes.length ? <DiffTable changes={changes} label="Differences between their version and yours" beforeLabel="Theirs" afterLabel="Yours" /> : <p>The two versions hold the same information.</p>}
      <div className="split conflict-versions">
        <section aria-labelledby="conflict-theirs" className="card">
          <h3 id="conflict-theirs">Theirs: the saved version{t.meta?.versionId ? ` ${t.meta.versionId}` : ''}</h3>
          <ResourceDetails resource={t} sd={sd} />
        </section>
        <section aria-labelledby="conflict-mine" className="card">
          <h3 id="conflict-mine">Yours: this form, not saved</h3>
          <ResourceDetails resource={mine} sd={sd} />
        </section>
      </div>
      <div className="actions">
        <button type="button" className="primary" onClick={onUseMine}>
          Use mine (save over theirs)
        </button>
        <button type="button" onClick={onDiscardMine}>
          Discard mine
        </button>
      </div>
      <p className="hint">
        “Use mine” saves your version of this {type} as the newest; theirs stays in the history. “Discard mine” shows their version in the form.
      </p>
    </section>
  );
}
