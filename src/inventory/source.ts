import type { InputProblem, RecordResult } from './asset-record.js';

/** A place a scan could not see: a listing denied, a policy missing on a target's ancestry. */
export interface CoverageGap {
  scope: string;
  reason: string;
}

export interface SourceReport {
  /** Records handed to the consumer. */
  records: number;
  problems: InputProblem[];
  /** Count of problems, which may exceed problems.length when the list is capped. */
  problemCount: number;
  gaps: CoverageGap[];
  /**
   * Whether a Scheduler job of this asset name may have more than one record in the input (a
   * source that can tell; a false "yes" only costs holding that job until the end of the read).
   * Absent: the source passes each job on once.
   */
  mayRepeat?: (jobAssetName: string) => boolean;
}

/**
 * An inventory source: export files, or the Cloud Asset API. It calls `onRecord` for every
 * record, good or unusable, and resolves when everything it could read has been read.
 */
export interface AssetSource {
  readonly description: string;
  /**
   * With `deferJobs`, a source may hold back Scheduler job records (unparsed, or not yet listed)
   * and return them as `deferredJobs`, to be read after the model of everything else is built:
   * a large scan then never holds its jobs in memory.
   */
  read(onRecord: (result: RecordResult) => void, options?: { deferJobs?: boolean }): Promise<SourceReport & { deferredJobs?: DeferredJobs }>;
}

/** Job records a source held back in its first read. */
export interface DeferredJobs {
  /** How many records were held back, for progress; 0 when the source cannot tell in advance (the API). */
  readonly count: number;
  /**
   * Reads them in input order; waits for the callback when it returns a promise (backpressure).
   * Resolves with the places whose jobs could not all be read (a listing that failed midway).
   */
  read(onRecord: (result: RecordResult) => void | Promise<void>): Promise<{ gaps: CoverageGap[] } | void>;
}

/** Thrown by a consumer of `DeferredJobs.read` to end the read early (a stop signal); the source passes it on. */
export class ReadStopped extends Error {
  constructor() {
    super('read stopped by its consumer');
    this.name = 'ReadStopped';
  }
}
