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
}

/**
 * An inventory source: export files, or the Cloud Asset API. It calls `onRecord` for every
 * record, good or unusable, and resolves when everything it could read has been read.
 */
export interface AssetSource {
  readonly description: string;
  read(onRecord: (result: RecordResult) => void): Promise<SourceReport>;
}
