/**
 * Two real Flint workstations (separate data dirs, ports and keychain entries) syncing
 * through one real pouchdb-server process, set up with the CLI as an administrator would:
 * `flint sync setup-remote` as the server admin, then `flint sync configure` on each.
 */
import type { Resource } from '@medplum/fhirtypes';
import { startCouchServer, type CouchServer } from './couch-server';
import type { FhirClient } from './fhir-client';
import { runFlint } from './flint-process';
import { removeDir, startWorkstation, tempDataDir, type RunningWorkstation } from './workstation';
import { UNTIL_DEFAULT_MS } from './until';

export interface SyncPair {
  couch: CouchServer;
  a: RunningWorkstation;
  b: RunningWorkstation;
  /** The clinic database URL. */
  remote: string;
  /** Starts a workstation again on its data dir (after stop or kill). */
  restart(which: 'a' | 'b'): Promise<RunningWorkstation>;
  close(): Promise<void>;
}

export const DB = 'clinic';

export async function configureSync(dataDir: string, remote: string, username: string, password: string, extra: string[] = []): Promise<void> {
  const r = await runFlint(['sync', 'configure', '--data-dir', dataDir, '--remote', remote, '--username', username, '--max-retry-delay', '2', ...extra], { input: `${password}\n` });
  if (r.code !== 0) throw new Error(`flint sync configure failed: ${r.stderr}`);
}

export async function startSyncPair(): Promise<SyncPair> {
  const couch = await startCouchServer();
  const remote = couch.dbUrl(DB);
  const setup = await runFlint(['sync', 'setup-remote', '--remote', remote, '--username', couch.admin.username, '--member', 'ws-a'], { input: `${couch.admin.password}\n` });
  if (setup.code !== 0) throw new Error(`setup-remote failed: ${setup.stderr}${setup.stdout}`);
  await couch.createUser('ws-a', 'pw-a', []);
  await couch.createUser('ws-b', 'pw-b', ['flint-workstation']);
  const dirs = { a: tempDataDir('flint-sync-a-'), b: tempDataDir('flint-sync-b-') };
  const pair: SyncPair = {
    couch,
    remote,
    a: undefined as unknown as RunningWorkstation,
    b: undefined as unknown as RunningWorkstation,
    async restart(which) {
      const ws = await startWorkstation({ dataDir: dirs[which] });
      pair[which] = ws;
      return ws;
    },
    async close() {
      await Promise.all([pair.a?.stop().catch(() => undefined), pair.b?.stop().catch(() => undefined)]);
      await couch.close();
      removeDir(dirs.a);
      removeDir(dirs.b);
    },
  };
  // Configured before the first start (the CLI works without a server), and each starts syncing at once.
  pair.a = await startWorkstation({ dataDir: dirs.a });
  pair.b = await startWorkstation({ dataDir: dirs.b });
  await configureSync(dirs.a, remote, 'ws-a', 'pw-a');
  await configureSync(dirs.b, remote, 'ws-b', 'pw-b');
  return pair;
}

/** Polls fn until it returns a value other than undefined (or throws after timeoutMs). */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = UNTIL_DEFAULT_MS, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The resource when the client reads it with the given versionId (or any, without). */
export async function readWhen(client: FhirClient, path: string, versionId?: string): Promise<Resource | undefined> {
  const r = await client.get(path);
  if (r.status !== 200) return undefined;
  if (versionId && r.body.meta?.versionId !== versionId) return undefined;
  return r.body;
}

export interface SyncStatusBody {
  configured: boolean;
  state: string;
  pending: number;
  auditPending: number;
  sent: number;
  received: number;
  quarantined: number;
  conflicts: number;
  message: string;
}

export async function syncStatus(ws: RunningWorkstation): Promise<SyncStatusBody> {
  const res = await fetch(new URL('/flint/sync', ws.baseUrl), { headers: { authorization: `Bearer ${ws.token}` } });
  return (await res.json()) as SyncStatusBody;
}

export async function flintApi<T = unknown>(ws: RunningWorkstation, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(`/flint/${path}`, ws.baseUrl), {
    method,
    headers: { authorization: `Bearer ${ws.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
