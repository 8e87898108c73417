/** `/flint/reindex`, transport-free (over HTTP: test/integration/long-work.int.test.ts). */
import { firstValueFrom, toArray, type Observable } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessRecord } from '../audit/types';
import type { AuditRecorder } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import { parseScopes } from '../auth/scopes';
import { createReindexJob, type ReindexJob, type ReindexProgressFn } from '../search/reindex-job';
import { createReindexRoute } from './reindex';
import type { FlintApiResponse, FlintRoute } from './types';

const principal = (admin: boolean): Principal => ({
  subject: 'u1', username: 'ann', clientId: 'flint-ui', scopes: parseScopes('user/*.cruds'), permissions: [], admin, tokenId: 'j1',
}); // prettier-ignore

let records: AccessRecord[];
let job: ReindexJob<{ resources: number }>;
let route: FlintRoute;
let report: ReindexProgressFn;
let finish: (n: number) => void;
let failRecords = false;

beforeEach(() => {
  records = [];
  failRecords = false;
  const audit = {
    record: async (rs: AccessRecord[]) => {
      if (failRecords) throw new Error('the audit trail is full');
      records.push(...rs);
    },
  } as unknown as AuditRecorder;
  job = createReindexJob({
    estimate: () => 7,
    run: (onProgress) => {
      report = onProgress;
      return new Promise((resolve) => (finish = (resources) => resolve({ resources })));
    },
    intervalMs: 0,
  });
  route = createReindexRoute({ job, audit, now: () => new Date('2026-03-01T08:00:00.000Z') });
});

const call = (method: string, path: string[] = [], admin = true) =>
  route.handle({ method, path: ['reindex', ...path], query: new URLSearchParams(), principal: principal(admin), address: '127.0.0.1' });
const bodyOf = (r: FlintApiResponse) => (r as { body: unknown }).body;

describe('/flint/reindex', () => {
  it('POST starts the job (202, running, audited as $reindex); GET and the events follow it to done', async () => {
    expect(bodyOf(await call('GET'))).toEqual({ state: 'idle', processed: 0, total: 0 });
    const started = await call('POST');
    expect(started.status).toBe(202);
    expect(bodyOf(started)).toMatchObject({ state: 'running', processed: 0, total: 7, startedAt: expect.any(String) });
    expect(records).toEqual([
      { interaction: 'operation', operation: '$reindex', status: 202, agent: { userId: 'u1', username: 'ann', clientId: 'flint-ui', address: '127.0.0.1' }, patients: [], recorded: new Date('2026-03-01T08:00:00.000Z') },
    ]);

    const events = await call('GET', ['events']);
    expect(events).toMatchObject({ status: 200, eventName: 'progress' });
    const seen = firstValueFrom((events as { events: Observable<{ state: string; processed: number }> }).events.pipe(toArray()));
    report(3, 7);
    expect(bodyOf(await call('GET'))).toMatchObject({ state: 'running', processed: 3, total: 7 });
    finish(7);
    expect((await seen).map((s) => `${s.state} ${s.processed}`)).toEqual(['running 0', 'running 3', 'done 7']);
    expect(bodyOf(await call('GET'))).toMatchObject({ state: 'done', processed: 7, total: 7, finishedAt: expect.any(String) });
  });

  it('a second start while one runs is 409, and recorded so', async () => {
    expect((await call('POST')).status).toBe(202);
    await expect(call('POST')).rejects.toMatchObject({ status: 409 });
    expect(records.map((r) => r.status)).toEqual([202, 409]);
    finish(7);
  });

  it('is for admins only: 403 on every path and method, the refused start recorded, nothing started', async () => {
    for (const [method, path] of [['GET', []], ['GET', ['events']], ['POST', []], ['DELETE', []], ['GET', ['nope']]] as Array<[string, string[]]>) {
      await expect(call(method, path, false), `${method} ${path.join('/')}`).rejects.toMatchObject({ status: 403 });
    }
    expect(records.map((r) => [r.operation, r.status])).toEqual([['$reindex', 403]]);
    expect(job.status().state).toBe('idle');
  });

  it('answers 404 and 405 to admins where due', async () => {
    await expect(call('GET', ['nope'])).rejects.toMatchObject({ status: 404 });
    await expect(call('GET', ['events', 'x'])).rejects.toMatchObject({ status: 404 });
    await expect(call('DELETE')).rejects.toMatchObject({ status: 405 });
    await expect(call('POST', ['events'])).rejects.toMatchObject({ status: 405 });
  });

  it('withholds the answer (500) when the start cannot be recorded', async () => {
    failRecords = true;
    await expect(call('POST')).rejects.toMatchObject({ status: 500 });
    // Recorded after the start, as $reindex and admin changes are: the job (no data change) runs.
    expect(job.status().state).toBe('running');
    finish(7);
  });
});
