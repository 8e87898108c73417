/**
 * The SMART standalone launch over plain HTTP, no browser: what a user agent does with
 * Flint's sign-in pages (GET /auth/authorize, post the login form, post the consent form,
 * read the code from the redirect), then the token endpoint. Redirects are never
 * followed, so a test sees each 302 and its Location. /auth is rate limited: a 429 is
 * waited out (Retry-After) and the request sent again, since the server did nothing else.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Pkce {
  verifier: string;
  challenge: string;
}

export const newPkce = (): Pkce => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fetch without following redirects; a 429 is retried after its Retry-After (a few times). */
export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { ...init, redirect: 'manual' });
    const text = await res.text();
    const wait = Number(res.headers.get('retry-after') ?? 1);
    if (res.status !== 429 || attempt >= 5) return { status: res.status, headers: res.headers, text };
    await sleep(wait * 1000 + 100);
  }
}

export const postForm = (url: string, fields: URLSearchParams | Record<string, string>) =>
  send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);

/** The hidden inputs of a page's form, as the browser would post them. */
export function hiddenFields(html: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) out.append(unescape(m[1]!), unescape(m[2]!));
  return out;
}

export const radioValues = (html: string, name: string): string[] =>
  [...html.matchAll(new RegExp(`<input type="radio" name="${name}" value="([^"]*)"`, 'g'))].map((m) => unescape(m[1]!));

/** The page's alert message (login failures), if any. */
export const pageMessage = (html: string): string | undefined => {
  const m = /<p class="msg" role="alert">([^<]*)<\/p>/.exec(html);
  return m ? unescape(m[1]!) : undefined;
};

export const isConsentPage = (html: string) => html.includes('<title>Allow access?</title>');
export const isLoginPage = (html: string) => html.includes('<title>Sign in</title>');

export interface SmartClient {
  /** Flint's origin, e.g. http://127.0.0.1:1234. */
  origin: string;
  clientId: string;
  redirectUri: string;
  scope: string;
}

export class SmartFlow {
  readonly authorize: string;
  readonly token: string;

  constructor(readonly c: SmartClient) {
    this.authorize = `${c.origin}/auth/authorize`;
    this.token = `${c.origin}/auth/token`;
  }

  authorizeUrl(pkce: Pkce, overrides: Record<string, string> = {}): string {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: this.c.clientId,
      redirect_uri: this.c.redirectUri,
      scope: this.c.scope,
      state: randomBytes(8).toString('hex'),
      aud: `${this.c.origin}/fhir`,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...overrides,
    });
    return `${this.authorize}?${q}`;
  }

  /** The login page of a fresh authorization request. */
  async loginPage(pkce: Pkce): Promise<string> {
    const r = await send(this.authorizeUrl(pkce));
    if (r.status !== 200 || !isLoginPage(r.text)) throw new Error(`no login page (${r.status}): ${r.text.slice(0, 300)}`);
    return r.text;
  }

  /** Posts a login form page (the last page shown) with these credentials. */
  login(page: string, username: string, password: string): Promise<Reply> {
    const form = hiddenFields(page);
    form.set('username', username);
    form.set('password', password);
    return postForm(this.authorize, form);
  }

  /** Allow on a consent page, with `patient` picked; the 302's Location. */
  async allow(page: string, patient?: string): Promise<URL> {
    const form = hiddenFields(page);
    if (patient !== undefined) form.set('patient', patient);
    form.set('action', 'allow');
    const r = await postForm(this.authorize, form);
    const location = r.headers.get('location');
    if (r.status !== 302 || !location) throw new Error(`consent did not redirect (${r.status}): ${r.text.slice(0, 300)}`);
    return new URL(location);
  }

  /** The whole front channel: an authorization code for `username`, for `patient`. */
  async code(pkce: Pkce, username: string, password: string, patient: string): Promise<string> {
    const consent = await this.login(await this.loginPage(pkce), username, password);
    if (!isConsentPage(consent.text)) throw new Error(`login failed (${consent.status}): ${pageMessage(consent.text)}`);
    const back = await this.allow(consent.text, patient);
    const code = back.searchParams.get('code');
    if (!code || `${back.origin}${back.pathname}` !== this.c.redirectUri) throw new Error(`no code in ${back.href}`);
    return code;
  }

  exchange(code: string, verifier: string, redirectUri = this.c.redirectUri) {
    return this.tokenRequest({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: this.c.clientId });
  }

  refresh(refreshToken: string) {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.c.clientId });
  }

  async tokenRequest(fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await postForm(this.token, fields);
    return { status: r.status, body: JSON.parse(r.text) as Record<string, unknown> };
  }
}
