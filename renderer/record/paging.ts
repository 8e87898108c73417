/** Follows a searchset's `next` links until the end (or a cap), for the record's lists. */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { linkOf, matches, type FhirApi } from '../api/fhir';

/** A patient record beyond this many entries is shown truncated, with a notice. */
export const MAX_ENTRIES = 20_000;

export interface AllPages<T extends Resource> {
  resources: T[];
  /** Stopped at MAX_ENTRIES with more to read. */
  truncated: boolean;
}

export async function allPages<T extends Resource>(fhir: FhirApi, first: Bundle<T>, signal?: AbortSignal, max = MAX_ENTRIES): Promise<AllPages<T>> {
  const resources: T[] = [...matches(first)];
  let next = linkOf(first as Bundle, 'next');
  while (next && resources.length < max) {
    const page = await fhir.page<T>(next, signal);
    resources.push(...matches(page));
    next = linkOf(page as Bundle, 'next');
  }
  return { resources, truncated: !!next };
}
