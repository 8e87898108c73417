/**
 * batch: each entry is its own interaction, run through the router in order; one
 * failing entry answers with its OperationOutcome and does not affect the others.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FhirError } from '../../../../shared/fhir/outcome';
import type { FhirContext } from '../context';
import { toResponse } from '../router';
import { respond, type FhirRequest, type FhirResponse } from '../types';
import { entryRequest, entryTarget, responseEntry } from './entry-request';

export async function batch(req: FhirRequest, ctx: FhirContext, bundle: Bundle): Promise<FhirResponse> {
  const entries: BundleEntry[] = [];
  for (const [i, entry] of (bundle.entry ?? []).entries()) {
    let res: FhirResponse;
    try {
      const target = entryTarget(entry, i, req.baseUrl);
      if (target.path.length === 0) throw new FhirError(400, badNested(i));
      const inner = entryRequest(entry, target, req, i);
      res = await ctx.dispatch!({ ...inner, headers: { ...inner.headers, prefer: req.headers['prefer'] } });
    } catch (e) {
      res = toResponse(e, ctx.logFault ?? (() => undefined));
    }
    entries.push(responseEntry(res));
  }
  return respond(200, { resourceType: 'Bundle', type: 'batch-response', entry: entries });
}

function badNested(i: number) {
  return {
    resourceType: 'OperationOutcome' as const,
    issue: [{ severity: 'error' as const, code: 'invalid' as const, diagnostics: `Bundle entry ${i}: Bundles cannot be nested in a batch` }],
  };
}
