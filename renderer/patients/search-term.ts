/**
 * What a term typed in the patient search box means, and the FHIR searches it becomes.
 * A date (1984, 1984-03, 1984-03-07, 07/03/1984) searches `birthdate`; a term with digits
 * in it (a medical record number, a national id) searches `identifier` and `name` both;
 * anything else searches `name`, one `name` criterion per word (AND-ed: "ann ash" finds
 * Ann Ash, as does "ash ann"). FHIR's `name` search is a case- and accent-insensitive
 * starts-with on every part of the name.
 */

export type SearchTerm =
  | { kind: 'empty' }
  | { kind: 'date'; birthdate: string }
  | { kind: 'identifier'; identifier: string; words: string[] }
  | { kind: 'name'; words: string[] };

const pad = (n: number) => String(n).padStart(2, '0');

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/** A FHIR date for a term that looks like one, else undefined. */
export function dateOf(term: string): string | undefined {
  const t = term.trim();
  let m = /^(\d{4})$/.exec(t);
  if (m) return m[1];
  m = /^(\d{4})-(\d{2})$/.exec(t);
  if (m) return Number(m[2]) >= 1 && Number(m[2]) <= 12 ? t : undefined;
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) return validDay(Number(m[1]), Number(m[2]), Number(m[3])) ? t : undefined;
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (m) {
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDay(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  return undefined;
}

/** Words of a name search: split on spaces and commas ("Ash, Ann"). */
export function wordsOf(term: string): string[] {
  return term
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter(Boolean);
}

export function classifyTerm(term: string): SearchTerm {
  const t = term.trim();
  if (!t) return { kind: 'empty' };
  const birthdate = dateOf(t);
  if (birthdate) return { kind: 'date', birthdate };
  if (/\d/.test(t)) return { kind: 'identifier', identifier: t, words: wordsOf(t) };
  return { kind: 'name', words: wordsOf(t) };
}

export const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
export type GenderFilter = '' | (typeof GENDERS)[number];

export const PAGE_SIZE = 20;

/**
 * The Patient searches for a term and gender, as query parameter lists. More than one
 * means "either" (an identifier or a name): their results are merged, the first's first.
 * None when there is nothing to search for.
 */
export function patientQueries(term: SearchTerm, gender: GenderFilter): Array<Array<[string, string]>> {
  const common: Array<[string, string]> = [['_count', String(PAGE_SIZE)], ['_sort', 'family,given']];
  if (gender) common.push(['gender', gender]);
  switch (term.kind) {
    case 'empty':
      return gender ? [common] : [];
    case 'date':
      return [[['birthdate', term.birthdate], ...common]];
    case 'identifier':
      return [[['identifier', term.identifier], ...common], [...term.words.map((w): [string, string] => ['name', w]), ...common]];
    case 'name':
      return [[...term.words.map((w): [string, string] => ['name', w]), ...common]];
  }
}
