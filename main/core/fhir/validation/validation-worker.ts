/**
 * The validation worker (validation-pool.ts): a worker thread with its own validator, so
 * that validating a pulled batch runs beside the main thread's store and index work.
 * Messages: { id, resources } in, { id, reasons } out (reasons as errorReasons() gives them).
 */
import { parentPort } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { createValidator, errorReasons } from './validator';

const validator = createValidator();

parentPort?.on('message', (msg: { id: number; resources: Resource[] }) => {
  const reasons = msg.resources.map((r) => {
    try {
      return errorReasons(validator.validate(r));
    } catch {
      return ['exception at the resource: the validator failed on it'];
    }
  });
  parentPort?.postMessage({ id: msg.id, reasons });
});
