import { severityRank, type Finding, type Severity } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';
import type { ResolvedRecord } from '../lifecycle/resolved-record.js';
import type { FindingSink, SinkReport } from './sink.js';

/**
 * Passes on only findings at least as severe as `min` (`--min-severity`): what is shown and
 * emitted, not what is judged; the summary the sink is closed with still counts every result.
 */
export class MinSeveritySink implements FindingSink {
  readonly name: string;
  private readonly threshold: number;
  private dropped = 0;
  constructor(
    private readonly inner: FindingSink,
    min: Severity,
  ) {
    this.name = inner.name;
    this.threshold = severityRank(min);
  }
  write(finding: Finding): void | Promise<void> {
    if (severityRank(finding.severity) > this.threshold) {
      this.dropped++;
      return;
    }
    return this.inner.write(finding);
  }
  // Resolutions are not findings: they pass, as do flushing and the undelivered ids (lifecycle).
  writeResolved(record: ResolvedRecord): void | Promise<void> {
    return this.inner.writeResolved?.(record);
  }
  async flush(): Promise<void> {
    await this.inner.flush?.();
  }
  undelivered(): ReadonlySet<string> {
    return this.inner.undelivered?.() ?? new Set();
  }
  async close(summary: ScanSummary): Promise<SinkReport> {
    const report = await this.inner.close(summary);
    return this.dropped === 0 ? report : { ...report, notes: [...(report.notes ?? []), `${this.dropped} findings below --min-severity not written`] };
  }
}
