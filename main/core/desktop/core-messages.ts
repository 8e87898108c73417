/**
 * The messages between the desktop shell and the workstation core when the core runs in a
 * process of its own (docs/decisions.md, "The desktop app's core runs in a utility process").
 * The shell sends requests, the core sends events; both sides check what they receive,
 * because a message port carries whatever it is given.
 */
import type { SyncStatus } from '../../../shared/api/sync';

/** Shell -> core. */
export type CoreRequest =
  /** Pause or resume sync (the same setting as `flint sync pause|resume`); answered by `sync-paused` with the same id. */
  | { type: 'set-sync-paused'; id: number; paused: boolean }
  /** Stop sync cleanly, close the stores, answer `stopped` and exit 0. */
  | { type: 'stop' };

/** Core -> shell. */
export type CoreEvent =
  /** The workstation serves: `baseUrl` is its origin (the UI at /, FHIR at /fhir). */
  | { type: 'ready'; baseUrl: string; setupUrl?: string; workstationId: string }
  /** A distinct sync status, the current one first. */
  | { type: 'sync-status'; status: SyncStatus }
  /** The answer to `set-sync-paused`; `message` says why not (no PHI: sync settings only). */
  | { type: 'sync-paused'; id: number; ok: boolean; message?: string }
  | { type: 'stopped' }
  /** The core could not start; `message` is for the user and holds no PHI. The process exits 1. */
  | { type: 'failed'; message: string };

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The request in `x`, or undefined if it is not one. */
export function parseCoreRequest(x: unknown): CoreRequest | undefined {
  if (!isRecord(x)) return undefined;
  if (x.type === 'stop') return { type: 'stop' };
  if (x.type === 'set-sync-paused' && isId(x.id) && typeof x.paused === 'boolean') return { type: 'set-sync-paused', id: x.id, paused: x.paused };
  return undefined;
}

/** The event in `x`, or undefined if it is not one. */
export function parseCoreEvent(x: unknown): CoreEvent | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case 'ready':
      if (typeof x.baseUrl !== 'string' || typeof x.workstationId !== 'string') return undefined;
      if (x.setupUrl !== undefined && typeof x.setupUrl !== 'string') return undefined;
      return { type: 'ready', baseUrl: x.baseUrl, workstationId: x.workstationId, ...(typeof x.setupUrl === 'string' ? { setupUrl: x.setupUrl } : {}) };
    case 'sync-status':
      return isRecord(x.status) && typeof x.status.state === 'string' ? { type: 'sync-status', status: x.status as unknown as SyncStatus } : undefined;
    case 'sync-paused':
      if (!isId(x.id) || typeof x.ok !== 'boolean') return undefined;
      return { type: 'sync-paused', id: x.id, ok: x.ok, ...(typeof x.message === 'string' ? { message: x.message } : {}) };
    case 'stopped':
      return { type: 'stopped' };
    case 'failed':
      return typeof x.message === 'string' ? { type: 'failed', message: x.message } : undefined;
    default:
      return undefined;
  }
}
