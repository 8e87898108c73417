/** Checks of /flint JSON bodies, refusing with 400 in words the UI can show. */
import { badRequest } from '../../../shared/fhir/outcome';
import type { FlintApiRequest } from './types';

/** The body as an object with only the given members (a typo is refused, not ignored). */
export function objectBody(req: FlintApiRequest, allowed: readonly string[], example: string): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest(`Send a JSON object: ${example}`);
  const unknown = Object.keys(b).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw badRequest(`Unknown member${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k.slice(0, 64))).join(', ')}; allowed: ${allowed.join(', ')}`);
  return b as Record<string, unknown>;
}

export function stringMember(body: Record<string, unknown>, name: string, opts: { required: true }): string;
export function stringMember(body: Record<string, unknown>, name: string, opts?: { required?: boolean }): string | undefined;
export function stringMember(body: Record<string, unknown>, name: string, opts: { required?: boolean } = {}): string | undefined {
  const v = body[name];
  if (v === undefined) {
    if (opts.required) throw badRequest(`"${name}" is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw badRequest(`"${name}" must be a string`);
  if (opts.required && v.trim() === '') throw badRequest(`"${name}" must not be empty`);
  return v;
}

export function stringListMember(body: Record<string, unknown>, name: string): string[] | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`"${name}" must be a list of strings`);
  return v as string[];
}
