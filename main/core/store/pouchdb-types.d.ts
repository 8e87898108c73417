/**
 * The slice of PouchDB's API that Flint uses, declared here because @types/pouchdb-core
 * redeclares the global `Buffer` interface and breaks Node's Buffer typing under
 * TypeScript 5.9. Extend as more of the API is used.
 */
declare namespace PouchDB {
  namespace Core {
    interface Document {
      _id: string;
      _rev: string;
      _deleted?: boolean;
      _attachments?: Record<string, { content_type?: string; data?: unknown; digest?: string; stub?: boolean; length?: number }>;
      _conflicts?: string[];
      [key: string]: unknown;
    }
    type PutDocument<T = object> = T & { _id: string; _rev?: string; _deleted?: boolean; [key: string]: unknown };
    interface Response {
      ok: boolean;
      id: string;
      rev: string;
    }
    interface Error {
      status?: number;
      name?: string;
      error?: string | boolean;
      reason?: string;
      message?: string;
      id?: string;
    }
    interface AllDocsRow<T extends object = Record<string, unknown>> {
      id: string;
      key: string;
      value: { rev: string; deleted?: boolean };
      doc?: Document & T;
      error?: string;
    }
    interface AllDocsResponse<T extends object = Record<string, unknown>> {
      total_rows: number;
      offset: number;
      rows: Array<AllDocsRow<T>>;
    }
    interface AllDocsOptions {
      include_docs?: boolean;
      conflicts?: boolean;
      attachments?: boolean;
      binary?: boolean;
      startkey?: string;
      endkey?: string;
      inclusive_end?: boolean;
      limit?: number;
      skip?: number;
      descending?: boolean;
      keys?: string[];
    }
    interface GetOptions {
      rev?: string;
      revs?: boolean;
      revs_info?: boolean;
      conflicts?: boolean;
      open_revs?: 'all' | string[];
      attachments?: boolean;
      binary?: boolean;
    }
    interface ChangesOptions {
      since?: number | string;
      limit?: number;
      include_docs?: boolean;
      live?: boolean;
      descending?: boolean;
      doc_ids?: string[];
      conflicts?: boolean;
      style?: 'main_only' | 'all_docs';
    }
    interface ChangesResponseChange {
      id: string;
      seq: number | string;
      changes: Array<{ rev: string }>;
      deleted?: boolean;
      doc?: Document;
    }
    interface ChangesResponse {
      results: ChangesResponseChange[];
      last_seq: number | string;
    }
    interface DatabaseInfo {
      db_name: string;
      doc_count: number;
      update_seq: number | string;
      [key: string]: unknown;
    }
  }

  namespace Configuration {
    interface DatabaseConfiguration {
      adapter?: string;
      auto_compaction?: boolean;
      revs_limit?: number;
      [key: string]: unknown;
    }
  }

  interface Changes extends Promise<Core.ChangesResponse> {
    on(event: string, listener: (...args: any[]) => void): this;
    cancel(): void;
  }

  namespace Replication {
    interface ReplicateOptions {
      live?: boolean;
      retry?: boolean;
      batch_size?: number;
      batches_limit?: number;
      heartbeat?: number | false;
      filter?: (doc: { _id: string; [key: string]: unknown }) => boolean;
      checkpoint?: 'source' | 'target' | false;
      since?: number | string;
    }
    /** A running replication: an event emitter (active, change, paused, denied, error, complete) and a promise. */
    interface Replication<T = unknown> extends Promise<T> {
      on(event: string, listener: (...args: any[]) => void): this;
      cancel(): void;
    }
  }

  interface Database {
    readonly name: string;
    revsDiff(diff: Record<string, string[]>): Promise<Record<string, { missing?: string[]; possible_ancestors?: string[] }>>;
    get<T extends object = Record<string, unknown>>(id: string, options?: Core.GetOptions): Promise<Core.Document & T>;
    put(doc: Core.PutDocument, options?: object): Promise<Core.Response>;
    remove(doc: Core.Document): Promise<Core.Response>;
    remove(id: string, rev: string): Promise<Core.Response>;
    bulkDocs(docs: Core.PutDocument[], options?: { new_edits?: boolean }): Promise<Array<Core.Response | Core.Error>>;
    allDocs<T extends object = Record<string, unknown>>(options?: Core.AllDocsOptions): Promise<Core.AllDocsResponse<T>>;
    changes(options?: Core.ChangesOptions): Changes;
    putAttachment(docId: string, attachmentId: string, rev: string, data: Buffer | Blob | string, type: string): Promise<Core.Response>;
    getAttachment(docId: string, attachmentId: string, options?: { rev?: string }): Promise<Buffer | Blob>;
    info(): Promise<Core.DatabaseInfo>;
    compact(): Promise<unknown>;
    close(): Promise<void>;
    destroy(): Promise<void>;
    replicate: {
      to(target: Database | string, options?: object): Promise<unknown> & { on(e: string, l: (...a: any[]) => void): unknown; cancel(): void };
      from(source: Database | string, options?: object): Promise<unknown> & { on(e: string, l: (...a: any[]) => void): unknown; cancel(): void };
    };
  }

  type Plugin = object | ((pouch: Static) => void);

  interface Static {
    new (name: string, options?: Configuration.DatabaseConfiguration): Database;
    plugin(plugin: Plugin): Static;
    adapter(name: string, init: unknown, preferred?: boolean): void;
    replicate(source: Database | string, target: Database | string, options?: Replication.ReplicateOptions): Replication.Replication<object>;
  }
}
