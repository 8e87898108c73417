/**
 * Where the push got to in the store's change feed, kept in a local document so that
 * `pending` (local changes not on the server yet) is known again after a restart. Saved at
 * most every PUSH_SEQ_SAVE_MS while pushes run, and once more on close.
 */
import { HEAD_PREFIX, VERSION_PREFIX } from '../store/documents';

export const PUSH_SEQ_DOC = '_local/flint-push-seq';
/** The push checkpoint is saved at most this often. */
const PUSH_SEQ_SAVE_MS = 10_000;

export interface PushCheckpoint {
  /** A push has sent everything up to `seq`: saved now, or when the save interval ends. */
  note(seq: number | string): void;
  /** Local changes since the last saved checkpoint (an estimate until the first push). */
  pending(): Promise<number>;
  /** Saves the latest noted sequence, if any, and stops the timer. */
  close(): Promise<void>;
}

export function createPushCheckpoint(store: PouchDB.Database): PushCheckpoint {
  let savedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let latest: number | string | undefined;
  let closed = false;

  async function save(seq: number | string): Promise<void> {
    try {
      let rev: string | undefined;
      try {
        rev = ((await store.get(PUSH_SEQ_DOC)) as { _rev?: string })._rev;
      } catch {
        rev = undefined;
      }
      await store.put({ _id: PUSH_SEQ_DOC, seq, ...(rev ? { _rev: rev } : {}) } as PouchDB.Core.PutDocument<object>);
    } catch {
      // A concurrent save won; the next change saves again.
    }
  }

  return {
    note(seq) {
      latest = seq;
      const wait = savedAt + PUSH_SEQ_SAVE_MS - Date.now();
      if (wait <= 0) {
        savedAt = Date.now();
        void save(seq);
      } else if (!timer) {
        timer = setTimeout(() => {
          timer = undefined;
          savedAt = Date.now();
          if (latest !== undefined && !closed) void save(latest);
        }, wait);
        timer.unref();
      }
    },
    async pending() {
      let since: number | string = 0;
      try {
        since = ((await store.get(PUSH_SEQ_DOC)) as unknown as { seq: number | string }).seq;
      } catch {
        since = 0;
      }
      const res = await store.changes({ since, limit: 10_000 } as PouchDB.Core.ChangesOptions);
      return res.results.filter((r) => r.id.startsWith(HEAD_PREFIX) || r.id.startsWith(VERSION_PREFIX)).length;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (latest !== undefined) await save(latest);
    },
  };
}
