/**
 * Patients as a table: name (a link to the record), gender, birth date with age, main
 * identifier. Keyboard: Tab reaches each name; ArrowUp/ArrowDown move between rows and
 * Enter opens one. A click anywhere on a row opens it too.
 */
import type { Patient } from '@medplum/fhirtypes';
import { useRef, type KeyboardEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { humanName } from '../fhir/format';
import { birthText, genderText, mainIdentifier } from './patient-format';

type Row = Pick<Patient, 'id' | 'name' | 'gender' | 'birthDate' | 'identifier'>;

export const recordPath = (id: string) => `/patients/${encodeURIComponent(id)}`;

export interface PatientTableProps {
  patients: readonly Row[];
  caption: string;
  /** Where ArrowUp from the first row goes (the search box). */
  onLeaveTop?: () => void;
  /** Exposes the table so the search box can move focus into it. */
  tableRef?: React.RefObject<HTMLTableElement | null>;
}

/** Focuses the first row's link of a patient table. */
export function focusFirstRow(table: HTMLTableElement | null): boolean {
  const link = table?.querySelector<HTMLAnchorElement>('tbody a');
  link?.focus();
  return !!link;
}

export function PatientTable({ patients, caption, onLeaveTop, tableRef }: PatientTableProps) {
  const navigate = useNavigate();
  const own = useRef<HTMLTableElement>(null);
  const ref = tableRef ?? own;

  const onKeyDown = (e: KeyboardEvent<HTMLTableElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...(ref.current?.querySelectorAll<HTMLAnchorElement>('tbody a') ?? [])];
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (at < 0) return;
    e.preventDefault();
    if (e.key === 'ArrowDown') links[Math.min(at + 1, links.length - 1)]?.focus();
    else if (at === 0) onLeaveTop?.();
    else links[at - 1]?.focus();
  };

  return (
    <table className="data patient-table" ref={ref} onKeyDown={onKeyDown}>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Gender</th>
          <th scope="col">Birth date</th>
          <th scope="col">Identifier</th>
        </tr>
      </thead>
      <tbody>
        {patients.map((p) => (
          <tr
            key={p.id}
            className="clickable-row"
            onClick={(e) => {
              // The link handles its own clicks (and middle-clicks, new windows).
              if ((e.target as HTMLElement).closest('a')) return;
              void navigate(recordPath(p.id!));
            }}
          >
            <td>
              <Link to={recordPath(p.id!)}>{humanName(p.name)}</Link>
            </td>
            <td>{genderText(p.gender)}</td>
            <td>{birthText(p.birthDate)}</td>
            <td>{mainIdentifier(p.identifier)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
