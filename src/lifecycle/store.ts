import { ConfigurationError } from '../errors.js';
import { bucketFromId, bucketOf, decodeEntry, encodeEntry, FINDING_ID, type StateChanges, type StateSnapshot, type StoreStats } from './state.js';

/**
 * Where finding state lives between scans: a local JSON file, or Firestore. Both keep the same
 * bucket documents (one per job-hash bucket) and apply changes entry by entry, so tasks that
 * own different jobs can write the same bucket without overwriting each other.
 */
export interface StateStore {
  /** For messages: the file path or the Firestore location. */
  readonly description: string;
  load(): Promise<StateSnapshot & { stats: StoreStats; problems: string[] }>;
  /** Applies the changes to the buckets they touch; nothing is written when there are none. */
  save(changes: StateChanges): Promise<StoreStats>;
  close(): Promise<void>;
}

/** One bucket document's content. */
export interface BucketDocument {
  open?: Record<string, unknown>;
  resolved?: Record<string, unknown>;
}

/** Parsed `--state` value. */
export type StateLocation =
  | { kind: 'file'; path: string }
  | { kind: 'firestore'; project: string; database: string; collection: string };

const FIRESTORE = /^firestore:\/\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?\/?$/;
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATABASE = /^(\(default\)|[a-z][a-z0-9-]{2,62})$/;
const COLLECTION = /^[A-Za-z0-9_-]{1,100}$/;

/** `firestore://PROJECT[/DATABASE[/COLLECTION]]`, or a file path. */
export function parseStateLocation(value: string): StateLocation {
  if (!value.startsWith('firestore:')) return { kind: 'file', path: value };
  const m = FIRESTORE.exec(value);
  const [project, database = '(default)', collection = 'cronwarden'] = m ? [m[1]!, m[2], m[3]] : [];
  const bad = (what: string) =>
    new ConfigurationError('INVALID_CONFIG', `--state (or CRONWARDEN_STATE) ${value}: ${what}; expected firestore://PROJECT[/DATABASE[/COLLECTION]]`);
  if (!project) throw bad('not a Firestore location');
  if (!PROJECT.test(project)) throw bad(`"${project}" is not a project ID`);
  if (!DATABASE.test(database)) throw bad(`"${database}" is not a database ID ("(default)" or 4-63 lowercase letters, digits, hyphens)`);
  if (!COLLECTION.test(collection)) throw bad(`"${collection}" is not a collection ID`);
  return { kind: 'firestore', project, database, collection };
}

/** Opens the store; the Firestore client is loaded only when asked for. */
export async function openStateStore(location: StateLocation): Promise<StateStore> {
  if (location.kind === 'file') {
    const { FileStateStore } = await import('./file-store.js');
    return new FileStateStore(location.path);
  }
  const { FirestoreStateStore } = await import('./firestore-store.js');
  return new FirestoreStateStore(location);
}

/** Adds one bucket document's entries to a snapshot; entries that do not decode are named in `problems`. */
export function readBucket(id: string, doc: BucketDocument, into: StateSnapshot, problems: string[], where: string): void {
  const bucket = bucketFromId(id);
  if (bucket === undefined) return;
  for (const [findingId, raw] of Object.entries(doc.open ?? {})) {
    const entry = FINDING_ID.test(findingId) ? decodeEntry(raw) : undefined;
    if (entry) into.open.set(findingId, entry);
    else problems.push(`${where}/${id}: open entry "${findingId}" is not a state entry; ignored (the finding counts as new)`);
  }
  for (const [findingId, raw] of Object.entries(doc.resolved ?? {})) {
    if (FINDING_ID.test(findingId) && typeof raw === 'string' && !Number.isNaN(Date.parse(raw))) into.resolved.set(findingId, { resolvedAt: raw, bucket });
    else problems.push(`${where}/${id}: resolved entry "${findingId}" is not a state entry; ignored`);
  }
}

/** A bucket document with the edits applied (a new object; the input is left as it is). */
export function applyEdits(doc: BucketDocument, edits: BucketEdits): BucketDocument {
  const open: Record<string, unknown> = { ...(doc.open ?? {}) };
  const resolved: Record<string, unknown> = { ...(doc.resolved ?? {}) };
  for (const [id, v] of edits.open) v === null ? delete open[id] : (open[id] = v);
  for (const [id, v] of edits.resolved) v === null ? delete resolved[id] : (resolved[id] = v);
  return { open, resolved };
}

/** Field edits of one bucket document: a value to set, or null to delete the field. */
export interface BucketEdits {
  open: Map<string, string | null>;
  resolved: Map<string, string | null>;
}

/** Groups changes by bucket: the documents a save writes, and nothing else. */
export function bucketEdits(changes: StateChanges): Map<number, BucketEdits> {
  const out = new Map<number, BucketEdits>();
  const of = (b: number): BucketEdits => {
    let v = out.get(b);
    if (!v) out.set(b, (v = { open: new Map(), resolved: new Map() }));
    return v;
  };
  for (const [id, e] of changes.upsertOpen) of(bucketOf(e.jobName)).open.set(id, encodeEntry(e));
  for (const [id, b] of changes.removeOpen) of(b).open.set(id, null);
  for (const [id, t] of changes.upsertResolved) of(t.bucket).resolved.set(id, t.resolvedAt);
  for (const [id, b] of changes.removeResolved) of(b).resolved.set(id, null);
  return out;
}
