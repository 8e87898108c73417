/**
 * The context one request's handler runs with: the shared services, plus what is
 * particular to the caller. Every write path ends in ResourceStore.commit, so the two
 * cross-cutting concerns that must act before data changes hook in there, once:
 * access control refuses writes outside the caller's rights, and the audit trail records
 * the writes before they are made (fail closed: no record, no write).
 */
import { methodNotAllowed } from '../../../shared/fhir/outcome';
import type { AuditRecorder } from '../audit/recorder';
import type { Principal } from '../auth/principal';
import type { HeadDoc } from '../store/documents';
import { lockKey, type PendingWrite, type ResourceStore } from '../store/resource-store';
import { checkWrites, requestAccess } from './access-guard';
import { writeRecords } from './audit-records';
import type { FhirContext } from './context';
import type { FhirRequest } from './types';

export interface RequestState {
  /** Writes of this request were recorded before their commit. */
  writesRecorded: boolean;
}

export function requestContext(ctx: FhirContext, req: FhirRequest, principal: Principal | undefined, audit: AuditRecorder | undefined, state: RequestState): FhirContext {
  if (!principal && !audit && !ctx.auditView) return ctx;
  const beforeCommit = async (writes: PendingWrite[], heads: Map<string, HeadDoc>) => {
    // A transaction entry is the one write path the router's AuditEvent check does not see.
    if (ctx.auditView && writes.some((w) => w.type === 'AuditEvent')) throw methodNotAllowed('AuditEvents are written by the audit trail only');
    if (principal) checkWrites(ctx, principal, writes, heads);
    if (audit) {
      const existed = (w: PendingWrite) => {
        const h = heads.get(lockKey(w.type, w.id));
        return !!h && !h.deleted;
      };
      await audit.record(writeRecords(req, writes, existed));
      state.writesRecorded = true;
    }
  };
  const out: FhirContext = { ...ctx, store: withCommitHook(ctx.store, beforeCommit) };
  if (principal) out.access = requestAccess(ctx, principal);
  return out;
}

/** The same store, whose commit first awaits `hook` (which may throw to refuse). */
function withCommitHook(store: ResourceStore, hook: (writes: PendingWrite[], heads: Map<string, HeadDoc>) => Promise<void>): ResourceStore {
  const commit: ResourceStore['commit'] = async (writes, heads) => {
    await hook(writes, heads);
    return store.commit(writes, heads);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commit') return commit;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
