import type { Finding } from '../findings/schema.js';
import { RECORD_TYPE_RESOLVED, type ResolutionReason, type ResolvedRecord } from './resolved-record.js';
import { FINDING_SCHEMA_VERSION } from '../findings/schema.js';
import { bucketOf, emptyChanges, TOMBSTONE_DAYS, type OpenEntry, type StateChanges, type StateSnapshot } from './state.js';

export type Lifecycle = 'new' | 'open' | 'reopened' | 'unknown';

export interface LifecycleCounts {
  new: number;
  open: number;
  reopened: number;
  resolved: number;
  unknown: number;
}

/** What the scan knows at its end, for deciding what may be resolved. */
export interface ResolveContext {
  interrupted: boolean;
  /** Ids of the rules this run ran: a finding of a deselected rule is not judged, so it stays open. */
  rulesRun: ReadonlySet<string>;
  /** True when a coverage gap covers the project (or its folders or organization). */
  gapCovers(project: string): boolean;
  /** True when the project's jobs were all listed: known, no gap over it, nothing unreadable. */
  listedCompletely(project: string): boolean;
}

/**
 * One scan's view of the finding lifecycle. Given the state the previous scans left (or
 * undefined when it could not be read), it tells each non-passing finding whether it is new,
 * open or reopened, decides at the end which earlier findings this scan may call resolved, and
 * computes the field-level changes to save once delivery has settled.
 */
export class LifecycleTracker {
  readonly counts: LifecycleCounts = { new: 0, open: 0, reopened: 0, resolved: 0, unknown: 0 };
  private readonly seen = new Map<string, { entry: OpenEntry; lifecycle: Lifecycle }>();
  private readonly jobsWithEntries = new Set<string>();
  private readonly judgedJobs = new Set<string>();
  /** `job\nrule` pairs with an unverifiable result this run: an earlier fail there is unconfirmed, not fixed. */
  private readonly unverified = new Set<string>();
  private resolvedRecords: ResolvedRecord[] = [];
  private scan: { scanId: string; observedAt: string } = { scanId: '', observedAt: new Date().toISOString() };

  /** `ownsJob`: this task's share of the jobs (Cloud Run sharding); the rest of the state is left alone. */
  constructor(
    private readonly state: StateSnapshot | undefined,
    private readonly ownsJob?: (jobName: string) => boolean,
  ) {
    if (state) for (const e of state.open.values()) this.jobsWithEntries.add(e.jobName);
  }

  /** Called by the scan before judging: its id and time stamp the lifecycle's records. */
  startScan(scan: { scanId: string; observedAt: string }): void {
    this.scan = scan;
  }

  /** False when the state could not be read: every finding's lifecycle is unknown and nothing is resolved. */
  get known(): boolean {
    return this.state !== undefined;
  }

  /** Told of every job this run judged. */
  jobJudged(jobName: string): void {
    if (this.jobsWithEntries.has(jobName)) this.judgedJobs.add(jobName);
  }

  /** The finding with its `lifecycle` and `firstSeenAt`; passing results are returned as they are. */
  annotate(f: Finding): Finding {
    if (f.status === 'pass') return f;
    if (f.status === 'unverifiable' && this.jobsWithEntries.has(f.job.name)) this.unverified.add(`${f.job.name}\n${f.ruleId}`);
    if (!this.state) {
      this.counts.unknown++;
      return { ...f, lifecycle: 'unknown' };
    }
    const already = this.seen.get(f.findingId);
    if (already) return { ...f, lifecycle: already.lifecycle, firstSeenAt: already.entry.firstSeenAt };
    const prev = this.state.open.get(f.findingId);
    let lifecycle: Lifecycle;
    let firstSeenAt = this.scan.observedAt;
    if (prev) {
      // An entry not marked reported is a finding whose `new` message never arrived: say it again.
      lifecycle = prev.reported ? 'open' : 'new';
      firstSeenAt = prev.firstSeenAt;
    } else lifecycle = this.state.resolved.has(f.findingId) ? 'reopened' : 'new';
    this.counts[lifecycle]++;
    this.seen.set(f.findingId, {
      lifecycle,
      entry: { ruleId: f.ruleId, severity: f.severity, firstSeenAt, jobName: f.job.name, reported: prev?.reported ?? false },
    });
    return { ...f, lifecycle, firstSeenAt };
  }

  /**
   * The earlier findings this run judged and did not find. Only what was judged is resolved:
   * nothing after an interruption; nothing of another task's jobs or of a rule that did not run;
   * nothing in a project a coverage gap covers, or of a job and rule that came out unverifiable;
   * a job that is gone only when its project was listed completely.
   */
  resolve(ctx: ResolveContext): ResolvedRecord[] {
    if (!this.state || ctx.interrupted) return [];
    const records: ResolvedRecord[] = [];
    for (const [findingId, e] of this.state.open) {
      if (this.seen.has(findingId)) continue;
      if (this.ownsJob && !this.ownsJob(e.jobName)) continue;
      if (!ctx.rulesRun.has(e.ruleId)) continue;
      const { project, location } = jobParts(e.jobName);
      let reason: ResolutionReason;
      if (this.judgedJobs.has(e.jobName)) {
        if (ctx.gapCovers(project) || this.unverified.has(`${e.jobName}\n${e.ruleId}`)) continue;
        reason = 'no-longer-raised';
      } else {
        if (!ctx.listedCompletely(project)) continue;
        reason = 'job-deleted';
      }
      records.push({
        recordType: RECORD_TYPE_RESOLVED,
        schemaVersion: FINDING_SCHEMA_VERSION,
        lifecycle: 'resolved',
        findingId,
        ruleId: e.ruleId,
        severity: e.severity,
        job: { name: e.jobName, project, location },
        firstSeenAt: e.firstSeenAt,
        resolvedAt: this.scan.observedAt,
        reason,
        scanId: this.scan.scanId,
      });
    }
    this.resolvedRecords = records;
    this.counts.resolved = records.length;
    return records;
  }

  /**
   * The changes to save, given the ids whose messages were not delivered: a `new` finding is
   * recorded as reported only once its message went out, and a resolution whose message did not
   * go out leaves the finding open, so the next scan says both again.
   */
  changes(undelivered: ReadonlySet<string>): StateChanges {
    const c = emptyChanges();
    if (!this.state) return c;
    for (const [id, { entry, lifecycle }] of this.seen) {
      const reported = lifecycle === 'open' || entry.reported || !undelivered.has(id);
      const want = { ...entry, reported };
      const prev = this.state.open.get(id);
      if (!prev || !sameEntry(prev, want)) c.upsertOpen.set(id, want);
      const tomb = this.state.resolved.get(id);
      if (tomb) c.removeResolved.set(id, tomb.bucket);
    }
    for (const r of this.resolvedRecords) {
      if (undelivered.has(r.findingId)) continue;
      const bucket = bucketOf(r.job.name);
      c.removeOpen.set(r.findingId, bucket);
      c.upsertResolved.set(r.findingId, { resolvedAt: r.resolvedAt, bucket });
    }
    // Old tombstones go only with a bucket that is written anyway: pruning never costs a write.
    const touched = new Set<number>([...c.removeOpen.values(), ...c.removeResolved.values(), ...[...c.upsertOpen.values()].map((e) => bucketOf(e.jobName))]);
    const cutoff = Date.parse(this.scan.observedAt) - TOMBSTONE_DAYS * 86_400_000;
    for (const [id, t] of this.state.resolved) {
      if (touched.has(t.bucket) && Date.parse(t.resolvedAt) < cutoff && !c.upsertResolved.has(id)) c.removeResolved.set(id, t.bucket);
    }
    return c;
  }
}

function sameEntry(a: OpenEntry, b: OpenEntry): boolean {
  return a.ruleId === b.ruleId && a.severity === b.severity && a.firstSeenAt === b.firstSeenAt && a.jobName === b.jobName && a.reported === b.reported;
}

/** `projects/P/locations/L/jobs/J` → P and L. */
export function jobParts(jobName: string): { project: string; location: string } {
  const parts = jobName.split('/');
  return { project: parts[1] ?? '', location: parts[3] ?? '' };
}
