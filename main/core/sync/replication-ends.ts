/**
 * Adapters around the databases the pull replicator works with (docs/sync.md, "Receiving").
 */
/**
 * PouchDB 9's replicator calls `src.info()` after each batch for its progress counters and
 * never handles that promise: when the server goes away at that moment, the rejection is
 * unhandled and takes the process down. The counters are all it is used for there, so a
 * source that cannot answer reports no progress instead; the next request fails properly.
 */
export function asReplicationSource(db: PouchDB.Database): PouchDB.Database {
  const info = db.info.bind(db);
  db.info = () => info().catch(() => ({ db_name: db.name, doc_count: 0, update_seq: 0 }));
  return db;
}

/**
 * The pull's target: the inbox, except that a revision the store already has is not
 * missing. The replicator then never fetches what this workstation wrote itself (and
 * pushed) or what the applier already moved over, so its own writes do not come back
 * through the inbox, and a pull resumed after a crash skips what was applied.
 */
export function pullTarget(inbox: PouchDB.Database, store: PouchDB.Database): PouchDB.Database {
  const revsDiff = async (diff: Record<string, string[]>) => {
    const inInbox = await inbox.revsDiff(diff);
    const ask: Record<string, string[]> = {};
    for (const [id, d] of Object.entries(inInbox)) if (d.missing?.length) ask[id] = d.missing;
    if (Object.keys(ask).length === 0) return {};
    return store.revsDiff(ask);
  };
  return new Proxy(inbox, {
    get(target, prop) {
      if (prop === 'revsDiff') return revsDiff;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

