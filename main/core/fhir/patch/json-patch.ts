/**
 * RFC 6902 JSON Patch (`application/json-patch+json`) applied to a FHIR resource.
 *
 * The document is checked here before fast-json-patch sees it, so that every malformed
 * operation gets a 400 that names only its index (the library's own messages embed the
 * operation and the whole document, i.e. PHI). Failures that depend on the resource's
 * content (a failed `test`, a path that does not exist) are 422, as FHIR asks for
 * patches that are well formed but cannot be applied.
 *
 * Exact decimals (shared/fhir/exact-json.ts): the resource's kept texts go with it, those
 * at a location an operation writes are replaced by the texts of the value written (the
 * request's `1.10` stays `1.10`; read-body keeps them on the document), and move and copy
 * take the texts of what they move or copy.
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Resource } from '@medplum/fhirtypes';
import { carryDecimalTexts, decimalTextsUnder, replaceDecimalTextsUnder, textPath, type DecimalTexts } from '../../../../shared/fhir/exact-json';
import { badRequest, unprocessable, type FhirError } from '../../../../shared/fhir/outcome';
import { assertIdentityKept, cloneJson, isPlainObject } from './patch-json';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const NEEDS_VALUE = new Set(['add', 'replace', 'test']);
const NEEDS_FROM = new Set(['move', 'copy']);

/** Applies a JSON Patch to a copy of `resource`; the input is never modified. */
export function applyJsonPatch(resource: Resource, patch: unknown): Resource {
  // Both sides are copied: the library mutates the target and links patch values into it.
  const ops = cloneJson(validateJsonPatch(patch)) as Operation[];
  let target: unknown = carryDecimalTexts(resource, cloneJson(resource));
  // One operation at a time, because the library reports index 0 for errors its path
  // validation raises inside applyPatch; we know the real index here.
  ops.forEach((op, i) => {
    const from = 'from' in op ? pointerTextPath(op.from, target) : undefined;
    const carried: DecimalTexts | undefined =
      op.op === 'add' || op.op === 'replace' ? decimalTextsUnder(patch, `${i}.value`) : from !== undefined ? decimalTextsUnder(target, from) : undefined;
    try {
      target = jsonpatch.applyOperation(target, op, true, true, true, i).newDocument;
    } catch (e) {
      throw translateError(e, i, op.path);
    }
    if (op.op === 'test') return;
    if (op.op === 'move' && from !== undefined) target = replaceDecimalTextsUnder(target, from, undefined);
    const at = pointerTextPath(op.path, target);
    if (at !== undefined) target = replaceDecimalTextsUnder(target, at, op.op === 'remove' ? undefined : carried);
  });
  if (!isPlainObject(target)) throw badRequest('JSON Patch must leave a resource object');
  assertIdentityKept(resource, target);
  return target as unknown as Resource;
}

/**
 * A JSON Pointer as a path of exact-json's texts (`/component/0/valueQuantity` ->
 * `component.0.valueQuantity`), `-` resolved to the last item; undefined for the whole
 * document or a location that is not there.
 */
function pointerTextPath(pointer: string, doc: unknown): string | undefined {
  if (pointer === '') return undefined;
  const tokens = pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const steps: string[] = [];
  let node = doc;
  for (const token of tokens) {
    if (node === null || typeof node !== 'object') return undefined;
    const step = Array.isArray(node) && token === '-' ? String(node.length - 1) : token;
    steps.push(step);
    node = (node as Record<string, unknown>)[step];
  }
  return textPath(steps);
}

/** Structural check of the patch document (RFC 6902 section 4); throws 400 on the first fault. */
function validateJsonPatch(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw badRequest('JSON Patch document must be a JSON array of operations');
  patch.forEach((op: unknown, i) => {
    if (!isPlainObject(op)) throw badRequest(`JSON Patch operation ${i} must be an object`);
    if (typeof op.op !== 'string' || !OPS.has(op.op)) {
      throw badRequest(`JSON Patch operation ${i}: 'op' must be one of add, remove, replace, move, copy, test`);
    }
    if (!isPointer(op.path)) throw badRequest(`JSON Patch operation ${i}: 'path' must be a JSON Pointer`);
    if (NEEDS_FROM.has(op.op) && !isPointer(op.from)) {
      throw badRequest(`JSON Patch operation ${i}: '${op.op}' requires 'from' as a JSON Pointer`);
    }
    if (NEEDS_VALUE.has(op.op) && (!('value' in op) || op.value === undefined)) {
      throw badRequest(`JSON Patch operation ${i}: '${op.op}' requires 'value'`);
    }
    // RFC 6902 4.4: a location cannot be moved into one of its own children.
    if (op.op === 'move' && (op.path as string).startsWith(`${op.from as string}/`)) {
      throw badRequest(`JSON Patch operation ${i}: cannot move a location into its own child`);
    }
  });
  return patch as Operation[];
}

/** RFC 6901: empty (whole document) or '/'-separated tokens with only ~0 and ~1 escapes. */
function isPointer(p: unknown): p is string {
  return typeof p === 'string' && (p === '' || (p.startsWith('/') && !/~(?![01])/.test(p)));
}

const UNAPPLICABLE: Record<string, string> = {
  TEST_OPERATION_FAILED: 'test failed',
  OPERATION_PATH_UNRESOLVABLE: 'path does not exist in the resource',
  OPERATION_FROM_UNRESOLVABLE: "'from' does not exist in the resource",
  OPERATION_PATH_CANNOT_ADD: 'parent of path does not exist in the resource',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'array index in path is not a valid index',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'array index in path is beyond the end of the array',
};

/** Maps library errors to FhirErrors by code, index and pointer only; the library text holds PHI. */
function translateError(e: unknown, index: number, path: string): FhirError {
  const at = `JSON Patch operation ${index} (${path})`;
  if (e instanceof jsonpatch.JsonPatchError) {
    const reason = UNAPPLICABLE[e.name];
    return reason ? unprocessable(`${at}: ${reason}`) : badRequest(`${at} is malformed (${e.name})`);
  }
  // fast-json-patch throws a plain TypeError for __proto__/constructor paths.
  if (e instanceof TypeError) return badRequest('JSON Patch path addresses a forbidden property');
  throw e;
}
