/**
 * The world the SMART tests drive: Accounts on a temp dir (no keychain), a few users and
 * apps, a stub patient index, and helpers that act as the browser (posting a page's
 * hidden fields back) and as a backend service (signing assertions).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, expect } from 'vitest';
import { openAccounts, type Accounts } from '../accounts';
import { CLI_CLIENT_ID, CLI_SUBJECT } from '../principal';
import { JWT_BEARER } from './client-auth';
import { createAuthHandler, type AuthHandler, type AuthRequest, type AuthResponse } from './index';

export const ORIGIN = 'http://127.0.0.1:8787';
export const FHIR = `${ORIGIN}/fhir`;
export const TOKEN_URL = `${ORIGIN}/auth/token`;
export const CB = 'http://127.0.0.1:5000/cb';
export const PASSWORD = 'alice password 1';
export const PATIENTS = [
  { id: 'p1', name: 'Ann Smith', birthDate: '1980-02-03' },
  { id: 'p2', name: '<script>x()</script> "Bo"' },
];

/** Shared state, set up by useSmartWorld(); tests move `clock` forward only. */
export const w = {
  clock: Date.parse('2026-03-01T09:00:00Z'),
  accounts: undefined as unknown as Accounts,
  handle: undefined as unknown as AuthHandler,
  alice: undefined as unknown as { id: string },
  faults: [] as string[],
  patientQueries: [] as string[],
  failPatients: false,
  serviceKey: undefined as unknown as CryptoKey,
  otherKey: undefined as unknown as CryptoKey,
  serviceJwk: {} as Record<string, unknown>,
};

export function useSmartWorld(): void {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flint-smart-'));
    const master = randomBytes(32);
    const dataDir = {
      workstationId: 'smart1',
      storeFile: (name: string) => join(dir, `${name}.db`),
      purposeKey: (p: string) => Buffer.from(master.map((b, i) => b ^ p.charCodeAt(i % p.length))),
    };
    const accounts = (w.accounts = openAccounts(dataDir, () => w.clock));
    w.alice = await accounts.users.add({ username: 'alice', password: PASSWORD, roles: ['reader'], fhirUser: 'Practitioner/pr1' });
    await accounts.users.add({ username: 'bob', password: 'bob password 12', roles: ['reader'] });
    accounts.apps.add({
      clientId: 'charts',
      name: 'Charts <b>',
      redirectUris: [CB],
      scope: 'openid fhirUser launch/patient offline_access patient/*.rs user/*.rs',
    });
    accounts.apps.add({ clientId: 'other', name: 'Other', redirectUris: ['http://127.0.0.1:6000/cb'], scope: 'openid user/*.rs offline_access' });
    const pair = await generateKeyPair('ES384', { extractable: true });
    w.serviceKey = pair.privateKey;
    w.serviceJwk = { ...(await exportJWK(pair.publicKey)), kid: 'svc-1', alg: 'ES384' };
    accounts.apps.add({ clientId: 'svc', name: 'Exporter', jwks: { keys: [w.serviceJwk] }, scope: 'system/*.rs', role: 'exporter' });
    w.otherKey = (await generateKeyPair('ES384')).privateKey;
    w.handle = createAuthHandler({
      accounts,
      now: () => w.clock,
      logFault: (m) => w.faults.push(m),
      async findPatients(q) {
        if (w.failPatients) throw new Error('boom Ann Smith');
        w.patientQueries.push(q);
        return PATIENTS.filter((p) => p.name.toLowerCase().startsWith(q.toLowerCase()));
      },
      patientExists: async (id) => PATIENTS.some((p) => p.id === id),
    });
  });
  afterAll(() => {
    w.accounts.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export function call(method: string, endpoint: string, o: { query?: URLSearchParams; form?: URLSearchParams; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(o.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...o.headers };
  const req: AuthRequest = { method, path: [endpoint], query: o.query ?? new URLSearchParams(), headers, origin: ORIGIN };
  if (o.form) req.form = o.form;
  return w.handle(req);
}
export const post = (endpoint: string, form: Record<string, string> | URLSearchParams, headers?: Record<string, string>) =>
  call('POST', endpoint, { form: form instanceof URLSearchParams ? form : new URLSearchParams(form), ...(headers ? { headers } : {}) });
export const body = (r: AuthResponse) => JSON.parse(r.body ?? 'null') as Record<string, unknown>;

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeParams(challenge: string, over: Record<string, string | null> = {}): URLSearchParams {
  const p: Record<string, string | null> = {
    response_type: 'code',
    client_id: 'charts',
    redirect_uri: CB,
    scope: 'openid fhirUser launch/patient offline_access patient/*.rs',
    state: 'st-1',
    aud: FHIR,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...over,
  };
  return new URLSearchParams(Object.entries(p).filter((e): e is [string, string] => e[1] !== null));
}

export const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** The hidden fields of the page's form, as the browser would post them. */
export function hiddenFields(r: AuthResponse): URLSearchParams {
  const out = new URLSearchParams();
  for (const m of (r.body ?? '').matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) out.append(unescape(m[1]!), unescape(m[2]!));
  return out;
}
export function withFields(r: AuthResponse, extra: Record<string, string>): URLSearchParams {
  const f = hiddenFields(r);
  for (const [k, v] of Object.entries(extra)) f.set(k, v);
  return f;
}
export const location = (r: AuthResponse) => new URL(r.headers.Location!);

export async function loginPage(challenge: string, over: Record<string, string | null> = {}) {
  const page = await call('GET', 'authorize', { query: authorizeParams(challenge, over) });
  expect(page.status).toBe(200);
  return page;
}
export async function consentPage(challenge: string, over: Record<string, string | null> = {}, username = 'alice', password = PASSWORD) {
  const page = await loginPage(challenge, over);
  const consent = await post('authorize', withFields(page, { username, password }));
  expect(consent.body).toContain('Allow access?');
  return consent;
}
export async function codeFor(over: Record<string, string | null> = {}) {
  const { verifier, challenge } = pkce();
  const consent = await consentPage(challenge, over);
  const extra: Record<string, string> = { action: 'allow' };
  if (consent.body!.includes('name="patient"')) extra.patient = 'p1';
  const done = await post('authorize', withFields(consent, extra));
  expect(done.status).toBe(302);
  const url = location(done);
  expect(url.origin + url.pathname).toBe(over.redirect_uri ?? CB);
  return { code: url.searchParams.get('code')!, state: url.searchParams.get('state'), verifier };
}
export const exchange = (code: string, verifier: string, over: Record<string, string> = {}) =>
  post('token', { grant_type: 'authorization_code', code, redirect_uri: CB, client_id: 'charts', code_verifier: verifier, ...over });

export async function assertion(o: { key?: CryptoKey; alg?: string; aud?: string; expIn?: number; jti?: string; iss?: string } = {}) {
  const iat = Math.floor(w.clock / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? 'ES384', kid: 'svc-1', typ: 'JWT' })
    .setIssuer(o.iss ?? 'svc')
    .setSubject(o.iss ?? 'svc')
    .setAudience(o.aud ?? TOKEN_URL)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.expIn ?? 240))
    .setJti(o.jti ?? randomBytes(12).toString('base64url'))
    .sign(o.key ?? w.serviceKey);
}
export const backendToken = async (a: string, scope = 'system/Patient.rs') =>
  post('token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: a, scope });

export async function adminBearer() {
  const t = await w.accounts.tokens.issueAccess({ sub: CLI_SUBJECT, client_id: CLI_CLIENT_ID, scope: 'user/*.cruds' });
  return { authorization: `Bearer ${t.token}` };
}
