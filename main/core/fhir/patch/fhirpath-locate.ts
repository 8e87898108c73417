/**
 * Turning FHIRPath results into places in the JSON tree that can be edited.
 *
 * fhirpath.js (with resolveInternalTypes: false) returns ResourceNodes that remember
 * their parent node, the property name they were read from and their index in a list.
 * The parent's data is the very object inside the tree we evaluated (objects are never
 * copied), so parent + property + index is an exact address, for primitives too. Two
 * details the node does not spell out are recovered here: a choice element reports its
 * base name ('value'), so the concrete key ('valueQuantity') is found on the owner; and
 * children of a primitive (its id/extension) live in the `_name` companion object.
 */
import fhirpath from 'fhirpath';
import type { ResourceNode } from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { badRequest, unprocessable } from '../../../../shared/fhir/outcome';
import { isRepeating } from './fhirpath-model';
import { where } from './fhirpath-params';
import { isPlainObject, type JsonObject } from './patch-json';

/** Where an element lives: `owner[key]`, or `owner[key][index]` for list entries. */
export interface Slot {
  owner: JsonObject;
  key: string;
  index: number | null;
  /** Type path of the owner, for model questions about `key`. */
  ownerType: string | null;
}

/** A list property, which may not exist yet (insert into an empty list). */
export interface ListSlot {
  owner: JsonObject;
  key: string;
  ownerType: string | null;
}

const isNode = (v: unknown): v is ResourceNode =>
  typeof v === 'object' && v !== null && 'parentResNode' in v && 'data' in v;

export const has = (owner: JsonObject, key: string): boolean =>
  owner[key] !== undefined || owner[`_${key}`] !== undefined;

/** Evaluates `path` on `root`; expression errors (syntax, unsupported functions) are 400. */
export function evaluate(root: JsonObject, path: string, at: number): ResourceNode[] {
  let out: unknown;
  try {
    out = fhirpath.evaluate(root, path, {}, r4model, { resolveInternalTypes: false });
  } catch {
    throw badRequest(`FHIRPath Patch operation ${at}: path could not be evaluated`, where(at));
  }
  const nodes = Array.isArray(out) ? (out as unknown[]) : [];
  if (!nodes.every(isNode)) {
    throw badRequest(`FHIRPath Patch operation ${at}: path must select elements of the resource`, where(at));
  }
  return nodes;
}

/** Evaluates `path` and requires exactly one element, as add and replace do. */
export function single(root: JsonObject, path: string, at: number, what: string): ResourceNode {
  const nodes = evaluate(root, path, at);
  if (nodes.length !== 1) {
    const n = nodes.length === 0 ? 'no element' : `${nodes.length} elements`;
    throw unprocessable(`FHIRPath Patch operation ${at}: path matched ${n}; ${what} needs exactly one`, where(at));
  }
  return nodes[0] as ResourceNode;
}

/** The object that holds a node's children: its data, or the companion of a primitive. */
function childOwner(node: ResourceNode): JsonObject | null {
  if (isPlainObject(node.data)) return node.data;
  return isPlainObject(node._data) ? node._data : null;
}

/** Locates `node` in the tree; 'root' for the resource itself; throws if it is not in it. */
export function slotOf(root: JsonObject, node: ResourceNode, at: number): Slot | 'root' {
  const parent = node.parentResNode;
  if (!parent) {
    if (node.data === root) return 'root';
    const found = isPlainObject(node.data) ? findByIdentity(root, node.data) : null;
    if (found) return found;
  } else {
    const owner = childOwner(parent);
    const key = owner && node.propName ? concreteKey(owner, node.propName, node.fhirNodeDataType) : null;
    if (owner && key) {
      const index = typeof node.index === 'number' ? node.index : null;
      const slot: Slot = { owner, key, index, ownerType: parent.path };
      const here = index === null ? owner[key] : (owner[key] as unknown[] | undefined)?.[index];
      // Objects must be the very same object; primitives were unwrapped, so trust the address.
      if (!isPlainObject(node.data) || here === node.data) return slot;
    }
  }
  throw badRequest(`FHIRPath Patch operation ${at}: path does not address an element of the resource`, where(at));
}

/** The JSON key a node was read from: its property name, or name+Type for a choice. */
function concreteKey(owner: JsonObject, propName: string, type: string | null): string | null {
  if (has(owner, propName)) return propName;
  if (type) {
    const typed = propName + type.charAt(0).toUpperCase() + type.slice(1);
    if (has(owner, typed)) return typed;
  }
  for (const k of Object.keys(owner)) {
    const bare = k.startsWith('_') ? k.slice(1) : k;
    const next = bare.charAt(propName.length);
    if (bare.startsWith(propName) && next >= 'A' && next <= 'Z') return bare;
  }
  return null;
}

/** Fallback for nodes built without a parent by some FHIRPath functions: search by identity. */
function findByIdentity(owner: JsonObject, target: JsonObject): Slot | null {
  for (const [key, v] of Object.entries(owner)) {
    const items = Array.isArray(v) ? v : [v];
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      if (item === target) return { owner, key, index: Array.isArray(v) ? i : null, ownerType: null };
      if (isPlainObject(item)) {
        const found = findByIdentity(item, target);
        if (found) return found;
      }
    }
  }
  return null;
}

/**
 * The list a path names (insert/move: "Path of the collection"). Every selected element
 * must be an entry of one and the same list. When nothing is selected the list may be
 * empty or absent, so the last `.name` step is resolved against its single parent.
 */
export function listOf(root: JsonObject, path: string, at: number): ListSlot {
  const nodes = evaluate(root, path, at);
  const notList = () =>
    unprocessable(`FHIRPath Patch operation ${at}: path does not select a single list`, where(at));
  if (nodes.length > 0) {
    const slots = nodes.map((n) => slotOf(root, n, at));
    const [first] = slots;
    if (!first || first === 'root' || first.index === null) throw notList();
    for (const s of slots) if (s === 'root' || s.owner !== first.owner || s.key !== first.key) throw notList();
    return { owner: first.owner, key: first.key, ownerType: first.ownerType };
  }
  const step = /^(.+)\.([A-Za-z][A-Za-z0-9]*)$/.exec(path.trim());
  if (!step) throw notList();
  const [, parentPath = '', key = ''] = step;
  const parent = single(root, parentPath, at, 'the parent of a list');
  const owner = childOwner(parent);
  if (!owner || !isRepeating(parent.path, key)) throw notList();
  return { owner, key, ownerType: parent.path };
}

/** The object to add a child to: the node's own object, or a primitive's `_name` companion. */
export function addTarget(root: JsonObject, node: ResourceNode, at: number): JsonObject {
  const own = childOwner(node);
  if (own) return own;
  const slot = slotOf(root, node, at);
  if (slot === 'root') return root;
  const ext = `_${slot.key}`;
  if (slot.index === null) {
    const companion = isPlainObject(slot.owner[ext]) ? (slot.owner[ext] as JsonObject) : {};
    slot.owner[ext] = companion;
    return companion;
  }
  const values = slot.owner[slot.key];
  const list = padded(slot.owner, ext, Array.isArray(values) ? values.length : 0);
  const companion = isPlainObject(list[slot.index]) ? (list[slot.index] as JsonObject) : {};
  list[slot.index] = companion;
  return companion;
}

/** `owner[key]` as an array at least `length` long, padded with nulls (companion lists). */
export function padded(owner: JsonObject, key: string, length: number): unknown[] {
  const list: unknown[] = Array.isArray(owner[key]) ? (owner[key] as unknown[]) : [];
  while (list.length < length) list.push(null);
  owner[key] = list;
  return list;
}
