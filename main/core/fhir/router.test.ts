import { describe, expect, it } from 'vitest';
import type { FhirContext } from './context';
import { loadDefinitions } from './definitions';
import { createRouter } from './router';
import type { FhirRequest } from './types';

const defs = loadDefinitions();
const req = (method: string, path: string[]): FhirRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: {},
  baseUrl: 'http://127.0.0.1:1/fhir',
});

/** A context whose store fails the way a broken disk would, with PHI in the message. */
function failingContext(): FhirContext {
  const store = {
    head: async () => {
      throw new Error('cannot read Patient "Jane Roe, born 1970-01-01"');
    },
  };
  return { defs, store, settings: { defaultPageSize: 10, maxPageSize: 100 } } as unknown as FhirContext;
}

describe('router', () => {
  it('turns an unexpected fault into a 500 OperationOutcome that carries no request data, and logs no message', async () => {
    const logged: string[] = [];
    const handle = createRouter(failingContext(), (line) => logged.push(line));
    const res = await handle(req('GET', ['Patient', 'p1']));
    expect(res.status).toBe(500);
    expect(res.body?.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toContain('Jane');
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toContain('Jane');
    expect(logged[0]).toContain('unexpected Error');
  });

  it('answers 404 for unknown types and routes, 405 for known routes with another method', async () => {
    const handle = createRouter(failingContext(), () => undefined);
    expect((await handle(req('GET', ['Spaceship', '1']))).status).toBe(404);
    expect((await handle(req('GET', ['Patient', '1', 'x', 'y', 'z']))).status).toBe(404);
    expect((await handle(req('DELETE', ['metadata']))).status).toBe(405);
    expect((await handle(req('BREW', ['Patient']))).status).toBe(405);
  });

  it('never echoes a hostile path segment', async () => {
    const handle = createRouter(failingContext(), () => undefined);
    const res = await handle(req('GET', ['<script>alert(1)</script>']));
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('<script>');
  });
});
