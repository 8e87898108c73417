/**
 * GET|POST /auth/authorize: the authorization code flow of a SMART standalone launch.
 * One endpoint, three steps told apart by the form's `step` field:
 *
 *   (none)   the app's request (GET, or POST for `authorize-post`): check it, show the login form
 *   login    check the form's CSRF token and the password, then show the consent page
 *            (Flint's own UI, first party: straight back to it with a code)
 *   consent  Allow (issue a code bound to PKCE), Deny, or search the patient picker
 */
import { isValidId } from '../../../../shared/fhir/ids';
import { parseScopes } from '../scopes';
import { clientApp, isUiClient } from './clients';
import { checkAuthorize, type AuthorizeRequest, type CheckedAuthorize } from './authorize-request';
import type { SmartContext } from './context';
import { bindingOf, type PendingConsent } from './pending';
import { consentPage, errorPage, LOGIN_FAILED, loginPage } from './pages';
import { methodNotAllowed, redirectTo } from './responses';
import { smartUrls } from './smart-configuration';
import type { AuthRequest, AuthResponse } from './types';

const MAX_PATIENTS_SHOWN = 50;
const MAX_QUERY = 64;
/** scrypt ignores nothing: a megabyte "password" would cost real CPU for nothing. */
const MAX_PASSWORD = 1024;

export async function authorize(ctx: SmartContext, req: AuthRequest): Promise<AuthResponse> {
  if (req.method === 'GET' || req.method === 'HEAD') return start(ctx, req, req.query);
  if (req.method !== 'POST') return methodNotAllowed(['GET', 'POST']);
  const form = req.form;
  if (!form) return errorPage('The sign-in form was not sent as a form.');
  const steps = form.getAll('step');
  if (steps.length === 0) return start(ctx, req, form);
  if (steps.length === 1 && steps[0] === 'login') return login(ctx, req, form);
  if (steps.length === 1 && steps[0] === 'consent') return consent(ctx, req, form);
  return errorPage('The sign-in form is not one this server sent.');
}

function start(ctx: SmartContext, req: AuthRequest, source: URLSearchParams): AuthResponse {
  const checked = checkAuthorize(source, ctx.accounts, req.origin);
  if (checked.kind !== 'ok') return refuse(checked);
  const { request } = checked;
  return loginPage({ action: smartUrls(req.origin).authorize, request, csrf: ctx.loginForms.issue(bindingOf(request.values)) });
}

function refuse(checked: Exclude<CheckedAuthorize, { kind: 'ok' }>): AuthResponse {
  if (checked.kind === 'page') return errorPage(checked.message);
  return redirectTo(checked.redirectUri, { error: checked.error, error_description: checked.description, state: checked.state });
}

async function login(ctx: SmartContext, req: AuthRequest, form: URLSearchParams): Promise<AuthResponse> {
  // The hidden fields are checked again as if new: the CSRF token proves they are ours,
  // but the app may have been revoked, or its redirect URIs changed, since.
  const checked = checkAuthorize(form, ctx.accounts, req.origin);
  if (checked.kind !== 'ok') return refuse(checked);
  const { request } = checked;
  const action = smartUrls(req.origin).authorize;
  const again = (message: string, status = 200) =>
    loginPage({ action, request, csrf: ctx.loginForms.issue(bindingOf(request.values)), message, status });
  const csrf = form.getAll('csrf');
  if (csrf.length !== 1 || !ctx.loginForms.spend(csrf[0], bindingOf(request.values))) {
    return again('This form has expired or was already used. Please sign in again.', 400);
  }
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const failed = () => ({ ...again(LOGIN_FAILED), authFailed: true });
  if (!username || !password || password.length > MAX_PASSWORD) return failed();
  // Whatever the reason (unknown user, wrong password, locked, disabled), one message.
  const result = await ctx.accounts.users.login(username, password);
  if (!result.ok) return failed();
  // Flint's own UI is first party: the user signing in is the consent (it never asks for
  // launch/patient, so there is no patient to pick either).
  if (isUiClient(request.clientId)) {
    const grant = { clientId: request.clientId, userId: result.user.id, scope: request.scope, patient: null };
    return redirectTo(request.redirectUri, { code: ctx.accounts.tokens.issueCode(grant, request.redirectUri, request.challenge), state: request.state });
  }
  const needsPatient = parseScopes(request.scope).other.has('launch/patient');
  const rec = ctx.pending.create(result.user.id, request, needsPatient);
  return showConsent(ctx, req, rec, '');
}

async function consent(ctx: SmartContext, req: AuthRequest, form: URLSearchParams): Promise<AuthResponse> {
  const ids = form.getAll('pending');
  const tokens = form.getAll('csrf');
  const rec = ids.length === 1 && tokens.length === 1 ? ctx.pending.take(ids[0], tokens[0]) : undefined;
  if (!rec) return errorPage('This sign-in has expired or was already used.');
  const { request } = rec;
  const action = form.get('action');
  if (action === 'deny') {
    ctx.pending.delete(rec.id);
    return redirectTo(request.redirectUri, { error: 'access_denied', error_description: 'the user denied access', state: request.state });
  }
  const query = (form.get('patient_query') ?? '').slice(0, MAX_QUERY);
  if (action !== 'allow') return showConsent(ctx, req, rec, query);
  let patient: string | undefined;
  if (rec.needsPatient) {
    const chosen = form.getAll('patient');
    patient = chosen.length === 1 ? chosen[0] : undefined;
    if (!patient || !isValidId(patient) || !(await ctx.deps.patientExists(patient))) {
      return showConsent(ctx, req, rec, query, 'Choose a patient first.');
    }
  }
  const user = ctx.accounts.users.byId(rec.userId);
  const app = clientApp(ctx.accounts, request.clientId, req.origin);
  ctx.pending.delete(rec.id);
  // Disabled or revoked during the seconds since login: start over, like any lost session.
  if (!user || user.disabled || !app) return errorPage('This sign-in is no longer valid.');
  return redirectTo(request.redirectUri, { code: issueCode(ctx, rec, request, patient), state: request.state });
}

function issueCode(ctx: SmartContext, rec: PendingConsent, request: AuthorizeRequest, patient: string | undefined): string {
  const grant = { clientId: request.clientId, userId: rec.userId, scope: request.scope, patient: patient ?? null };
  return ctx.accounts.tokens.issueCode(grant, request.redirectUri, request.challenge);
}

async function showConsent(ctx: SmartContext, req: AuthRequest, rec: PendingConsent, query: string, message?: string): Promise<AuthResponse> {
  const patients = rec.needsPatient ? (await ctx.deps.findPatients(query)).slice(0, MAX_PATIENTS_SHOWN) : undefined;
  return consentPage({
    action: smartUrls(req.origin).authorize,
    redirectUri: rec.request.redirectUri,
    appName: rec.request.appName,
    scope: rec.request.scope,
    pendingId: rec.id,
    csrf: rec.csrf,
    ...(patients ? { patients, query } : {}),
    ...(message ? { message } : {}),
  });
}
