/**
 * The composition root: builds every service of a workstation once, hands them to each
 * other, and tears them down in reverse order. `flint serve` and the Electron shell both
 * start a workstation through startWorkstation().
 */
import { join } from 'node:path';
import { DUPLICATE_REVIEWED_CODE, SYNC_SYSTEM } from '../../shared/fhir/sync-tags';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, resolveDataDir } from './config';
import { loadDefinitions } from './fhir/definitions';
import { createRouter } from './fhir/router';
import { createValidator } from './fhir/validation/validator';
import { startHttpServer } from './http/fhir-http-server';
import { loadUiFiles } from './http/ui-static';
import { builtUiDir } from './worker-file';
import { tuneHeapForServing } from './heap';
import { openSearchIndex } from './search/open-search-index';
import { openAccounts } from './auth/accounts';
import { auditedAccounts } from './auth/audited-accounts';
import { AuditReadStore, openAuditIndex } from './audit/audit-reader';
import { openAuditLogOf } from './audit/audit-log';
import { AuditTrail } from './audit/audit-trail';
import { capabilitySecurity, createAuthHandler, smartConfiguration } from './auth/smart';
import { loadCompartments } from './search/compartments';
import { patientChoices } from './search/patient-choices';
import { reindex } from './search/custom-params';
import { IndexSearch } from './search/index-search';
import { KeytarSecretStore } from './secrets/keytar-secret-store';
import type { SecretStore } from './secrets/secret-store';
import { openDataDir } from './store/data-dir';
import { openEncryptedPouch } from './store/encrypted-pouch';
import { ResourceStore } from './store/resource-store';
import { errorReasons } from './fhir/validation/validator';
import { startSyncEngine } from './sync/sync-engine';
import { conflictEntries, createSyncRoutes } from './sync/sync-api';
import { createFlintApi } from './flint-api/flint-api';
import { createDefinitionsRoute } from './flint-api/definitions';
import { createSetupRoute, createSetupToken } from './flint-api/setup';
import { createSessionRoute } from './flint-api/session';
import { createSettingsRoute } from './flint-api/settings';
import { createAdminRoute } from './flint-api/admin';
import { createAuditRoute } from './flint-api/audit-api';
import { createReindexRoute } from './flint-api/reindex';
import { createSearchReindexJob } from './search/reindex-job';
import type { FhirContext } from './fhir/context';
import type { Definitions } from './fhir/definitions';
import type { FhirRequest } from './fhir/types';
import { createReceivePool, type ReceivePool } from './sync/receive-pool';
import { ExportJobs } from './bulk/export-jobs';
import { removeServerFile, writeServerFile } from './store/server-file';
import { ImportJobs } from './bulk/import-jobs';
import { createAuditPusher } from './sync/audit-push';
import { setSyncPaused } from './sync/sync-setup';
import type { Observable } from 'rxjs';
import type { SyncStatus } from '../../shared/api/sync';

export interface WorkstationOptions {
  dataDir?: string;
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  secrets?: SecretStore;
  /** false: no audit trail (`flint serve --no-audit`, for the audit-cost benchmark only). */
  audit?: boolean;
  log?: (line: string) => void;
  /** The built UI to serve at / (default: dist/renderer, found by builtUiDir). */
  uiDir?: string;
}

export interface Workstation {
  baseUrl: string;
  dataDir: string;
  workstationId: string;
  /** First run (no user yet): the one-time `<origin>/setup#token=...` URL that creates the administrator. */
  setupUrl?: string;
  /** Where the UI is served (`<origin>/`), when it is built. */
  uiUrl?: string;
  /** Every distinct sync status, starting with the current one; completes when the workstation closes. */
  syncStatus$: Observable<SyncStatus>;
  /** Pauses or resumes sync (sync.json, as `flint sync pause|resume`), applied at once; false when sync is not configured. */
  setSyncPaused(paused: boolean): Promise<boolean>;
  close(): Promise<void>;
}

export async function startWorkstation(opts: WorkstationOptions = {}): Promise<Workstation> {
  tuneHeapForServing();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const secrets = opts.secrets ?? new KeytarSecretStore();
  const dataDir = await openDataDir(resolveDataDir(opts.dataDir), secrets);
  const cleanups: Array<() => Promise<void>> = [() => dataDir.release()];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const db = await openEncryptedPouch({ file: dataDir.storeFile('store'), key: dataDir.purposeKey('store') });
    cleanups.push(() => db.close());
    const defs = loadDefinitions();
    // The search index: derived from the store's change feed, rebuilt when its format
    // or the definitions change, caught up at startup and after every commit.
    // A fresh or wiped index is rebuilt with the stored custom SearchParameters; an
    // existing one keeps the custom parameters it was built with (until $reindex).
    // Heads the change feed brings (replicated ones too) leave the store's head cache.
    const holder: { store?: ResourceStore } = {};
    // Rows the sync's receive worker extracted for pulled resources are taken, not recomputed.
    const receive: { pool?: ReceivePool } = {};
    const searchIndex = openSearchIndex(dataDir, db, defs, (type, id) => holder.store?.forget(type, id), (type, id, vid) => receive.pool?.takeRows(type, id, vid));
    const { index, indexer } = searchIndex;
    cleanups.push(() => searchIndex.close());
    if (index.reset) await reindex(searchIndex, db, defs);
    else await indexer.catchUp();
    // Built on the first write: a start that only reads never pays for it (docs/benchmarks.md, section 11).
    const validator = createValidator({ lazy: true });
    // Pulled batches are validated, and their index rows extracted, on a worker thread; the
    // same worker extracts a large transaction's rows while the store commits it.
    const pool = createReceivePool((resource) => errorReasons(validator.validate(resource)), { log });
    receive.pool = pool;
    cleanups.push(() => pool.close());
    const store = new ResourceStore(
      db,
      dataDir.workstationId,
      async () => {
        await pool.settled();
        await indexer.catchUp().catch(() => log('[fault] search index catch-up failed; it is retried on the next write'));
      },
      {
        // Rows extracted ahead are used only with the official definitions (open-search-index.ts).
        beforeWrite: (records) => {
          if (searchIndex.defs === defs) pool.extractAhead(records.flatMap((r) => (r.resource ? [r.resource] : [])));
        },
      },
    );
    holder.store = store;
    // Known once the listener has its port; search needs it to recognise absolute
    // references to this server.
    const self: { baseUrl?: string; origin?: string } = {};
    const search = new IndexSearch(index, () => self.baseUrl);
    // The audit trail: its own encrypted, chained log, and a search index derived from it.
    // Journaled: this process holds the data dir, so it owns the journal (docs/audit.md).
    const auditLog = await openAuditLogOf(dataDir, secrets, { journaled: true });
    cleanups.push(() => auditLog.close());
    const auditIndex = openAuditIndex(dataDir.storeFile('audit-index'), dataDir.purposeKey('audit-index'), auditLog, defs);
    cleanups.push(async () => auditIndex.close());
    const audit = opts.audit === false ? undefined : new AuditTrail(auditLog, dataDir.workstationId, () => self.baseUrl);
    if (!audit) log('WARNING: the audit trail is off (--no-audit): accesses are not recorded. For benchmarks only.');
    // Logins, tokens, users and apps are recorded by the accounts service itself.
    const rawAccounts = openAccounts(dataDir);
    cleanups.push(async () => rawAccounts.close());
    const accounts = audit ? auditedAccounts(rawAccounts, audit, () => log('[fault] a security audit record could not be written')) : rawAccounts;
    // Sync (docs/sync.md): pulled documents land in the inbox, the applier moves what is
    // complete and valid into the store; the engine follows sync.json.
    const inbox = await openEncryptedPouch({ file: dataDir.storeFile('inbox'), key: dataDir.purposeKey('inbox') });
    cleanups.push(() => inbox.close());
    const sync = await startSyncEngine({
      dataDir: dataDir.dir,
      workstationId: dataDir.workstationId,
      secrets,
      store: db,
      locks: store.locks,
      localCommits: store.committed,
      inbox,
      validate: (resources) => pool.check(resources),
      prevalidate: (resources) => pool.precheck(resources),
      afterApply: async (heads) => {
        for (const h of heads) store.forget(h.type, h.id);
        await indexer.catchUp();
      },
      // Conflicts and possible duplicate patients: what GET /flint/conflicts lists.
      conflicts: () => conflictEntries(index.conflicts(), index.duplicates({ system: SYNC_SYSTEM, code: DUPLICATE_REVIEWED_CODE })).length,
      auditPusher: (endpoint, auditUrl) => createAuditPusher({ log: auditLog, workstationId: dataDir.workstationId, endpoint, auditUrl }),
      ...(audit ? { audit } : {}),
      log,
    });
    cleanups.push(() => sync.close());
    // The search index rebuild: one job for $reindex and /flint/reindex (search/reindex-job.ts).
    // A finished rebuild's definitions (custom parameters) are served from then on: by a new router.
    const reindexJob = createSearchReindexJob({
      searchIndex,
      db,
      base: defs,
      search,
      onDone: (r) => void (router = routerFor(r.defs)),
      logFault: (fault) => log(`[fault] ${fault}`),
    });
    // Bulk export files wait on disk sealed with their own key, and are removed after an hour.
    const exports = new ExportJobs({ dir: join(dataDir.dir, 'exports'), key: dataDir.purposeKey('export'), log });
    cleanups.push(() => exports.close());
    // Import jobs keep only their error reports on disk, sealed the same way.
    const imports = new ImportJobs({ dir: join(dataDir.dir, 'imports'), key: dataDir.purposeKey('export'), log });
    cleanups.push(() => imports.close());
    const fhirServices: FhirContext = {
      exports,
      imports,
      store,
      defs: searchIndex.defs,
      validator,
      search,
      compartments: loadCompartments(defs),
      // Every request needs a bearer token (the HTTP layer resolves it to a principal).
      accessControl: true,
      ...(audit ? { audit } : {}),
      replicasIndexed: () => sync.indexed(),
      auditView: {
        // Read-only: the router refuses every AuditEvent write before it reaches a store.
        store: new AuditReadStore(auditLog) as unknown as ResourceStore,
        search: new IndexSearch(auditIndex.index, () => self.baseUrl),
        ready: () => auditIndex.catchUp(),
      },
      capabilitySecurity: (baseUrl) => capabilitySecurity(new URL(baseUrl).origin),
      reindex: async () => {
        const r = await reindexJob.start().done;
        return { definitions: r.defs, processed: r.processed, params: r.params.map((p) => p.code), skipped: r.skipped };
      },
      settings: { defaultPageSize: 50, maxPageSize: 1000 },
    };
    const routerFor = (d: Definitions) => createRouter({ ...fhirServices, defs: d }, (fault) => log(`[fault] ${fault}`));
    let router = routerFor(searchIndex.defs);
    const handle = (req: FhirRequest) => router(req);
    const patients = patientChoices(search, store, () => searchIndex.defs);
    const authHandler = createAuthHandler({
      accounts,
      isResourceType: (type) => defs.isResourceType(type),
      findPatients: (q) => patients.find(q),
      patientExists: (id) => patients.exists(id),
      logFault: (fault) => log(`[fault] ${fault}`),
    });
    // First run: a one-time token (memory only) lets the UI create the administrator.
    const setupToken = accounts.users.count() === 0 ? createSetupToken() : undefined;
    const host = opts.host ?? '127.0.0.1';
    const ui = loadUiFiles(opts.uiDir ?? builtUiDir());
    if (!ui) log('The UI is not built (dist/renderer): only the APIs are served. Run `npm run build`.');
    const http = await startHttpServer({
      host,
      port: opts.port ?? DEFAULT_PORT,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      handle,
      logFault: (fault) => log(`[fault] ${fault}`),
      allowedOrigins: () => accounts.apps.origins(),
      authenticate: (token) => accounts.authenticate(token),
      // Refused for want of a token: recorded too (a failure to record changes nothing: the request was refused).
      onRefused: async (a) => {
        await audit?.record([{ interaction: a.method === 'GET' ? 'read' : 'operation', status: a.status, agent: a.address ? { address: a.address } : {}, patients: [], recorded: new Date(), ...(a.path[0] && /^[A-Z]/.test(a.path[0]) ? { type: a.path[0] } : {}) }]);
      },
      authHandler,
      ...(ui ? { ui } : {}),
      smartConfiguration: () => smartConfiguration(self.origin!),
      flint: createFlintApi([
        createDefinitionsRoute(),
        ...createSyncRoutes({
        dataDir: dataDir.dir,
        workstationId: dataDir.workstationId,
        secrets,
        engine: sync,
        store,
        validator,
        conflicts: () => index.conflicts(),
        duplicates: () => index.duplicates({ system: SYNC_SYSTEM, code: DUPLICATE_REVIEWED_CODE }),
        isKnownType: (type) => searchIndex.defs.isResourceType(type),
        ...(audit ? { audit } : {}),
        }),
        createSetupRoute({ users: accounts.users, token: setupToken }),
        createSessionRoute({ dataDir: dataDir.dir, workstationId: dataDir.workstationId }),
        createSettingsRoute({ dataDir: dataDir.dir, ...(audit ? { audit } : {}) }),
        createAdminRoute({ accounts: rawAccounts, ...(audit ? { audit } : {}), logFault: (fault) => log(`[fault] ${fault}`) }),
        createReindexRoute({ job: reindexJob, ...(audit ? { audit } : {}) }),
        createAuditRoute({
          log: auditLog,
          // The same AuditEvent view the FHIR API searches (auditView above).
          view: { store: new AuditReadStore(auditLog), search: new IndexSearch(auditIndex.index, () => self.baseUrl), ready: () => auditIndex.catchUp() },
          defs: () => searchIndex.defs,
          ...(audit ? { audit } : {}),
        }),
      ]),
    });
    cleanups.push(() => http.close());
    self.origin = http.origin;
    self.baseUrl = `${http.origin}/fhir`;
    // Where this server listens, for commands that work through it (flint import).
    writeServerFile(dataDir.dir, self.baseUrl);
    cleanups.push(async () => removeServerFile(dataDir.dir));
    const setupUrl = setupToken ? `${http.origin}/setup#token=${setupToken.token}` : undefined;
    if (setupUrl) log(`First run: open ${setupUrl} within an hour to create the administrator.`);
    return {
      baseUrl: self.baseUrl,
      dataDir: dataDir.dir,
      workstationId: dataDir.workstationId,
      ...(setupUrl ? { setupUrl } : {}),
      ...(ui ? { uiUrl: `${http.origin}/` } : {}),
      syncStatus$: sync.status.changes,
      async setSyncPaused(paused) {
        if (!setSyncPaused(dataDir.dir, paused)) return false;
        await sync.reload(); // at once, not at the settings watcher's next look
        return true;
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
