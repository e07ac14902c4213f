import type { AttemptHistory } from '../../model/types.js';

/** The parts of a LogEntry the count needs, as @google-cloud/logging gives them. */
export interface RefusedEntry {
  timestamp?: string | Date | { seconds?: number | string; nanos?: number } | null;
  resource?: { type?: string; labels?: Record<string, string> } | null;
  httpRequest?: { status?: number | null } | null;
  data?: unknown;
}

/**
 * Counts refused attempts by job from log entries. The job is named by the entry's resource
 * labels (project_id, location, job_id), else by the payload's `jobName`.
 */
export class AttemptCounter {
  private readonly byJob = new Map<string, AttemptHistory>();

  constructor(
    private readonly window: string,
    private readonly since: Date,
    /** Entries stamped later are not counted, whatever the server returned. */
    private readonly until?: Date,
  ) {}

  add(entry: RefusedEntry): boolean {
    const payload = (entry.data && typeof entry.data === 'object' ? entry.data : {}) as Record<string, unknown>;
    const name = jobNameOf(entry, payload);
    const time = timestampOf(entry.timestamp);
    if (!name || !time) return false;
    if (this.until && Date.parse(time) > this.until.getTime()) return false;
    const http = Number(entry.httpRequest?.status ?? 0) || undefined;
    const status = typeof payload.status === 'string' ? payload.status.toUpperCase() : undefined;
    const kind = http === 401 || (http === undefined && status === 'UNAUTHENTICATED') ? 'unauthenticated' : http === 403 || (http === undefined && status === 'PERMISSION_DENIED') ? 'permissionDenied' : undefined;
    if (!kind) return false;
    const history = this.history(name);
    history[kind]++;
    if (!history.firstFailureTime || time < history.firstFailureTime) history.firstFailureTime = time;
    if (!history.lastFailureTime || time >= history.lastFailureTime) {
      history.lastFailureTime = time;
      history.lastFailure = http ? String(http) : status!;
    }
    return true;
  }

  /** The job's history: zero counts when its logs were read and held no refusal. */
  history(jobName: string): AttemptHistory {
    const key = jobName.toLowerCase();
    let h = this.byJob.get(key);
    if (!h) this.byJob.set(key, (h = { window: this.window, since: this.since.toISOString(), unauthenticated: 0, permissionDenied: 0 }));
    return h;
  }

  /** One shared, read-only history for the jobs whose logs were read and held no refusal. */
  empty(): AttemptHistory {
    return (this.none ??= Object.freeze({ window: this.window, since: this.since.toISOString(), unauthenticated: 0, permissionDenied: 0 }));
  }
  private none?: AttemptHistory;

  peek(jobName: string): AttemptHistory | undefined {
    return this.byJob.get(jobName.toLowerCase());
  }

  get jobs(): number {
    return this.byJob.size;
  }
}

function jobNameOf(entry: RefusedEntry, payload: Record<string, unknown>): string | undefined {
  const l = entry.resource?.labels;
  if (l?.project_id && l.location && l.job_id) return `projects/${l.project_id}/locations/${l.location}/jobs/${l.job_id}`;
  return typeof payload.jobName === 'string' && /^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/.test(payload.jobName) ? payload.jobName : undefined;
}

function timestampOf(t: RefusedEntry['timestamp']): string | undefined {
  if (!t) return undefined;
  if (typeof t === 'string') return Number.isNaN(Date.parse(t)) ? undefined : new Date(t).toISOString();
  if (t instanceof Date) return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
  if (t.seconds === undefined) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}
