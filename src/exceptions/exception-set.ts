import type { Finding } from '../findings/schema.js';
import { globToRegExp } from './glob.js';
import type { LoadedEntry, LoadedExceptions } from './load.js';

/** Entries expiring within this many days are warned about. */
export const EXPIRY_WARNING_DAYS = 14;

export type Suppression = NonNullable<Finding['suppression']>;

/** What the summary says about the exceptions file. */
export interface ExceptionsReport {
  file: string;
  entries: number;
  suppressed: number;
  /** Entries past their date: they no longer apply. */
  expired: string[];
  /** Entries that apply today and expire within EXPIRY_WARNING_DAYS. */
  expiringSoon: string[];
  /** Entries in force that matched no finding of this scan. */
  stale: string[];
}

interface Compiled {
  entry: LoadedEntry;
  rules: Set<string>;
  jobs?: RegExp[];
  projects?: RegExp[];
  locations?: RegExp[];
  expired: boolean;
  matched: number;
}

/** The exceptions in force for one scan: decides each finding's suppression and counts matches. */
export class ExceptionSet {
  private readonly compiled: Compiled[];
  private suppressed = 0;

  constructor(
    private readonly loaded: LoadedExceptions,
    private readonly today: Date,
  ) {
    const day = isoDay(today);
    this.compiled = loaded.entries.map((entry) => ({
      entry,
      rules: new Set(entry.rules),
      ...(entry.match.jobs ? { jobs: entry.match.jobs.map(globToRegExp) } : {}),
      ...(entry.match.projects ? { projects: entry.match.projects.map(globToRegExp) } : {}),
      ...(entry.match.locations ? { locations: entry.match.locations.map(globToRegExp) } : {}),
      // `expires` is the last day the entry applies.
      expired: entry.expires < day,
      matched: 0,
    }));
  }

  /** The suppression of a non-passing finding by the first entry in force that covers it. */
  suppressionFor(f: Finding): Suppression | undefined {
    if (f.status === 'pass') return undefined;
    const jobId = f.job.name.slice(f.job.name.lastIndexOf('/') + 1);
    for (const c of this.compiled) {
      if (c.expired || !c.rules.has(f.ruleId)) continue;
      if (c.projects && !c.projects.some((r) => r.test(f.job.project))) continue;
      if (c.locations && !c.locations.some((r) => r.test(f.job.location))) continue;
      if (c.jobs && !c.jobs.some((r, i) => r.test(c.entry.match.jobs![i]!.includes('/') ? f.job.name : jobId))) continue;
      c.matched++;
      this.suppressed++;
      const e = c.entry;
      return { reason: e.reason, owner: e.owner, expires: e.expires, ...(e.ticket ? { ticket: e.ticket } : {}), entry: e.label };
    }
    return undefined;
  }

  /**
   * Expired, soon expiring and stale entries. Only a run that saw everything can call an entry
   * stale: `rulesRun` keeps entries of rules that did not run out of it, and `complete: false`
   * (a task's shard, an interrupted run) leaves it empty.
   */
  report(rulesRun: ReadonlySet<string>, complete = true): ExceptionsReport {
    const soon = isoDay(new Date(this.today.getTime() + EXPIRY_WARNING_DAYS * 86_400_000));
    const name = (c: Compiled) => `${c.entry.label} (${c.entry.rules.join(', ')}; owner ${c.entry.owner}; expires ${c.entry.expires})`;
    return {
      file: this.loaded.path,
      entries: this.compiled.length,
      suppressed: this.suppressed,
      expired: this.compiled.filter((c) => c.expired).map(name),
      expiringSoon: this.compiled.filter((c) => !c.expired && c.entry.expires <= soon).map(name),
      stale: complete ? this.compiled.filter((c) => !c.expired && c.matched === 0 && c.entry.rules.some((r) => rulesRun.has(r))).map(name) : [],
    };
  }
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
