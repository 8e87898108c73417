/**
 * A real CouchDB-protocol server for tests: pouchdb-server@4.2.0 (a devDependency) run as
 * a child process on 127.0.0.1 and a free port, in a temp dir of its own (its cwd, its
 * `--dir`, its config and log), with one server admin whose password is random. Apache
 * CouchDB is not installable here (../shared/FINDINGS.md); pouchdb-server speaks its HTTP
 * API on top of PouchDB.
 *
 * What pouchdb-server 4.2.0 does and does not do, found by trying it (Node 20, leveldb):
 * - validate_doc_update functions in design documents ARE enforced: for members and for
 *   server admins alike, for PUT, DELETE and `_bulk_docs` (with `new_edits: false` too).
 *   They are not run for `_local/` documents. Unlike CouchDB, it also runs them (with the
 *   stored document as oldDoc) when a `new_edits: false` write replays a revision the
 *   database already has: a validator that refuses updates refuses such a replay
 *   ("forbidden"), where CouchDB would accept it as a no-op. Pushers must tolerate that.
 * - `_security` members ARE enforced: a user who is not a member (and anonymous) cannot
 *   read or write the database. The refusal is 401 `unauthorized` where CouchDB answers
 *   an authenticated non-member with 403 `forbidden`; a member writing a `_design/`
 *   document gets 401 too. A member may not write `_security`.
 * - `_users` works: a server admin creates `org.couchdb.user:<name>` documents with a
 *   plain `password`, which the server hashes (pbkdf2); that user then logs in with Basic
 *   auth (and `_session`). A wrong password is 401 "Name or password is incorrect.".
 * - `--config` is rewritten by the server (admin passwords are hashed in place), so a
 *   restart with the same file keeps the same admin.
 * - Known bug (issue 374): a non-admin `PUT /<newdb>` crashes the whole process. Never
 *   do that; createDatabase() creates databases as the admin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UNTIL_DEFAULT_MS } from './until';

const require = createRequire(import.meta.url);
const BIN = join(dirname(require.resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');

export interface Credentials {
  username: string;
  password: string;
}

export interface CouchReply {
  status: number;
  /** The parsed body (or its text, if it was not JSON; undefined if empty). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CouchServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  /** The server admin. */
  admin: Credentials;
  /** The server's temp dir: its cwd, config.json, log.txt and data/ (the `--dir`). */
  dir: string;
  /** The URL of a database on this server. */
  dbUrl(name: string): string;
  /** SIGTERM, wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit. */
  kill(): Promise<void>;
  /** Stops it if running and starts it again on the same port and dir (in-memory data is lost). */
  restart(): Promise<void>;
  /** Creates (or replaces the password and roles of) a user in `_users`; it can then log in with Basic auth. */
  createUser(name: string, password: string, roles?: string[]): Promise<void>;
  /** Creates a database as the admin and, with `members`, sets its `_security` right away. */
  createDatabase(name: string, members?: string[]): Promise<void>;
  /** One JSON request; admin credentials unless `auth` is given (null: anonymous). */
  request(method: string, path: string, body?: unknown, auth?: Credentials | null): Promise<CouchReply>;
  /** What the process printed (the tail), for failure messages. */
  output(): string;
  /** Stops the server and removes its dir. */
  close(): Promise<void>;
}

export interface CouchServerOptions {
  /** `--in-memory`: nothing kept across restarts, starts faster. */
  inMemory?: boolean;
  /** How long to wait for it to answer `GET /` (default 30 s). */
  timeoutMs?: number;
}

/** Every server process started here, killed if the test process exits without closing them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startCouchServer(opts: CouchServerOptions = {}): Promise<CouchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'flint-couch-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const admin: Credentials = { username: 'admin', password: randomBytes(18).toString('base64url') };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, `${JSON.stringify({ admins: { [admin.username]: admin.password }, log: { file: join(dir, 'log.txt') } })}\n`);

  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';

  const launch = async (): Promise<void> => {
    const args = [BIN, '--host', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--config', configFile, '--no-color'];
    if (opts.inMemory) args.push('--in-memory');
    const proc = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let gone = false;
    exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        gone = true;
        live.delete(proc);
        resolve();
      }),
    );
    const deadline = Date.now() + (opts.timeoutMs ?? UNTIL_DEFAULT_MS);
    for (;;) {
      if (gone) throw new Error(`pouchdb-server exited before answering; output:\n${out}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        const body = (await res.json()) as { version?: string };
        if (res.ok && body.version) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`pouchdb-server did not answer within ${opts.timeoutMs ?? UNTIL_DEFAULT_MS} ms; output:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };

  // A free port can be taken between the probe and the server's listen: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (e) {
      await halt('SIGKILL');
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }

  const url = `http://127.0.0.1:${port}`;
  const request = async (method: string, path: string, body?: unknown, auth: Credentials | null = admin): Promise<CouchReply> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) headers['Authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const res = await fetch(`${url}${path.startsWith('/') ? '' : '/'}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
  const expectOk = (what: string, r: CouchReply): void => {
    if (r.status < 200 || r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  };

  return {
    url,
    port,
    admin,
    dir,
    dbUrl: (name) => `${url}/${encodeURIComponent(name)}`,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    async createUser(name, password, roles = []) {
      const id = `org.couchdb.user:${name}`;
      const path = `/_users/${encodeURIComponent(id)}`;
      const existing = await request('GET', path);
      const doc: Record<string, unknown> = { _id: id, name, password, roles, type: 'user' };
      if (existing.status === 200) doc['_rev'] = existing.json._rev;
      expectOk(`creating user ${name}`, await request('PUT', path, doc));
    },
    async createDatabase(name, members) {
      expectOk(`creating database ${name}`, await request('PUT', `/${encodeURIComponent(name)}`));
      if (members) {
        const security = { admins: { names: [], roles: [] }, members: { names: members, roles: [] } };
        expectOk(`setting _security of ${name}`, await request('PUT', `/${encodeURIComponent(name)}/_security`, security));
      }
    },
    request,
    output: () => out,
    async close() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Ports for the server, below Linux's ephemeral range (32768-60999 by default). restart()
 * stops the server and starts it again on its port; had the OS picked that port, any
 * process's outgoing connection could take it as its own local port meanwhile (and
 * listeners on port 0 are given ports in that range too).
 */
const PORTS = { from: 20_000, to: 32_000 };

/** A port below the ephemeral range that nobody listens on right now. */
async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from));
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt >= 50) throw new Error(`no free port between ${PORTS.from} and ${PORTS.to}`);
  }
}
