/**
 * Write planning shared by the single interactions and by transaction Bundles: given
 * the current heads (read under the caller's locks), decide what to write and which
 * status it earns, or throw the FhirError that rejects it. Nothing here writes; the
 * caller commits every planned write in one atomic store commit.
 */
import type { Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { badRequest, gone, invalidResource, notFound, preconditionFailed } from '../../../shared/fhir/outcome';
import type { HeadDoc } from '../store/documents';
import type { PendingWrite } from '../store/resource-store';
import type { FhirContext } from './context';
import { applyPatch } from './patch/index';
import { hasErrors } from './validation/validator';

export interface PlannedWrite {
  write: PendingWrite;
  /** 201 for a new resource, 200 otherwise. */
  status: 200 | 201;
}

export const newId = (): string => randomUUID();

/** Parses `W/"vid"` (or a bare `"vid"` / vid) from If-Match. */
export function parseETag(value: string): string {
  const m = /^\s*(?:W\/)?"?([^"]*)"?\s*$/.exec(value);
  return m?.[1] ?? value;
}

export function checkIfMatch(head: HeadDoc | undefined, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const want = parseETag(ifMatch);
  if (!head || head.deleted) throw preconditionFailed('If-Match given, but the resource does not exist');
  if (head.vid !== want) throw preconditionFailed('Version conflict: If-Match does not match the current version');
}

export function planCreate(type: string, resource: Resource, id: string = newId()): PlannedWrite {
  return { write: { type, id, method: 'POST', resource }, status: 201 };
}

export function planUpdate(
  type: string,
  id: string,
  resource: Resource,
  head: HeadDoc | undefined,
  opts: { ifMatch?: string | undefined; ifNoneMatch?: string | undefined } = {},
): PlannedWrite {
  checkIfMatch(head, opts.ifMatch);
  if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch.trim() === '*' && head && !head.deleted) {
    throw preconditionFailed('If-None-Match: * given, but the resource exists');
  }
  const exists = !!head && !head.deleted;
  return { write: { type, id, method: 'PUT', resource }, status: exists ? 200 : 201 };
}

/** Null when there is nothing to delete (absent or already deleted): delete is idempotent. */
export function planDelete(type: string, id: string, head: HeadDoc | undefined, ifMatch?: string): PlannedWrite | null {
  checkIfMatch(head, ifMatch);
  if (!head || head.deleted) return null;
  return { write: { type, id, method: 'DELETE' }, status: 200 };
}

export function planPatch(
  ctx: FhirContext,
  type: string,
  id: string,
  head: HeadDoc | undefined,
  patch: { contentType: string; body: unknown },
  ifMatch?: string,
): PlannedWrite {
  checkIfMatch(head, ifMatch);
  if (!head) throw notFound(`${type}/${id} is not known`);
  if (head.deleted || !head.resource) throw gone(`${type}/${id} has been deleted`);
  const patched = applyPatch(head.resource, patch.contentType, patch.body);
  if (patched.resourceType !== type || patched.id !== id) throw badRequest('A patch may not change resourceType or id');
  const issues = ctx.validator.validate(patched);
  if (hasErrors(issues)) throw invalidResource(issues);
  return { write: { type, id, method: 'PATCH', resource: patched }, status: 200 };
}
