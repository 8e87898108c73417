/**
 * POST [base]/$reindex: rebuilds the search index from the store, taking in every active
 * custom SearchParameter (search/custom-params.ts), and answers when it is done. It is the
 * same job `POST /flint/reindex` starts in the background (search/reindex-job.ts): 409
 * while either runs. Searches answer 503 while it runs; writes are committed, but each is
 * answered only once the rebuild has ended and the write is indexed (docs/flint-api.md).
 * Answers with an OperationOutcome saying what was indexed and which stored
 * SearchParameters were not used, and why.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { notSupported, outcomeOf } from '../../../../shared/fhir/outcome';
import type { Handler } from '../interactions/route';
import { respond } from '../types';

export const reindexOperation: Handler = async (_req, ctx) => {
  if (!ctx.reindex) throw notSupported('$reindex is not available in this process');
  // ctx.reindex runs the shared job, which refuses searches while it rebuilds.
  const result = await ctx.reindex();
  // Later requests see the new parameters.
  ctx.useDefinitions?.(result.definitions);
  const issues: OperationOutcomeIssue[] = [
    {
      severity: 'information',
      code: 'informational',
      diagnostics: `Reindexed ${result.processed} changes; custom search parameters in use: ${result.params.join(', ') || 'none'}`,
    },
    ...result.skipped.map(
      (s): OperationOutcomeIssue => ({ severity: 'warning', code: 'not-supported', diagnostics: `SearchParameter/${s.id} not used: ${s.reason}` }),
    ),
  ];
  return respond(200, outcomeOf(issues));
};
