import type { InputProblem } from '../inventory/asset-record.js';
import type { CoverageGap } from '../inventory/source.js';
import type { DuplicateRecord } from '../model/inventory.js';
import type { Severity, Status } from '../findings/schema.js';
import type { LifecycleCounts } from '../lifecycle/tracker.js';
import type { ExceptionsReport } from '../exceptions/exception-set.js';

/** The run's account of itself: printed to stderr, sent as `scan.completed`, used for the exit status. */
export interface ScanSummary {
  scanId: string;
  version: string;
  startedAt: string;
  durationMs: number;
  jobsScanned: number;
  assetsRead: number;
  assetsSkippedByType: Record<string, number>;
  /** Ids of the rules this scan ran, in order (all built-in ones unless a selection or packs changed them). */
  rulesRun: string[];
  findings: {
    total: number;
    byRule: Record<string, Partial<Record<Status, number>>>;
    /** Non-passing results by severity, split by status. */
    bySeverity: Partial<Record<Severity, Partial<Record<'fail' | 'unverifiable', number>>>>;
    byStatus: Partial<Record<Status, number>>;
  };
  unreadableRecords: number;
  /** The first problems, verbatim (file:line or asset, and what was wrong). */
  problems: InputProblem[];
  coverageGaps: CoverageGap[];
  /**
   * Rules that threw or returned results outside the contract: per rule, on how many jobs, and
   * the first job and error. Those jobs lack that rule's verdict, so the run is partial.
   */
  ruleErrors?: RuleErrorCount[];
  /** True when any input was unreadable, any scope/policy was not covered, or a rule failed. */
  partial: boolean;
  /** Scheduler job records in the input, readable or not, before sharding: 0 means the input held no job at all. */
  jobsFound?: number;
  /** Records dropped because another record of the same asset, type and content kind was used. */
  duplicateRecords?: number;
  /** The first duplicates: which record was used and which ignored. */
  duplicates?: DuplicateRecord[];
  /** Counters of the evidence read from outside the inventory, by kind (`attempts`, `groups`), when asked for. */
  evidence?: Record<string, Record<string, number>>;
  /** Present with sharded Cloud Run tasks: this task's index and the task count. */
  shard?: { index: number; count: number };
  /** Present with a state store (--state): lifecycle counts of non-passing findings, and the store's account. */
  lifecycle?: LifecycleCounts & {
    store: string;
    /** Set when the state could not be read or written: lifecycle unknown or not saved, the run is partial. */
    problem?: string;
    documentsRead: number;
    documentsWritten: number;
  };
  /** Present with an exceptions file: what it suppressed, and its expired, soon expiring and stale entries. */
  exceptions?: ExceptionsReport & {
    /** Suppressed `fail` findings by severity: they do not count for --fail-on. */
    suppressedFails: Partial<Record<Severity, number>>;
  };
}

export interface RuleErrorCount {
  ruleId: string;
  jobs: number;
  firstJob: string;
  firstError: string;
}
