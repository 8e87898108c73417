/** POST [base] with a Bundle: dispatches to batch or transaction processing. */
import type { Bundle } from '@medplum/fhirtypes';
import { badRequest } from '../../../../shared/fhir/outcome';
import type { Handler } from '../interactions/route';
import { batch } from './batch';
import { transaction } from './transaction';

export const batchOrTransaction: Handler = async (req, ctx) => {
  const bundle = req.body as Bundle | undefined;
  if (!bundle || typeof bundle !== 'object' || Array.isArray(bundle) || bundle.resourceType !== 'Bundle') {
    throw badRequest('POST to the base needs a Bundle of type batch or transaction');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw badRequest('Bundle.entry must be an array');
  if (bundle.type === 'transaction') return transaction(req, ctx, bundle);
  if (bundle.type === 'batch') return batch(req, ctx, bundle);
  throw badRequest('Only Bundles of type batch or transaction can be processed');
};
