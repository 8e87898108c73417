/**
 * `flint sync setup-remote` (docs/sync.md, "Setting up Apache CouchDB 3"): as a server
 * admin, creates the clinic database and its audit database, restricts both to their
 * members, and installs the validation that keeps audit documents write-once. Idempotent: running it again changes only what differs.
 */
import { installAuditDesign } from './audit-design';
import { RemoteError, couchJson, type RemoteEndpoint } from './remote';

export const WORKSTATION_ROLE = 'flint-workstation';
/*
 * No validate_doc_update on the clinic database: pouchdb-server's validation plugin
 * silently drops a replicated update (`_bulk_docs` with `new_edits: false`) of a document
 * that already exists whenever the database has any validation function, so a head's
 * second revision never lands (found in test/integration/sync.int.test.ts; docs/sync.md).
 * Version documents are kept immutable by the workstations instead (they are never
 * rewritten, and the applier refuses a second revision of one).
 */

export interface SetupResult {
  created: string[];
  security: string[];
  design: string[];
}

async function createDb(admin: RemoteEndpoint, url: string): Promise<boolean> {
  try {
    await couchJson(admin, 'PUT', url);
    return true;
  } catch (e) {
    if (e instanceof RemoteError && e.status === 412) return false; // exists
    throw e;
  }
}

export async function setupRemote(admin: RemoteEndpoint, clinicUrl: string, auditUrl: string, members: string[]): Promise<SetupResult> {
  const out: SetupResult = { created: [], security: [], design: [] };
  const security = { admins: { names: [], roles: [] }, members: { names: members, roles: [WORKSTATION_ROLE] } };
  for (const url of [clinicUrl, auditUrl]) {
    if (await createDb(admin, url)) out.created.push(url);
    await couchJson(admin, 'PUT', `${url}/_security`, security);
    out.security.push(url);
  }
  if ((await installAuditDesign(admin, auditUrl)) !== 'unchanged') out.design.push(`${auditUrl}/_design/flint-audit`);
  return out;
}
