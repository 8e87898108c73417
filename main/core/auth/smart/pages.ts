/**
 * The sign-in pages: plain HTML forms, no scripts (the CSP forbids them), every value
 * escaped. They say nothing about which part of a login failed, and they show the app's
 * registered name, never anything the request made up.
 */
import { parseScopes } from '../scopes';
import type { AuthorizeRequest } from './authorize-request';
import { isUiClient } from './clients';
import { html } from './responses';
import type { AuthResponse, PatientChoice } from './types';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export const LOGIN_FAILED = 'The username or password is wrong, or the account is locked.';

/** The UI's look (system font, slate header, blue accent, 4px corners), without a script. */
const STYLE = `*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1e293b;background:#f1f5f9}
header{background:#1e293b;color:#fff;padding:.7rem 1.5rem;font-weight:600}
main{max-width:26rem;margin:3rem auto;padding:1.5rem 2rem 2rem;background:#fff;border:1px solid #e2e8f0;border-radius:4px}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.9rem 0 .3rem;font-weight:500}
input[type=text],input[type=password],input[type=search]{width:100%;padding:.5rem .6rem;border:1px solid #cbd5e1;border-radius:4px;font:inherit}
input:focus{outline:2px solid #0f62fe;outline-offset:-1px}
button{margin:1.2rem .5rem 0 0;padding:.5rem 1.2rem;border:1px solid #0f62fe;border-radius:4px;background:#0f62fe;color:#fff;font:inherit;cursor:pointer}
button[value=deny],button[value=search]{background:#fff;color:#0f62fe}
.msg{color:#b91c1c;background:#fef2f2;border:1px solid #fecaca;border-radius:4px;padding:.5rem .75rem}
fieldset{border:1px solid #e2e8f0;border-radius:4px;margin-top:1rem}code{font-size:.85em;color:#64748b}li{margin:.3rem 0}ul{padding-left:1.2rem}`;

/** `redirectUri`: the checked request's, which the page's form may end up redirecting to. */
function page(status: number, title: string, body: string, redirectUri?: string): AuthResponse {
  const doc = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><header>Flint</header><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
  return html(status, doc, redirectUri);
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
const message = (text?: string) => (text ? `<p class="msg" role="alert">${escapeHtml(text)}</p>` : '');

export function errorPage(text: string, status = 400): AuthResponse {
  return page(status, 'Sign-in failed', `<p>${escapeHtml(text)}</p><p>Close this window and start again from the app.</p>`);
}

export function loginPage(o: { action: string; request: AuthorizeRequest; csrf: string; message?: string; status?: number }): AuthResponse {
  const fields = Object.entries(o.request.values).map(([k, v]) => hidden(k, v ?? ''));
  const intro = isUiClient(o.request.clientId)
    ? '<p>Sign in to this workstation.</p>'
    : `<p>Sign in to let <strong>${escapeHtml(o.request.appName)}</strong> use this workstation's records.</p>`;
  return page(
    o.status ?? 200,
    'Sign in',
    `${intro}${message(o.message)}
<form method="post" action="${escapeHtml(o.action)}">${hidden('step', 'login')}${hidden('csrf', o.csrf)}${fields.join('')}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
    o.request.redirectUri,
  );
}

export interface ConsentView {
  action: string;
  redirectUri: string;
  appName: string;
  scope: string;
  pendingId: string;
  csrf: string;
  /** Present when a patient must be chosen. */
  patients?: PatientChoice[];
  query?: string;
  message?: string;
}

export function consentPage(v: ConsentView): AuthResponse {
  const scopes = v.scope.split(' ').map((s) => `<li>${escapeHtml(describeScope(s))} <code>${escapeHtml(s)}</code></li>`);
  const picker = v.patients ? patientPicker(v.patients, v.query ?? '') : '';
  return page(
    200,
    'Allow access?',
    `<p><strong>${escapeHtml(v.appName)}</strong> asks to:</p><ul>${scopes.join('')}</ul>${message(v.message)}
<form method="post" action="${escapeHtml(v.action)}">${hidden('step', 'consent')}${hidden('pending', v.pendingId)}${hidden('csrf', v.csrf)}${picker}
<button type="submit" name="action" value="allow">Allow</button><button type="submit" name="action" value="deny">Deny</button></form>`,
    v.redirectUri,
  );
}

/** The search button comes first in the form, so Enter in the search field searches. */
function patientPicker(patients: PatientChoice[], query: string): string {
  const rows = patients.map((p, i) => {
    const born = p.birthDate ? `, born ${p.birthDate}` : '';
    const checked = i === 0 && patients.length === 1 ? ' checked' : '';
    const radio = `<input type="radio" name="patient" value="${escapeHtml(p.id)}"${checked}>`;
    return `<li><label>${radio} ${escapeHtml(p.name)}${escapeHtml(born)}</label></li>`;
  });
  const list = rows.length > 0 ? `<ul>${rows.join('')}</ul>` : '<p>No patient matches.</p>';
  return `<fieldset><legend>Patient</legend><label for="patient_query">Find by name</label>
<input type="search" id="patient_query" name="patient_query" value="${escapeHtml(query)}" maxlength="64">
<button type="submit" name="action" value="search">Search</button>${list}</fieldset>`;
}

const CONTEXT: Record<string, string> = { patient: 'of the chosen patient', user: 'you have access to', system: 'on this workstation' };
const OTHER: Record<string, string> = {
  openid: 'Confirm who you are',
  fhirUser: 'Know which practitioner or person record is yours',
  'launch/patient': 'Work with one patient you choose',
  offline_access: 'Keep access after you close the app',
  online_access: 'Keep access while you use the app',
};

export function describeScope(s: string): string {
  const grant = parseScopes(s).grants[0];
  if (!grant) return OTHER[s] ?? 'Other access';
  const verbs = [...new Set(grant.interactions.map((i) => (i === 'history' || i === 'operation' ? 'read' : i === 'patch' ? 'update' : i)))];
  const what = grant.type === '*' ? 'records of every kind' : `${grant.type} records`;
  const filter = grant.query ? ' (some only)' : '';
  const list = verbs.length > 1 ? `${verbs.slice(0, -1).join(', ')} and ${verbs.at(-1)}` : verbs[0];
  return `${list} ${what} ${CONTEXT[grant.context]}${filter}`.replace(/^./, (c) => c.toUpperCase());
}
