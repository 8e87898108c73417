/**
 * The receive worker (receive-pool.ts): a worker thread with its own validator and search
 * row extractor, so that pulled resources are validated, and their index rows extracted,
 * beside the main thread's store and index writes.
 *
 * Messages in: { id, resources, decimals, rows, validate } (rows: also extract index rows, with
 * the official search parameters; validate false: rows only, of resources known to be
 * valid). Out: { ready } once loaded, then { id, reasons, rows? } per message.
 */
import { parentPort } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../fhir/definitions';
import { createValidator, errorReasons } from '../fhir/validation/validator';
import { createExtractor } from '../search/extract/extract';
import { VALIDATOR_FAILED } from './receive-pool';
import type { IndexRows } from '../search/extract/rows';
import { withDecimalTexts, type DecimalTexts } from '../../../shared/fhir/exact-json';

const validator = createValidator();
const extractor = createExtractor(loadDefinitions());

parentPort?.on('message', (msg: { id: number; resources: Resource[]; decimals?: Array<DecimalTexts | undefined>; rows?: boolean; validate?: boolean }) => {
  // Structured cloning drops the exact number texts (a symbol property): attach them again.
  msg.resources.forEach((r, i) => withDecimalTexts(r, msg.decimals?.[i]));
  const reasons = msg.resources.map((r) => {
    if (msg.validate === false) return []; // already valid: a commit's versions, for their rows
    try {
      return errorReasons(validator.validate(r));
    } catch {
      return [VALIDATOR_FAILED];
    }
  });
  let rows: Array<IndexRows | null> | undefined;
  if (msg.rows) rows = msg.resources.map((r, i) => (reasons[i]!.length === 0 ? extractor.extract(r) : null));
  parentPort?.postMessage({ id: msg.id, reasons, rows });
});
parentPort?.postMessage({ ready: true });
