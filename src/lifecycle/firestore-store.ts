import { Firestore, type DocumentReference, type Timestamp } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { StateStoreError } from '../errors.js';
import { bucketFromId, bucketId, type StateChanges, type StateSnapshot, type StoreStats } from './state.js';
import { applyEdits, bucketEdits, readBucket, type BucketDocument, type BucketEdits, type StateStore } from './store.js';

/** The client retries an unreachable endpoint for about a minute; the scan does not wait that long for its state. */
const READ_TIMEOUT_MS = 20_000;
/** Bucket documents written at once. */
const WRITE_CONCURRENCY = 16;
/** A bucket another task changed since it was read is read again and the edits applied again, at most this often. */
const MAX_ATTEMPTS = 8;
/** Firestore's document limit is 1 MiB; the field name and metadata take a little of it. */
const MAX_STATE_BYTES = 1_000_000;

/** gRPC codes of a lost race: the precondition (update time) failed, or the document was created meanwhile. */
const FAILED_PRECONDITION = 9;
const ALREADY_EXISTS = 6;

export interface FirestoreLocation {
  project: string;
  database: string;
  collection: string;
}

/**
 * The state in Firestore (Native mode): one document per job-hash bucket in one collection, its
 * open findings and tombstones packed into one string field, `state` (JSON), so a bucket costs
 * one read, one write and one index entry however many findings it holds. A save writes only the
 * buckets whose content changed, each with a precondition on the update time it was read at: a
 * bucket another task wrote meanwhile is read again and this task's edits (which touch only its
 * own jobs' entries) are applied again, so parallel tasks never overwrite each other. A scan in
 * which nothing changed writes nothing. The client reads FIRESTORE_EMULATOR_HOST.
 */
export class FirestoreStateStore implements StateStore {
  readonly description: string;
  private readonly db: Firestore;
  /** What each bucket held when read, and when it was last written: the base of a save. */
  private readonly read = new Map<number, { doc: BucketDocument; updateTime: Timestamp | undefined }>();
  private pendingRead: Promise<void> | undefined;
  private readSettled = false;

  constructor(private readonly location: FirestoreLocation) {
    this.description = `Firestore ${location.project}/${location.database}/${location.collection}`;
    this.db = new Firestore({ projectId: location.project, databaseId: location.database });
  }

  async load() {
    let docs;
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
      });
      const query = this.db.collection(this.location.collection).get();
      // The query may still fail after the timeout won the race: that failure is already reported.
      this.pendingRead = query.then(
        () => undefined,
        () => undefined,
      );
      try {
        docs = (await Promise.race([query, timeout])).docs;
        this.readSettled = true;
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      throw new StateStoreError('STATE_READ_FAILED', `cannot read ${this.description}: ${errorText(err)}`, { cause: err });
    }
    const snapshot: StateSnapshot = { open: new Map(), resolved: new Map() };
    const problems: string[] = [];
    for (const d of docs) {
      const bucket = bucketFromId(d.id);
      if (bucket === undefined) continue;
      const doc = parseState(d.get('state'), `${this.description}/${d.id}`, problems);
      this.read.set(bucket, { doc, updateTime: d.updateTime });
      readBucket(d.id, doc, snapshot, problems, this.description);
    }
    return { ...snapshot, problems, stats: { documentsRead: docs.length, documentsWritten: 0 } };
  }

  async save(changes: StateChanges): Promise<StoreStats> {
    const stats: StoreStats = { documentsRead: 0, documentsWritten: 0 };
    const limit = pLimit(WRITE_CONCURRENCY);
    const collection = this.db.collection(this.location.collection);
    try {
      await Promise.all([...bucketEdits(changes)].map(([bucket, edits]) => limit(() => this.writeBucket(collection.doc(bucketId(bucket)), bucket, edits, stats))));
    } catch (err) {
      throw new StateStoreError('STATE_WRITE_FAILED', `cannot write ${this.description}: ${errorText(err)}`, { cause: err });
    }
    return stats;
  }

  /**
   * Ends the client. A read that timed out may still be retrying inside the client, and ending
   * the client under it would fail it a second time, unhandled: the client then ends once that
   * read has given up, without holding up the run.
   */
  async close(): Promise<void> {
    const pending = this.pendingRead;
    if (pending && !this.readSettled) {
      void pending.then(() => this.db.terminate()).catch(() => undefined);
      return;
    }
    await this.db.terminate();
  }

  private async writeBucket(ref: DocumentReference, bucket: number, edits: BucketEdits, stats: StoreStats): Promise<void> {
    let base = this.read.get(bucket) ?? { doc: {}, updateTime: undefined };
    for (let attempt = 1; ; attempt++) {
      const doc = applyEdits(base.doc, edits);
      const state = JSON.stringify(doc);
      if (Buffer.byteLength(state) > MAX_STATE_BYTES) throw new Error(`bucket ${ref.id} would exceed Firestore's 1 MiB document limit`);
      try {
        const result = base.updateTime ? await ref.update({ state }, { lastUpdateTime: base.updateTime }) : await ref.create({ state });
        stats.documentsWritten++;
        this.read.set(bucket, { doc, updateTime: result.writeTime });
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if ((code !== FAILED_PRECONDITION && code !== ALREADY_EXISTS) || attempt === MAX_ATTEMPTS) throw err;
        // Another task wrote this bucket since it was read: read it again, apply our edits again.
        const fresh = await ref.get();
        stats.documentsRead++;
        base = { doc: fresh.exists ? parseState(fresh.get('state'), ref.path, []) : {}, updateTime: fresh.updateTime };
      }
    }
  }
}

function parseState(raw: unknown, where: string, problems: string[]): BucketDocument {
  if (typeof raw !== 'string') {
    problems.push(`${where}: no state field; ignored`);
    return {};
  }
  try {
    const v = JSON.parse(raw) as BucketDocument;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    problems.push(`${where}: the state field is not JSON; ignored`);
    return {};
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  return typeof e?.details === 'string' && e.details ? `${String(e.code)} ${e.details}` : String(e?.message ?? err);
}
