import type { Finding } from '../findings/schema.js';
import type { ResolvedRecord } from '../lifecycle/resolved-record.js';
import type { ScanSummary } from '../scan/summary.js';

/** What a sink reports when closed: partial delivery is visible in the exit status. */
export interface SinkReport {
  sink: string;
  delivered: number;
  /** Findings (or events) the sink could not deliver; > 0 makes the run partial. */
  failed: number;
  /** Where undelivered messages were kept, if anywhere. */
  spoolPath?: string;
  notes?: string[];
}

/**
 * A findings sink: stdout (table, JSONL, JSON), Pub/Sub. `write` may apply backpressure by
 * returning a promise; `close` flushes everything in flight and receives the final summary.
 */
export interface FindingSink {
  readonly name: string;
  write(finding: Finding): void | Promise<void>;
  /** A `finding.resolved` record (with a state store): after every finding, before `close`. */
  writeResolved?(record: ResolvedRecord): void | Promise<void>;
  /** Settles everything sent so far (before the state is saved); `close` follows. */
  flush?(): Promise<void>;
  /** After `flush`: ids of findings and resolutions this sink could not deliver (kept in its spool). */
  undelivered?(): ReadonlySet<string>;
  close(summary: ScanSummary): Promise<SinkReport>;
}
