/**
 * The short-lived state of a sign-in, held in memory: a login is seconds long, and a
 * restart simply makes the user start again from the app.
 *
 * - Login forms carry the authorization request in hidden fields, with a CSRF token
 *   that is an HMAC (key random per process) over a nonce, an expiry and a digest of
 *   those fields: the fields cannot be altered, and the nonce is spent on first use.
 *   Showing a form stores nothing, so unauthenticated page loads cannot fill memory.
 * - After a good login, a pending consent record (random id, random CSRF token rotated
 *   on every page) holds the user and the checked request until Allow or Deny.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTHORIZE_PARAMS, type AuthorizeRequest } from './authorize-request';

export const FORM_TTL_MS = 10 * 60_000;
const MAX_SPENT_NONCES = 10_000;
const MAX_PENDING = 256;

const random = () => randomBytes(24).toString('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a login form's CSRF token is bound to: every authorization parameter, in order. */
export function bindingOf(values: AuthorizeRequest['values']): string {
  return createHash('sha256')
    .update(JSON.stringify(AUTHORIZE_PARAMS.map((n) => values[n] ?? null)))
    .digest('base64url');
}

export class LoginFormTokens {
  private readonly key = randomBytes(32);
  /** Spent nonces until their tokens would have expired anyway. */
  private readonly spent = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  issue(binding: string): string {
    const nonce = random();
    const exp = String(this.now() + FORM_TTL_MS);
    return `${nonce}.${exp}.${this.mac(nonce, exp, binding)}`;
  }

  /** Whether `token` is genuine, unexpired, bound to `binding` and unspent; spends it if so. */
  spend(token: string | undefined, binding: string): boolean {
    const [nonce, exp, mac, extra] = (token ?? '').split('.');
    if (!nonce || !exp || !mac || extra !== undefined || !/^\d{1,16}$/.test(exp)) return false;
    if (!sameSecret(mac, this.mac(nonce, exp, binding))) return false;
    const t = this.now();
    if (Number(exp) <= t) return false;
    for (const [n, e] of this.spent) if (e <= t) this.spent.delete(n);
    // Full means a flood of logins: fail closed rather than forget a spent nonce.
    if (this.spent.has(nonce) || this.spent.size >= MAX_SPENT_NONCES) return false;
    this.spent.set(nonce, Number(exp));
    return true;
  }

  private mac(nonce: string, exp: string, binding: string): string {
    return createHmac('sha256', this.key).update(`login.${nonce}.${exp}.${binding}`).digest('base64url');
  }
}

export interface PendingConsent {
  id: string;
  /** The CSRF token of the page last shown for this record. */
  csrf: string;
  userId: string;
  request: AuthorizeRequest;
  /** `launch/patient` was granted: Allow needs a chosen patient. */
  needsPatient: boolean;
  expires: number;
}

export class PendingConsents {
  private readonly records = new Map<string, PendingConsent>();

  constructor(private readonly now: () => number) {}

  create(userId: string, request: AuthorizeRequest, needsPatient: boolean): PendingConsent {
    this.prune();
    // Insertion order is age order: past the cap the oldest sign-in is dropped.
    while (this.records.size >= MAX_PENDING) this.records.delete(this.records.keys().next().value!);
    const rec: PendingConsent = { id: random(), csrf: random(), userId, request, needsPatient, expires: this.now() + FORM_TTL_MS };
    this.records.set(rec.id, rec);
    return rec;
  }

  /**
   * The record whose id and CSRF token both match, with a fresh CSRF token for the next
   * page (each token is good for one post). A wrong token ends the record: it was not
   * our page that posted.
   */
  take(id: string | undefined, csrf: string | undefined): PendingConsent | undefined {
    this.prune();
    const rec = id ? this.records.get(id) : undefined;
    if (!rec) return undefined;
    if (!csrf || !sameSecret(csrf, rec.csrf)) {
      this.records.delete(rec.id);
      return undefined;
    }
    rec.csrf = random();
    return rec;
  }

  delete(id: string): void {
    this.records.delete(id);
  }

  get size(): number {
    return this.records.size;
  }

  private prune(): void {
    const t = this.now();
    for (const [id, rec] of this.records) if (rec.expires <= t) this.records.delete(id);
  }
}
