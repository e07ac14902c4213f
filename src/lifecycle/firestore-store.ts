import { FieldValue, Firestore, type DocumentData } from '@google-cloud/firestore';
import { StateStoreError } from '../errors.js';
import { bucketId, type StateChanges, type StateSnapshot, type StoreStats } from './state.js';
import { bucketEdits, readBucket, type BucketDocument, type StateStore } from './store.js';

/** Firestore caps a commit at 500 writes and 10 MiB; a first scan can write every bucket in full. */
const MAX_BATCH_WRITES = 500;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** The client retries an unreachable endpoint for about a minute; the scan does not wait that long for its state. */
const READ_TIMEOUT_MS = 20_000;

export interface FirestoreLocation {
  project: string;
  database: string;
  collection: string;
}

/**
 * The state in Firestore (Native mode): one document per job-hash bucket in one collection,
 * open findings and tombstones as map fields keyed by finding id. A save writes each changed
 * bucket once, with set-merge and field deletes: only the named fields change, so tasks that own
 * different jobs never overwrite each other, and a scan in which nothing changed writes nothing.
 * Reads: one per bucket document that exists. The client reads FIRESTORE_EMULATOR_HOST.
 */
export class FirestoreStateStore implements StateStore {
  readonly description: string;
  private readonly db: Firestore;
  constructor(
    private readonly location: FirestoreLocation,
    settings: { apiEndpoint?: string } = {},
  ) {
    this.description = `Firestore ${location.project}/${location.database}/${location.collection}`;
    this.db = new Firestore({
      projectId: location.project,
      databaseId: location.database,
      ...(settings.apiEndpoint ? { host: settings.apiEndpoint, ssl: false } : {}),
    });
  }

  async load() {
    let docs;
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
      });
      try {
        docs = (await Promise.race([this.db.collection(this.location.collection).get(), timeout])).docs;
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      throw new StateStoreError('STATE_READ_FAILED', `cannot read ${this.description}: ${errorText(err)}`, { cause: err });
    }
    const snapshot: StateSnapshot = { open: new Map(), resolved: new Map() };
    const problems: string[] = [];
    for (const doc of docs) readBucket(doc.id, doc.data() as BucketDocument, snapshot, problems, this.description);
    return { ...snapshot, problems, stats: { documentsRead: docs.length, documentsWritten: 0 } };
  }

  async save(changes: StateChanges): Promise<StoreStats> {
    const edits = [...bucketEdits(changes)];
    const collection = this.db.collection(this.location.collection);
    try {
      let batch = this.db.batch();
      let writes = 0;
      let bytes = 0;
      for (const [bucket, e] of edits) {
        const size = editBytes(e.open) + editBytes(e.resolved);
        if (writes > 0 && (writes === MAX_BATCH_WRITES || bytes + size > MAX_BATCH_BYTES)) {
          await batch.commit();
          batch = this.db.batch();
          writes = 0;
          bytes = 0;
        }
        const data: DocumentData = {};
        if (e.open.size > 0) data.open = Object.fromEntries([...e.open].map(([id, v]) => [id, v ?? FieldValue.delete()]));
        if (e.resolved.size > 0) data.resolved = Object.fromEntries([...e.resolved].map(([id, v]) => [id, v ?? FieldValue.delete()]));
        batch.set(collection.doc(bucketId(bucket)), data, { merge: true });
        writes++;
        bytes += size;
      }
      if (writes > 0) await batch.commit();
    } catch (err) {
      throw new StateStoreError('STATE_WRITE_FAILED', `cannot write ${this.description}: ${errorText(err)}`, { cause: err });
    }
    return { documentsRead: 0, documentsWritten: edits.length };
  }

  async close(): Promise<void> {
    await this.db.terminate();
  }
}

function editBytes(m: Map<string, string | null>): number {
  let n = 0;
  for (const [k, v] of m) n += k.length + (v?.length ?? 0) + 16;
  return n;
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  return typeof e?.details === 'string' && e.details ? `${String(e.code)} ${e.details}` : String(e?.message ?? err);
}
