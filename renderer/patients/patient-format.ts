/** How a patient's demographics read on screen (lists, the record's header). */
import type { Address, ContactPoint, Identifier } from '@medplum/fhirtypes';
import { ageText, codingText, dateText } from '../fhir/format';

export function genderText(gender: string | undefined): string {
  if (!gender) return '';
  return gender.charAt(0).toUpperCase() + gender.slice(1);
}

/** "7 Mar 1984 (40 y)". */
export function birthText(birthDate: string | undefined, now = new Date()): string {
  if (!birthDate) return '';
  const age = ageText(birthDate, now);
  return age ? `${dateText(birthDate)} (${age})` : dateText(birthDate);
}

/** An identifier with what kind it is when that is known: "MRN 12345". */
export function identifierLabel(i: Identifier): string {
  const kind = i.type?.text ?? codingText(i.type?.coding?.[0]);
  return [kind, i.value].filter(Boolean).join(' ');
}

/** The first usable identifier (official first), for a list's column. */
export function mainIdentifier(ids: Identifier[] | undefined): string {
  const usable = (ids ?? []).filter((i) => i.value && i.use !== 'old');
  const best = usable.find((i) => i.use === 'official') ?? usable.find((i) => i.use === 'usual') ?? usable[0];
  return best?.value ?? '';
}

export function contactText(c: ContactPoint): string {
  const kind = c.system ? c.system.charAt(0).toUpperCase() + c.system.slice(1) : 'Contact';
  return `${kind}${c.use ? ` (${c.use})` : ''}: ${c.value ?? ''}`;
}

export function addressText(a: Address): string {
  if (a.text) return a.text;
  return [...(a.line ?? []), [a.postalCode, a.city].filter(Boolean).join(' '), a.district, a.state, a.country].filter(Boolean).join(', ');
}
