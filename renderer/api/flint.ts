/**
 * Flint's own API at /flint (docs/flint-api.md): the session, settings, sync and conflicts,
 * definitions, admin and audit. Shapes shared with the core live in shared/api.
 */
import type { Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { AdminApp, AdminRole, AdminUser, NewAppRequest, NewUserRequest, UserChangeRequest } from '../../shared/api/admin';
import type { AuditVerification } from '../../shared/api/audit';
import type { ReindexStatus } from '../../shared/api/reindex';
import type { SessionInfo, UiSettings } from '../../shared/api/session';
import type { SyncSettingsRequest, SyncSettingsView } from '../../shared/api/sync-settings';
import type { ConflictEntry, SyncStatus } from '../../shared/api/sync';
import type { Http } from './http';

export type { AdminApp, AdminRole, AdminUser } from '../../shared/api/admin';
export type { AuditVerification } from '../../shared/api/audit';
export type { SessionInfo, UiSettings } from '../../shared/api/session';
export type { SyncSettingsView } from '../../shared/api/sync-settings';

export class FlintApi {
  constructor(private readonly http: Http) {}

  session = async () => (await this.http.json<SessionInfo>('/flint/session')).body;
  settings = async () => (await this.http.json<UiSettings>('/flint/settings')).body;
  saveSettings = async (s: UiSettings) => (await this.http.json<UiSettings>('/flint/settings', { method: 'PUT', body: s })).body;

  syncStatus = async () => (await this.http.json<SyncStatus>('/flint/sync')).body;
  setSyncPaused = async (paused: boolean) => (await this.http.json<SyncStatus>('/flint/sync', { method: 'PUT', body: { paused } })).body;
  quarantine = async () => (await this.http.json<{ quarantine: Array<Record<string, unknown>> }>('/flint/sync/quarantine')).body.quarantine;
  syncSettings = async () => (await this.http.json<SyncSettingsView>('/flint/sync/settings')).body;
  saveSyncSettings = async (s: SyncSettingsRequest) =>
    (await this.http.json<SyncSettingsView>('/flint/sync/settings', { method: 'PUT', body: s })).body;
  removeSyncSettings = async () => {
    await this.http.fetch('/flint/sync/settings', { method: 'DELETE' });
  };

  conflicts = async () => (await this.http.json<{ conflicts: ConflictEntry[] }>('/flint/conflicts')).body.conflicts;
  resolveConflict = async (type: string, id: string, choice: { keep: string } | { resource: Resource }) =>
    (await this.http.json<{ resolved: { type: string; id: string; versionId: string; deleted: boolean } }>(
      `/flint/conflicts/${encodeURIComponent(type)}/${encodeURIComponent(id)}`,
      { method: 'POST', body: choice },
    )).body.resolved;

  structureDefinition = async (name: string) =>
    (await this.http.json<StructureDefinition>(`/flint/definitions/StructureDefinition/${encodeURIComponent(name)}`)).body;
  valueSet = async (url: string) => (await this.http.json<ValueSet>(`/flint/definitions/ValueSet?url=${encodeURIComponent(url)}`)).body;

  users = async () => (await this.http.json<{ users: AdminUser[] }>('/flint/admin/users')).body.users;
  addUser = async (u: NewUserRequest) =>
    (await this.http.json<AdminUser>('/flint/admin/users', { method: 'POST', body: u })).body;
  changeUser = async (username: string, change: UserChangeRequest) =>
    (await this.http.json<AdminUser>(`/flint/admin/users/${encodeURIComponent(username)}`, { method: 'PATCH', body: change })).body;
  roles = async () => (await this.http.json<{ roles: AdminRole[] }>('/flint/admin/roles')).body.roles;
  apps = async () => (await this.http.json<{ apps: AdminApp[] }>('/flint/admin/apps')).body.apps;
  addApp = async (a: NewAppRequest) => (await this.http.json<AdminApp>('/flint/admin/apps', { method: 'POST', body: a })).body;
  revokeApp = async (clientId: string) => (await this.http.json<AdminApp>(`/flint/admin/apps/${encodeURIComponent(clientId)}`, { method: 'DELETE' })).body;

  verifyAudit = async () => (await this.http.json<AuditVerification>('/flint/audit/verify')).body;
  /** The filtered AuditEvents as NDJSON text. */
  exportAudit = async (query: string) => (await this.http.fetch(`/flint/audit/export?${query}`, { raw: true, headers: { Accept: 'application/fhir+ndjson' } })).text();

  /**
   * The sync status as it changes (server-sent events over fetch: EventSource cannot send
   * the bearer token). Calls `onStatus` with each; resolves when `signal` aborts or the
   * stream ends.
   */
  async watchSync(onStatus: (s: SyncStatus) => void, signal: AbortSignal): Promise<void> {
    await this.watch('/flint/sync/events', onStatus, signal);
  }

  reindexStatus = async () => (await this.http.json<ReindexStatus>('/flint/reindex')).body;
  /** Starts rebuilding the search index (admin); 409 when a rebuild already runs. */
  startReindex = async () => (await this.http.json<ReindexStatus>('/flint/reindex', { method: 'POST' })).body;
  /** The rebuild's progress until it ends (done or failed). */
  async watchReindex(onStatus: (s: ReindexStatus) => void, signal: AbortSignal): Promise<void> {
    await this.watch('/flint/reindex/events', onStatus, signal);
  }

  private async watch<T>(path: string, onData: (data: T) => void, signal: AbortSignal): Promise<void> {
    const res = await this.http.fetch(path, { raw: true, signal, headers: { Accept: 'text/event-stream' } });
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) return;
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data) onData(JSON.parse(data) as T);
      }
    }
  }
}

/** Setup is public: it runs before any user exists. */
export async function setupNeeded(): Promise<boolean> {
  const res = await fetch('/flint/setup', { cache: 'no-store' });
  if (!res.ok) return false;
  return ((await res.json()) as { needed: boolean }).needed;
}
