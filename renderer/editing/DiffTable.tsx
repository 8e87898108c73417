/** A readable diff (json-diff.ts) as a table: path, what happened, before and after. */
import type { Change } from '../fhir/json-diff';
import { valueText } from '../fhir/json-diff';

const KIND = { added: 'Added', removed: 'Removed', changed: 'Changed' } as const;

export function DiffTable({ changes, label, beforeLabel = 'Before', afterLabel = 'After' }: { changes: Change[]; label: string; beforeLabel?: string; afterLabel?: string }) {
  return (
    <table className="data diff-table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Element</th>
          <th scope="col">Change</th>
          <th scope="col">{beforeLabel}</th>
          <th scope="col">{afterLabel}</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c, i) => (
          <tr key={`${c.path}-${i}`} className={`diff-${c.kind}`}>
            <th scope="row">
              <code>{c.path}</code>
            </th>
            <td>
              <span className={`badge ${c.kind === 'added' ? 'ok' : c.kind === 'removed' ? 'error' : 'info'}`}>{KIND[c.kind]}</span>
            </td>
            <td>{c.kind === 'added' ? <span className="hint">—</span> : <del className="diff-old">{valueText(c.before)}</del>}</td>
            <td>{c.kind === 'removed' ? <span className="hint">—</span> : <ins className="diff-new">{valueText(c.after)}</ins>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
