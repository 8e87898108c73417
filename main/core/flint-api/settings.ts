/**
 * `/flint/settings`: the UI's workstation settings, in `<dataDir>/settings.json` (no
 * secret, no PHI; written atomically, like sync.json).
 *
 *   GET /flint/settings                        {"idleLockMinutes": n}  (any signed-in user)
 *   PUT /flint/settings {"idleLockMinutes": n}  1..240 (admin; audited as a settings change)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest, forbidden, methodNotAllowed, notFound } from '../../../shared/fhir/outcome';
import type { AuditRecorder } from '../audit/recorder';
import { agentOf } from './agent-of';
import type { AuthedFlintRequest, FlintApiRequest, FlintRoute } from './types';

export const SETTINGS_FILE = 'settings.json';
export const DEFAULT_IDLE_LOCK_MINUTES = 15;
export const MAX_IDLE_LOCK_MINUTES = 240;

export type { UiSettings } from '../../../shared/api/session';
import type { UiSettings } from '../../../shared/api/session';

const validMinutes = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_IDLE_LOCK_MINUTES;

/** The settings; a missing or damaged file (or value) reads as the defaults. */
export function readUiSettings(dataDir: string): UiSettings {
  const file = join(dataDir, SETTINGS_FILE);
  let raw: unknown;
  try {
    raw = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  } catch {
    raw = undefined;
  }
  const minutes = (raw as Partial<UiSettings> | undefined)?.idleLockMinutes;
  return { idleLockMinutes: validMinutes(minutes) ? minutes : DEFAULT_IDLE_LOCK_MINUTES };
}

/** Written to a temporary file and renamed over the old one: never half a file. */
export function writeUiSettings(dataDir: string, settings: UiSettings): void {
  if (!validMinutes(settings.idleLockMinutes)) throw new Error(`idleLockMinutes must be 1..${MAX_IDLE_LOCK_MINUTES}`);
  const file = join(dataDir, SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ idleLockMinutes: settings.idleLockMinutes }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export interface SettingsRouteOptions {
  dataDir: string;
  audit?: AuditRecorder;
}

export function createSettingsRoute(o: SettingsRouteOptions): FlintRoute {
  return {
    prefix: 'settings',
    async handle(anyReq: FlintApiRequest) {
      const req = anyReq as AuthedFlintRequest;
      if (req.path.length !== 1) throw notFound('Not found under /flint/settings');
      if (req.method === 'GET' || req.method === 'HEAD') return { status: 200, body: readUiSettings(o.dataDir) };
      if (req.method !== 'PUT') throw methodNotAllowed('Allowed here: GET, PUT');
      if (!req.principal.admin) throw forbidden('Changing the settings needs the admin role');
      const body = req.body;
      const example = `{"idleLockMinutes": ${DEFAULT_IDLE_LOCK_MINUTES}}`;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Send a JSON object: ${example}`);
      const unknown = Object.keys(body).filter((k) => k !== 'idleLockMinutes');
      if (unknown.length > 0) throw badRequest(`Unknown setting ${JSON.stringify(unknown[0]!.slice(0, 64))}; allowed: idleLockMinutes`);
      const minutes = (body as Partial<UiSettings>).idleLockMinutes;
      if (!validMinutes(minutes)) throw badRequest(`"idleLockMinutes" must be a whole number of minutes from 1 to ${MAX_IDLE_LOCK_MINUTES}`);
      const before = readUiSettings(o.dataDir);
      const after: UiSettings = { ...before, idleLockMinutes: minutes };
      writeUiSettings(o.dataDir, after);
      const detail = `idleLockMinutes ${before.idleLockMinutes} -> ${minutes}`;
      await o.audit?.record([{ kind: 'settings-changed', ok: true, agent: agentOf(req), subject: 'settings', detail, recorded: new Date() }]);
      return { status: 200, body: after };
    },
  };
}
