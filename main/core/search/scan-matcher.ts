/**
 * Evaluates parsed criteria against resources by scanning the heads of one type and
 * extracting values with the definitions' FHIRPath expressions. It serves conditional
 * interactions and simple type-level search until the persistent search index (issue 3)
 * replaces the scan; its semantics follow the R4 search page for the types it supports.
 */
import type { Resource } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import type { HeadDoc } from '../store/documents';
import type { ResourceStore } from '../store/resource-store';
import { splitToken, unescapeValue, type Filter } from './criteria';

type Compiled = (resource: unknown) => unknown[];

export class ScanMatcher {
  private readonly compiled = new Map<string, Compiled>();

  constructor(private readonly store: ResourceStore) {}

  async match(type: string, filters: Filter[], limit = Infinity): Promise<HeadDoc[]> {
    const out: HeadDoc[] = [];
    for await (const head of this.store.scanHeads(type)) {
      if (head.resource && this.matches(head.resource, filters)) {
        out.push(head);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  matches(resource: Resource, filters: Filter[]): boolean {
    return filters.every((f) => {
      const values = this.extract(resource, f.param.expression);
      const any = f.values.some((v) => values.some((x) => matchValue(f, x, v)));
      return f.modifier === 'not' ? !any : any;
    });
  }

  private extract(resource: Resource, expression: string): unknown[] {
    let fn = this.compiled.get(expression);
    if (!fn) {
      const compiled = fhirpath.compile(expression, r4model);
      fn = (r: unknown) => {
        try {
          return compiled(r as object) as unknown[];
        } catch {
          return [];
        }
      };
      this.compiled.set(expression, fn);
    }
    return fn(resource);
  }
}

function matchValue(f: Filter, value: unknown, query: string): boolean {
  switch (f.param.type) {
    case 'token':
      return matchToken(value, query);
    case 'string':
      return matchString(value, unescapeValue(query), f.modifier);
    case 'reference':
      return matchReference(value, unescapeValue(query));
    case 'uri':
      return typeof value === 'string' && value === unescapeValue(query);
    default:
      return false;
  }
}

interface Coded {
  system?: string;
  code?: string;
}

function codesOf(value: unknown): Coded[] {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return [{ code: String(value) }];
  if (!value || typeof value !== 'object') return [];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.coding)) return v.coding.flatMap(codesOf);
  const system = typeof v.system === 'string' ? v.system : undefined;
  const code = typeof v.code === 'string' ? v.code : typeof v.value === 'string' ? v.value : undefined;
  const out: Coded = {};
  if (system !== undefined) out.system = system;
  if (code !== undefined) out.code = code;
  return [out];
}

function matchToken(value: unknown, query: string): boolean {
  const q = splitToken(query);
  return codesOf(value).some((c) => {
    if (q.system === undefined) return c.code === q.code;
    if (q.system === '') return c.system === undefined && c.code === q.code;
    if (c.system !== q.system) return false;
    return q.code === undefined || c.code === q.code;
  });
}

export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>)
    .filter(([k]) => !['extension', 'id', 'period', 'use', 'type'].includes(k))
    .flatMap(([, v]) => (Array.isArray(v) ? v.flatMap(stringsOf) : stringsOf(v)));
}

function matchString(value: unknown, query: string, modifier?: string): boolean {
  const q = modifier === 'exact' ? query : normalizeString(query);
  return stringsOf(value).some((s) => {
    if (modifier === 'exact') return s === q;
    const n = normalizeString(s);
    return modifier === 'contains' ? n.includes(q) : n.startsWith(q);
  });
}

function matchReference(value: unknown, query: string): boolean {
  const ref = typeof value === 'string' ? value : (value as { reference?: unknown } | null)?.reference;
  if (typeof ref !== 'string') return false;
  if (ref === query) return true;
  // `123` matches `Patient/123`; `Patient/123` matches `http://base/Patient/123`.
  const refTail = ref.split('/').slice(-2);
  const qTail = query.split('/').slice(-2);
  if (!query.includes('/')) return refTail[1] === query;
  return refTail[0] === qTail[0] && refTail[1] === qTail[1] && !query.includes('://');
}
