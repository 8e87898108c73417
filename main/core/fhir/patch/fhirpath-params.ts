/**
 * Reading a FHIRPath Patch Parameters resource: the operation list, checked up front so a
 * malformed document is rejected (400) before anything is applied, and the conversion of
 * `value` parts into the JSON they stand for.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../../../../shared/fhir/outcome';
import { childTypePath, choiceTypes, isRepeating } from './fhirpath-model';
import { cloneJson, isPlainObject, type JsonObject } from './patch-json';

export type PatchType = 'add' | 'insert' | 'delete' | 'replace' | 'move';

export interface PatchOperation {
  /** Position in Parameters.parameter, used in diagnostics instead of any content. */
  at: number;
  type: PatchType;
  path: string;
  name?: string;
  value?: ParametersParameter;
  index?: number;
  source?: number;
  destination?: number;
}

/** A value ready to place: its JSON, the `_x` companion of a primitive, and its type suffix. */
export interface PatchValue {
  json: unknown;
  ext?: JsonObject;
  /** 'Quantity' for valueQuantity; absent when the value came as parts or a resource. */
  type?: string;
}

const TYPES = new Set<string>(['add', 'insert', 'delete', 'replace', 'move']);
const PART_NAMES = new Set(['type', 'path', 'name', 'value', 'index', 'source', 'destination']);
const REQUIRED: Record<PatchType, (keyof PatchOperation)[]> = {
  add: ['name', 'value'],
  insert: ['value', 'index'],
  delete: [],
  replace: ['value'],
  move: ['source', 'destination'],
};

export const where = (at: number): string[] => [`Parameters.parameter[${at}]`];

/** Validates the shape of the whole patch and returns its operations in order. */
export function readOperations(params: Parameters): PatchOperation[] {
  if (!isPlainObject(params) || params.resourceType !== 'Parameters') {
    throw badRequest('FHIRPath Patch body must be a Parameters resource');
  }
  const list: unknown = params.parameter ?? [];
  if (!Array.isArray(list)) throw badRequest('Parameters.parameter must be an array');
  return list.map((p: unknown, at) => readOperation(p, at));
}

function readOperation(p: unknown, at: number): PatchOperation {
  const fail = (why: string) => badRequest(`FHIRPath Patch operation ${at}: ${why}`, where(at));
  if (!isPlainObject(p) || p.name !== 'operation') throw fail("parameter name must be 'operation'");
  if (!Array.isArray(p.part)) throw fail('operation has no parts');
  const parts = new Map<string, ParametersParameter>();
  for (const part of p.part as unknown[]) {
    if (!isPlainObject(part) || typeof part.name !== 'string' || !PART_NAMES.has(part.name)) {
      throw fail('unknown or unnamed part');
    }
    if (parts.has(part.name)) throw fail(`part '${part.name}' is repeated`);
    parts.set(part.name, part as unknown as ParametersParameter);
  }
  // The spec types it as code; some clients send valueString, which carries the same text.
  const type = parts.get('type')?.valueCode ?? parts.get('type')?.valueString;
  if (!type || !TYPES.has(type)) throw fail("'type' must be one of add, insert, delete, replace, move");
  const path = parts.get('path')?.valueString;
  if (!path || !path.trim()) throw fail("'path' must be a non-empty string");
  const op: PatchOperation = { at, type: type as PatchType, path };
  const name = parts.get('name');
  if (name) {
    if (typeof name.valueString !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(name.valueString)) {
      throw fail("'name' must be an element name");
    }
    op.name = name.valueString;
  }
  const value = parts.get('value');
  if (value) op.value = value;
  for (const key of ['index', 'source', 'destination'] as const) {
    const part = parts.get(key);
    if (!part) continue;
    const n = part.valueInteger;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw fail(`'${key}' must be a non-negative integer`);
    op[key] = n;
  }
  for (const key of REQUIRED[op.type]) if (op[key] === undefined) throw fail(`'${op.type}' requires '${key}'`);
  return op;
}

/** The type suffix of a value[x] part ('String' for valueString), if it has one. */
export function valueTypeOf(part: ParametersParameter): string | undefined {
  const key = valueKeys(part)[0];
  return key?.slice('value'.length);
}

function valueKeys(part: object): string[] {
  return Object.keys(part).filter((k) => /^value[A-Z]/.test(k));
}

/**
 * Converts a `value` part to JSON. Complex values may come as value[x], as a resource, or
 * as nested parts named after the element's children (the only way to send a backbone
 * element); `typePath` is the element's type so nested parts know which children repeat
 * and which are choices.
 */
export function toValue(part: ParametersParameter, typePath: string | null, at: number): PatchValue {
  const fail = (why: string) => badRequest(`FHIRPath Patch operation ${at}: ${why}`, where(at));
  const keys = valueKeys(part);
  const forms = keys.length + (part.resource ? 1 : 0) + (part.part ? 1 : 0);
  if (forms !== 1) throw fail(forms === 0 ? 'a value is missing' : 'a value has more than one form');
  const [key] = keys;
  if (key) {
    const raw = part as unknown as JsonObject;
    const ext = raw[`_${key}`];
    const value: PatchValue = { json: cloneJson(raw[key]), type: key.slice('value'.length) };
    if (isPlainObject(ext)) value.ext = cloneJson(ext);
    return value;
  }
  if (part.resource) return { json: cloneJson(part.resource) };
  if (!Array.isArray(part.part)) throw fail('nested value parts must be an array');
  return { json: partsToObject(part.part, typePath, at) };
}

function partsToObject(parts: ParametersParameter[], typePath: string | null, at: number): JsonObject {
  const groups = new Map<string, ParametersParameter[]>();
  for (const p of parts) {
    if (!isPlainObject(p) || typeof p.name !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(p.name)) {
      throw badRequest(`FHIRPath Patch operation ${at}: a nested value part has no element name`, where(at));
    }
    groups.set(p.name, [...(groups.get(p.name) ?? []), p]);
  }
  const out: JsonObject = {};
  for (const [name, group] of groups) {
    // A choice child (Extension.value) is sent by its base name; its JSON key carries the type.
    const suffix = choiceTypes(typePath, name) ? valueTypeOf(group[0] as ParametersParameter) : undefined;
    const key = suffix ? name + suffix : name;
    const values = group.map((p) => toValue(p, childTypePath(typePath, key), at));
    if (values.length > 1 || isRepeating(typePath, name)) {
      out[key] = values.map((v) => v.json);
      if (values.some((v) => v.ext)) out[`_${key}`] = values.map((v) => v.ext ?? null);
    } else {
      const [v] = values as [PatchValue];
      out[key] = v.json;
      if (v.ext) out[`_${key}`] = v.ext;
    }
  }
  return out;
}
