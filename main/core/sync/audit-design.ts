/**
 * The design document of the central audit database (`clinic-audit` beside `clinic`):
 * its validate_doc_update makes the database append-only for everyone, server admins
 * included, so a pushed AuditEvent can be neither changed nor deleted through the API.
 * Server admins may still change `_design/` documents (CouchDB lets only them do that
 * anyway), hence remove this one and then edit: that tamper path is what
 * `flint audit verify --remote` exists for (audit-remote-verify.ts). The function is
 * plain ES5 source: it runs in CouchDB's JavaScript query server and in pouchdb-server.
 */
import { couchJson, RemoteError, type RemoteEndpoint } from './remote';

export const AUDIT_DESIGN_ID = '_design/flint-audit';

/**
 * Refuses: any update or deletion of an existing document; a new document whose `_id` is
 * not `<workstation>-<seq>` of its own `workstation` and `seq` fields, or whose event
 * carries another id, or that lacks its chain links; `_design/` changes by anyone but a
 * server admin. (CouchDB does not run this for `_local/` documents: the pushers'
 * checkpoints stay writable.)
 */
export const AUDIT_VALIDATE_DOC_UPDATE = `function (newDoc, oldDoc, userCtx) {
  var roles = (userCtx && userCtx.roles) || [];
  if (newDoc._id.indexOf('_design/') === 0) {
    if (roles.indexOf('_admin') === -1) throw({ forbidden: 'only a server admin may change design documents' });
    return;
  }
  if (oldDoc) throw({ forbidden: 'audit events are written once: they cannot be changed or deleted' });
  if (newDoc._deleted) throw({ forbidden: 'audit events cannot be deleted' });
  var m = /^([0-9a-z]+)-([1-9][0-9]*)$/.exec(newDoc._id);
  if (!m) throw({ forbidden: 'an audit event id is <workstation>-<seq>' });
  if (newDoc.workstation !== m[1] || newDoc.seq !== Number(m[2])) {
    throw({ forbidden: 'an audit event id must be its workstation and seq fields' });
  }
  if (typeof newDoc.prev !== 'string' || typeof newDoc.hash !== 'string' || !/^[0-9a-f]{64}$/.test(newDoc.hash)) {
    throw({ forbidden: 'an audit event needs its chain links (prev, hash)' });
  }
  if (!newDoc.event || newDoc.event.resourceType !== 'AuditEvent' || newDoc.event.id !== newDoc._id) {
    throw({ forbidden: 'an audit event document holds the AuditEvent of the same id' });
  }
}`;

export interface AuditDesignDoc {
  _id: string;
  _rev?: string;
  language: 'javascript';
  validate_doc_update: string;
}

export function auditDesignDoc(): AuditDesignDoc {
  return { _id: AUDIT_DESIGN_ID, language: 'javascript', validate_doc_update: AUDIT_VALIDATE_DOC_UPDATE };
}

/**
 * Creates or updates `_design/flint-audit` in the audit database. `endpoint` must carry
 * server-admin credentials (only they may write design documents); the database must
 * exist. Resolves with what it did.
 */
export async function installAuditDesign(endpoint: RemoteEndpoint, auditUrl: string): Promise<'created' | 'updated' | 'unchanged'> {
  const url = `${auditUrl.replace(/\/+$/, '')}/${AUDIT_DESIGN_ID}`;
  let current: AuditDesignDoc | undefined;
  try {
    current = await couchJson<AuditDesignDoc>(endpoint, 'GET', url);
  } catch (e) {
    if (!(e instanceof RemoteError && e.status === 404)) throw e;
  }
  if (current && current.validate_doc_update === AUDIT_VALIDATE_DOC_UPDATE && current.language === 'javascript') return 'unchanged';
  const doc = auditDesignDoc();
  if (current?._rev) doc._rev = current._rev;
  await couchJson(endpoint, 'PUT', url, doc);
  return current ? 'updated' : 'created';
}
