/**
 * FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a Parameters resource whose
 * `operation` parameters add, insert, delete, replace or move elements addressed by
 * FHIRPath. Operations apply in order to one copy of the resource; the first failure
 * aborts the whole patch, so a caller never sees a half-applied result.
 *
 * Status codes: a patch that is wrong whatever the resource holds (bad shape, bad
 * FHIRPath, a type the element cannot take, touching id/resourceType) is 400; a patch
 * that does not fit this resource's current content (no match, several matches, index
 * out of range, adding to an element that is already set) is 422, the same split as a
 * failed JSON Patch `test`.
 *
 * Exact decimals: the resource's kept texts stay with the numbers the patch leaves alone,
 * and a value is written with the text it was sent with (patch-decimals.ts).
 */
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { ResourceNode } from 'fhirpath';
import { badRequest, unprocessable, type FhirError } from '../../../../shared/fhir/outcome';
import { addTarget, evaluate, has, listOf, padded, single, slotOf, type Slot } from './fhirpath-locate';
import { childTypePath, choiceOf, choiceTypes, isRepeating } from './fhirpath-model';
import { readOperations, toValue, valueTypeOf, where, type PatchOperation, type PatchValue } from './fhirpath-params';
import { decimalTextsOf, type DecimalTexts } from '../../../../shared/fhir/exact-json';
import { assertIdentityKept, cloneJson, pruneEmpty, type JsonObject } from './patch-json';
import { collect, distribute, forget, place, valueTexts } from './patch-decimals';

/** Applies a FHIRPath Patch to a copy of `resource`; the input is never modified. */
export function applyFhirPathPatch(resource: Resource, params: Parameters): Resource {
  const ops = readOperations(params);
  const root = cloneJson(resource) as unknown as JsonObject;
  distribute(root, decimalTextsOf(resource));
  for (const op of ops) {
    APPLY[op.type](root, op, valueTexts(params, op.at, op.value));
    // Deletions leave empty objects/lists that FHIR JSON forbids and later paths would see.
    pruneEmpty(root);
  }
  assertIdentityKept(resource, root);
  return collect(root) as unknown as Resource;
}

/** `texts`: the exact texts of the operation's value, relative to it. */
type Apply = (root: JsonObject, op: PatchOperation, texts: DecimalTexts | undefined) => void;

const invalid = (op: PatchOperation, why: string): FhirError =>
  badRequest(`FHIRPath Patch operation ${op.at} (${op.type}): ${why}`, where(op.at));
const unfit = (op: PatchOperation, why: string): FhirError =>
  unprocessable(`FHIRPath Patch operation ${op.at} (${op.type}): ${why}`, where(op.at));

const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** Writes a value (and its primitive companion) at owner[key] or owner[key][index]. */
function put(owner: JsonObject, key: string, index: number | null, value: PatchValue, texts: DecimalTexts | undefined): void {
  const ext = `_${key}`;
  if (index === null) {
    owner[key] = value.json;
    place(owner, key, value.json, texts);
    // The old element's id/extensions belong to the element being replaced.
    if (value.ext) owner[ext] = value.ext;
    else delete owner[ext];
    return;
  }
  const length = Math.max(len(owner[key]), len(owner[ext]), index + 1);
  padded(owner, key, length)[index] = value.json;
  distribute(value.json, texts);
  if (value.ext || Array.isArray(owner[ext])) padded(owner, ext, length)[index] = value.ext ?? null;
}

/** Concrete key for an element named in `add`: a choice base takes the value's type. */
function keyFor(op: PatchOperation, ownerType: string | null, name: string, part: ParametersParameter): string {
  const types = choiceTypes(ownerType, name);
  if (!types) return name;
  const type = valueTypeOf(part);
  if (!type) throw invalid(op, 'a choice element needs a value[x] to tell its type');
  if (!types.includes(type)) throw invalid(op, 'the value type is not allowed for this choice element');
  return name + type;
}

const add: Apply = (root, op, texts) => {
  const name = op.name as string;
  const part = op.value as ParametersParameter;
  const node = single(root, op.path, op.at, 'add');
  const ownerType = node.path;
  const key = keyFor(op, ownerType, name, part);
  const owner = addTarget(root, node, op.at);
  const value = toValue(part, childTypePath(ownerType, key), op.at);
  const current = owner[key];
  if (Array.isArray(current) || Array.isArray(owner[`_${key}`]) || (current === undefined && isRepeating(ownerType, name))) {
    put(owner, key, Math.max(len(current), len(owner[`_${key}`])), value, texts);
    return;
  }
  const choice = choiceOf(ownerType, key);
  if (has(owner, key) || choice?.types.some((t) => has(owner, choice.base + t))) {
    throw unfit(op, 'the element already has a value; use replace');
  }
  put(owner, key, null, value, texts);
};

const insert: Apply = (root, op, texts) => {
  const { owner, key, ownerType } = listOf(root, op.path, op.at);
  const ext = `_${key}`;
  if (owner[key] !== undefined && !Array.isArray(owner[key])) throw unfit(op, 'path does not select a list');
  const length = Math.max(len(owner[key]), len(owner[ext]));
  const index = op.index as number;
  if (index > length) throw unfit(op, `index is beyond the end of the list (length ${length})`);
  const value = toValue(op.value as ParametersParameter, childTypePath(ownerType, key), op.at);
  padded(owner, key, length).splice(index, 0, value.json);
  distribute(value.json, texts);
  if (value.ext || Array.isArray(owner[ext])) padded(owner, ext, length).splice(index, 0, value.ext ?? null);
};

const move: Apply = (root, op) => {
  const { owner, key } = listOf(root, op.path, op.at);
  const ext = `_${key}`;
  const length = Math.max(len(owner[key]), len(owner[ext]));
  const source = op.source as number;
  const destination = op.destination as number;
  if (source >= length || destination >= length) {
    throw unfit(op, `source and destination must be below the list length (${length})`);
  }
  // Value and companion lists move together so extensions stay with their values.
  for (const k of [key, ext]) {
    if (!Array.isArray(owner[k])) continue;
    const list = padded(owner, k, length);
    const [item] = list.splice(source, 1);
    list.splice(destination, 0, item);
  }
};

const replace: Apply = (root, op, texts) => {
  const part = op.value as ParametersParameter;
  const node: ResourceNode = single(root, op.path, op.at, 'replace');
  const slot = slotOf(root, node, op.at);
  if (slot === 'root') throw invalid(op, 'the resource itself cannot be replaced; use update');
  let key = slot.key;
  // Observation.value may hold valueQuantity; a valueString replacement changes the key.
  const choice = choiceOf(slot.ownerType, slot.key);
  const type = valueTypeOf(part);
  if (choice && type) {
    if (!choice.types.includes(type)) throw invalid(op, 'the value type is not allowed for this choice element');
    key = choice.base + type;
    if (key !== slot.key) remove({ ...slot, index: null });
  }
  const value = toValue(part, childTypePath(slot.ownerType, key) ?? node.path, op.at);
  put(slot.owner, key, slot.index, value, texts);
};

/** Removes an element and, for list entries, the matching companion entry. */
function remove(slot: Slot): void {
  const ext = `_${slot.key}`;
  if (slot.index === null) {
    delete slot.owner[slot.key];
    delete slot.owner[ext];
    forget(slot.owner, slot.key);
    return;
  }
  for (const k of [slot.key, ext]) {
    const list = slot.owner[k];
    if (Array.isArray(list) && slot.index < list.length) list.splice(slot.index, 1);
  }
}

const del: Apply = (root, op) => {
  const nodes = evaluate(root, op.path, op.at);
  // The spec: delete of something absent is not an error; several matches are.
  if (nodes.length === 0) return;
  if (nodes.length > 1) throw unfit(op, `path matched ${nodes.length} elements; delete needs at most one`);
  const slot = slotOf(root, nodes[0] as ResourceNode, op.at);
  if (slot === 'root') throw invalid(op, 'the resource itself cannot be deleted by a patch');
  remove(slot);
};

const APPLY: Record<PatchOperation['type'], Apply> = { add, insert, delete: del, replace, move };
