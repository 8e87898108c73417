/**
 * A tiny SMART on FHIR browser app for end-to-end tests, served from node:http on
 * 127.0.0.1 (port 0: start it first, then register its redirect URI):
 *
 *   /launch.html      FHIR.oauth2.authorize(): a standalone launch with PKCE required
 *   /index.html       FHIR.oauth2.ready(), then the reads below; the outcome as JSON in
 *                     <pre id="result" data-done="1">
 *   /fhir-client.js   fhirclient's browser build, from node_modules
 *   /config.js        what configure() set: client id, FHIR base, scope, patient ids
 *
 * index.html reads the launch patient, searches its Observations, and reads every other
 * patient of the config (which the launch's patient scopes must refuse). Every request
 * the server gets is in `log`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO } from './flint-process';

export const FHIRCLIENT_BUILD = join(REPO, 'node_modules/fhirclient/build/fhir-client.min.js');

export interface SmartAppConfig {
  clientId: string;
  /** The FHIR base URL (`iss` of the launch). */
  iss: string;
  scope: string;
  /** Every patient id the test created: index.html reads those that are not the launch's. */
  patients: string[];
}

export interface SmartAppResult {
  error?: string;
  patientId?: string;
  grantedScope?: string;
  refreshToken?: boolean;
  patient?: { resourceType: string; id: string };
  observations?: { total?: number; refs: string[] };
  others?: { id: string; status: number | null; readId?: string }[];
}

export interface SmartApp {
  origin: string;
  url(path: string): string;
  /** `METHOD /path?query` of every request received, in order. */
  log: string[];
  configure(config: SmartAppConfig): void;
  close(): Promise<void>;
}

const page = (title: string, script: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title><script src="fhir-client.js"></script><script src="config.js"></script></head>
<body><h1>${title}</h1><pre id="result"></pre><script>
const show = (r) => { const out = document.getElementById('result'); out.textContent = JSON.stringify(r); out.dataset.done = '1'; };
const fail = (e) => show({ error: String((e && e.message) || e) });
${script}
</script></body></html>`;

const LAUNCH = page(
  'Launching',
  `FHIR.oauth2.authorize({ clientId: APP.clientId, scope: APP.scope, redirectUri: 'index.html', iss: APP.iss, pkceMode: 'required' }).catch(fail);`,
);

const INDEX = page(
  'Test app',
  `FHIR.oauth2.ready().then(async (client) => {
  const token = client.state.tokenResponse || {};
  const r = { patientId: client.patient.id, grantedScope: token.scope, refreshToken: !!token.refresh_token };
  const p = await client.patient.read();
  r.patient = { resourceType: p.resourceType, id: p.id };
  const bundle = await client.request('Observation?patient=' + encodeURIComponent(client.patient.id));
  r.observations = { total: bundle.total, refs: (bundle.entry || []).map((e) => e.resource.resourceType + '/' + e.resource.id) };
  r.others = [];
  for (const id of APP.patients.filter((x) => x !== client.patient.id)) {
    try {
      const o = await client.request('Patient/' + encodeURIComponent(id));
      r.others.push({ id, status: 200, readId: o.id });
    } catch (e) {
      r.others.push({ id, status: e.status ?? e.statusCode ?? null });
    }
  }
  show(r);
}).catch(fail);`,
);

export async function startSmartApp(): Promise<SmartApp> {
  const log: string[] = [];
  let config: SmartAppConfig | undefined;
  const library = readFileSync(FHIRCLIENT_BUILD);
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only');
    if (path === '/launch.html') return send(200, 'text/html; charset=utf-8', LAUNCH);
    if (path === '/index.html') return send(200, 'text/html; charset=utf-8', INDEX);
    if (path === '/fhir-client.js') return send(200, 'text/javascript; charset=utf-8', library);
    if (path === '/config.js' && config) return send(200, 'text/javascript; charset=utf-8', `window.APP = ${JSON.stringify(config)};`);
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => `${origin}/${path.replace(/^\//, '')}`,
    log,
    configure: (c) => void (config = c),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
