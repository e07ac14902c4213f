import { createHash } from 'node:crypto';
import type { Severity } from '../findings/schema.js';

/**
 * The state is split into this many documents by a hash of the job name. Fixed, not tied to
 * the Cloud Run task count: a task owns jobs by its own hash (see runtime/cloud-run.ts), so any
 * task count can read and update any bucket, field by field, without owning it. 256 documents
 * of at most 1 MiB hold about a million open findings; a nightly scan reads them all once.
 */
export const BUCKET_COUNT = 256;

/** Tombstones of resolved findings (kept to tell `reopened` from `new`) are dropped after this. */
export const TOMBSTONE_DAYS = 90;

/** What the state keeps of one open finding: enough to emit its `finding.resolved` record. */
export interface OpenEntry {
  ruleId: string;
  severity: Severity;
  firstSeenAt: string;
  jobName: string;
  /** False while the finding's `new` message has not been delivered: the next scan says `new` again. */
  reported: boolean;
}

/** The state as read: open findings and tombstones by finding id. */
export interface StateSnapshot {
  open: Map<string, OpenEntry>;
  /** Resolved findings by id: when they were resolved. */
  resolved: Map<string, { resolvedAt: string; bucket: number }>;
}

/** Field-level changes to the state; each bucket is written only when it has some. */
export interface StateChanges {
  /** Set or replace these open entries. */
  upsertOpen: Map<string, OpenEntry>;
  /** Remove these open entries (resolved); their bucket by job. */
  removeOpen: Map<string, number>;
  /** Add or replace these tombstones. */
  upsertResolved: Map<string, { resolvedAt: string; bucket: number }>;
  /** Remove these tombstones (reopened, or older than TOMBSTONE_DAYS). */
  removeResolved: Map<string, number>;
}

export function emptyChanges(): StateChanges {
  return { upsertOpen: new Map(), removeOpen: new Map(), upsertResolved: new Map(), removeResolved: new Map() };
}

export function changeCount(c: StateChanges): number {
  return c.upsertOpen.size + c.removeOpen.size + c.upsertResolved.size + c.removeResolved.size;
}

/** Read and write counts of one store operation, in documents (Firestore bills by these). */
export interface StoreStats {
  documentsRead: number;
  documentsWritten: number;
}

/** The bucket of a job: SHA-256 of its full name, first four bytes, modulo BUCKET_COUNT. */
export function bucketOf(jobName: string): number {
  return createHash('sha256').update(jobName).digest().readUInt32BE(0) % BUCKET_COUNT;
}

export function bucketId(bucket: number): string {
  return `bucket-${String(bucket).padStart(3, '0')}`;
}

export function bucketFromId(id: string): number | undefined {
  const m = /^bucket-(\d{3})$/.exec(id);
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n < BUCKET_COUNT ? n : undefined;
}

/** An open entry as stored: one JSON array string (a single indexed field per finding). */
export function encodeEntry(e: OpenEntry): string {
  return JSON.stringify([e.ruleId, e.severity, e.firstSeenAt, e.jobName, e.reported ? 1 : 0]);
}

const SEVERITY_VALUES = new Set(['critical', 'high', 'medium', 'low', 'info']);

/** Decodes a stored entry; undefined when it is not one (the caller reports it). */
export function decodeEntry(raw: unknown): OpenEntry | undefined {
  if (typeof raw !== 'string') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 5) return undefined;
  const [ruleId, severity, firstSeenAt, jobName, reported] = v as unknown[];
  if (typeof ruleId !== 'string' || typeof severity !== 'string' || !SEVERITY_VALUES.has(severity)) return undefined;
  if (typeof firstSeenAt !== 'string' || typeof jobName !== 'string' || !jobName.startsWith('projects/')) return undefined;
  return { ruleId, severity: severity as Severity, firstSeenAt, jobName, reported: reported === 1 };
}

export const FINDING_ID = /^[0-9a-f]{32}$/;
