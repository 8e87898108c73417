/**
 * One-line summaries ("Ash, Ann") of the records a conflict list names, read once each
 * and cached; a deleted or unreadable record says so instead.
 */
import type { Resource } from '@medplum/fhirtypes';
import { useQueries } from '@tanstack/react-query';
import { ApiError } from '../api/errors';
import { useFlint } from '../app/flint-context';
import { resourceSummary } from '../fhir/format';

export interface Summary {
  text: string;
  deleted?: boolean;
  resource?: Resource;
}

/** At most this many records are read for a list; the rest show as type/id. */
const MAX = 100;

export function useSummaries(refs: readonly string[]): Map<string, Summary> {
  const { fhir } = useFlint();
  const unique = [...new Set(refs)].slice(0, MAX);
  const results = useQueries({
    queries: unique.map((ref) => ({
      queryKey: ['fhir', 'summary', ref],
      queryFn: async (): Promise<Summary> => {
        const [type = '', id = ''] = ref.split('/');
        try {
          const { resource } = await fhir.read(type, id);
          return { text: resourceSummary(resource), resource };
        } catch (e) {
          if (e instanceof ApiError && (e.status === 410 || e.status === 404)) return { text: e.status === 410 ? 'deleted' : 'not found', deleted: true };
          throw e;
        }
      },
      staleTime: 30_000,
      retry: false,
    })),
  });
  const out = new Map<string, Summary>();
  unique.forEach((ref, i) => {
    const data = results[i]?.data;
    if (data) out.set(ref, data);
  });
  return out;
}
