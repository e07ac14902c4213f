import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateStoreError } from '../errors.js';
import { bucketId, type StateChanges, type StateSnapshot, type StoreStats } from './state.js';
import { applyEdits, bucketEdits, readBucket, type BucketDocument, type StateStore } from './store.js';

interface StateFile {
  cronwarden: 'lifecycle-state';
  version: 1;
  buckets: Record<string, BucketDocument>;
}

/**
 * The state in one local JSON file, for local runs and CI: the same bucket documents as the
 * Firestore store. A save reads the file again and applies only its own changes, so tasks run one
 * after the other keep each other's shares; the file is replaced atomically (write, then rename).
 * One writer at a time: parallel tasks use Firestore.
 */
export class FileStateStore implements StateStore {
  readonly description: string;
  constructor(private readonly path: string) {
    this.description = `state file ${path}`;
  }

  async load() {
    const file = this.read();
    const snapshot: StateSnapshot = { open: new Map(), resolved: new Map() };
    const problems: string[] = [];
    for (const [id, doc] of Object.entries(file.buckets)) readBucket(id, doc, snapshot, problems, this.path);
    return { ...snapshot, problems, stats: { documentsRead: Object.keys(file.buckets).length, documentsWritten: 0 } };
  }

  async save(changes: StateChanges): Promise<StoreStats> {
    const edits = bucketEdits(changes);
    if (edits.size === 0) return { documentsRead: 0, documentsWritten: 0 };
    const file = this.read();
    for (const [bucket, e] of edits) file.buckets[bucketId(bucket)] = applyEdits(file.buckets[bucketId(bucket)] ?? {}, e);
    const sorted: StateFile = { ...file, buckets: Object.fromEntries(Object.entries(file.buckets).sort(([a], [b]) => a.localeCompare(b))) };
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(sorted)}\n`);
      renameSync(tmp, this.path);
    } catch (err) {
      throw new StateStoreError('STATE_WRITE_FAILED', `cannot write ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    return { documentsRead: 1, documentsWritten: edits.size };
  }

  async close(): Promise<void> {}

  /** The file's content; a missing file is an empty state (the first scan). */
  private read(): StateFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { cronwarden: 'lifecycle-state', version: 1, buckets: {} };
      throw new StateStoreError('STATE_READ_FAILED', `cannot read ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: Partial<StateFile>;
    try {
      parsed = JSON.parse(text) as Partial<StateFile>;
    } catch (err) {
      throw new StateStoreError('STATE_READ_FAILED', `${this.description} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (parsed?.cronwarden !== 'lifecycle-state' || parsed.version !== 1 || typeof parsed.buckets !== 'object' || parsed.buckets === null) {
      throw new StateStoreError('STATE_READ_FAILED', `${this.description} is not a cronwarden state file (version 1)`);
    }
    return parsed as StateFile;
  }
}
