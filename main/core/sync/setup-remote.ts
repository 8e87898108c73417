/**
 * `flint sync setup-remote` (docs/sync.md, "Setting up Apache CouchDB 3"): as a server
 * admin, creates the clinic database and its audit database, restricts both to their
 * members, and installs the validation that keeps version documents and audit documents
 * write-once. Idempotent: running it again changes only what differs.
 */
import { installAuditDesign } from './audit-design';
import { RemoteError, couchJson, type RemoteEndpoint } from './remote';

export const WORKSTATION_ROLE = 'flint-workstation';
export const CLINIC_DESIGN_ID = '_design/flint';

/**
 * Runs in CouchDB (and pouchdb-server) on every write to the clinic database: a version
 * document (`h:`) is written once and never changed or deleted; server admins may still
 * change design documents.
 */
export const CLINIC_VALIDATE_DOC_UPDATE = `function (newDoc, oldDoc, userCtx) {
  var id = newDoc._id || '';
  if (id.indexOf('_design/') === 0) {
    if (userCtx.roles.indexOf('_admin') === -1) throw({ forbidden: 'only server admins may change design documents' });
    return;
  }
  if (id.indexOf('h:') === 0 && oldDoc && !oldDoc._deleted && oldDoc._rev !== newDoc._rev) {
    throw({ forbidden: 'version documents are write-once' });
  }
}`;

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

async function putDesign(admin: RemoteEndpoint, dbUrl: string, id: string, validate: string): Promise<boolean> {
  const url = `${dbUrl}/${id}`;
  let rev: string | undefined;
  try {
    const cur = await couchJson<{ _rev: string; validate_doc_update?: string }>(admin, 'GET', url);
    if (cur.validate_doc_update === validate) return false;
    rev = cur._rev;
  } catch (e) {
    if (!(e instanceof RemoteError && e.status === 404)) throw e;
  }
  await couchJson(admin, 'PUT', url, { _id: id, ...(rev ? { _rev: rev } : {}), language: 'javascript', validate_doc_update: validate });
  return true;
}

export async function setupRemote(admin: RemoteEndpoint, clinicUrl: string, auditUrl: string, members: string[]): Promise<SetupResult> {
  const out: SetupResult = { created: [], security: [], design: [] };
  const security = { admins: { names: [], roles: [] }, members: { names: members, roles: [WORKSTATION_ROLE] } };
  for (const url of [clinicUrl, auditUrl]) {
    if (await createDb(admin, url)) out.created.push(url);
    await couchJson(admin, 'PUT', `${url}/_security`, security);
    out.security.push(url);
  }
  if (await putDesign(admin, clinicUrl, CLINIC_DESIGN_ID, CLINIC_VALIDATE_DOC_UPDATE)) out.design.push(`${clinicUrl}/${CLINIC_DESIGN_ID}`);
  if ((await installAuditDesign(admin, auditUrl)) !== 'unchanged') out.design.push(`${auditUrl}/_design/flint-audit`);
  return out;
}
