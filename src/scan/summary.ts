import type { InputProblem } from '../inventory/asset-record.js';
import type { CoverageGap } from '../inventory/source.js';
import type { Severity, Status } from '../findings/schema.js';

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
  /** Present with sharded Cloud Run tasks: this task's index and the task count. */
  shard?: { index: number; count: number };
}

export interface RuleErrorCount {
  ruleId: string;
  jobs: number;
  firstJob: string;
  firstError: string;
}
