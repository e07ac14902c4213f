import type { Writable } from 'node:stream';
import type { Finding } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from '../sinks/sink.js';
import { VERSION } from '../version.js';
import type { ReportFormat, RuleInfo } from './report-input.js';
import { writeReport } from './write-report.js';

/** `scan --format html|markdown|sarif|csv`: findings are kept until the scan ends, then written with its summary. */
export class ReportSink implements FindingSink {
  readonly name: string;
  private readonly findings: Finding[] = [];
  constructor(
    private readonly out: Writable,
    private readonly format: ReportFormat,
    private readonly rules: Map<string, RuleInfo>,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = format;
  }
  write(finding: Finding): void {
    this.findings.push(finding);
  }
  async close(summary: ScanSummary): Promise<SinkReport> {
    await writeReport(this.out, this.format, {
      findings: this.findings,
      summaries: [summary],
      withoutSummary: [],
      problems: [],
      rules: this.rules,
      generatedAt: this.now().toISOString(),
      version: VERSION,
    });
    return { sink: this.name, delivered: this.findings.length, failed: 0 };
  }
}
