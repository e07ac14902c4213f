import type { Writable } from 'node:stream';
import type { Finding } from '../findings/schema.js';
import { severityRank } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from './sink.js';
import { escapeJsonText } from '../text/escape-terminal.js';

/** Writes with backpressure: resolves when the stream can take more. */
function writeWithDrain(out: Writable, text: string): void | Promise<void> {
  if (out.write(text)) return;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      out.off('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/**
 * One finding per line. Lines are gathered into writes of about 64 KiB (a write per finding
 * showed in profiles of large scans); `close` writes the rest.
 */
export class JsonlSink implements FindingSink {
  readonly name = 'jsonl';
  private count = 0;
  private pending = '';
  constructor(
    private readonly out: Writable,
    private readonly chunkChars = 64 * 1024,
  ) {}
  write(finding: Finding): void | Promise<void> {
    this.count++;
    this.pending += `${JSON.stringify(finding)}\n`;
    if (this.pending.length < this.chunkChars) return;
    // Bidi and C1 characters from the inventory as \u escapes: the same JSON, safe to `cat`.
    const text = escapeJsonText(this.pending);
    this.pending = '';
    return writeWithDrain(this.out, text);
  }
  async close(): Promise<SinkReport> {
    if (this.pending !== '') await writeWithDrain(this.out, escapeJsonText(this.pending));
    this.pending = '';
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
}

/** One JSON document: `{ "findings": [...], "summary": {...} }`, findings streamed as they come. */
export class JsonSink implements FindingSink {
  readonly name = 'json';
  private count = 0;
  constructor(private readonly out: Writable) {}
  write(finding: Finding): void | Promise<void> {
    const prefix = this.count === 0 ? '{"findings":[\n' : ',\n';
    this.count++;
    return writeWithDrain(this.out, prefix + escapeJsonText(JSON.stringify(finding)));
  }
  async close(summary: ScanSummary): Promise<SinkReport> {
    const head = this.count === 0 ? '{"findings":[' : '\n';
    await writeWithDrain(this.out, `${head}],\n"summary":${JSON.stringify(summary)}}\n`);
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
}

const STATUS_ORDER = { fail: 0, unverifiable: 1, pass: 2 } as const;

/** A table for people: kept in memory (findings, not jobs), sorted by severity, printed at the end. */
export class TableSink implements FindingSink {
  readonly name = 'table';
  private readonly rows: Finding[] = [];
  constructor(
    private readonly out: Writable,
    private readonly width: number = 160,
  ) {}
  write(finding: Finding): void {
    this.rows.push(finding);
  }
  async close(): Promise<SinkReport> {
    this.rows.sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        severityRank(a.severity) - severityRank(b.severity) ||
        a.job.name.localeCompare(b.job.name) ||
        a.ruleId.localeCompare(b.ruleId),
    );
    const header = ['SEVERITY', 'STATUS', 'RULE', 'JOB', 'MESSAGE'];
    const cells = this.rows.map((f) => [f.severity, f.status, f.ruleId, `${f.job.project}/${f.job.location}/${jobId(f.job.name)}`, f.message]);
    const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const fixed = widths.reduce((a, b) => a + b + 2, 0);
    const messageWidth = Math.max(30, this.width - fixed);
    const pad = ' '.repeat(fixed);
    // Long messages wrap under the message column: a finding's message is never cut.
    const line = (c: string[]): string =>
      [...c.slice(0, 4).map((v, i) => v.padEnd(widths[i]!)), wrap(c[4]!, messageWidth).join(`\n${pad}`)].join('  ').trimEnd();
    const text = this.rows.length === 0 ? 'No findings.\n' : [line(header), ...cells.map(line)].join('\n') + '\n';
    await writeWithDrain(this.out, text);
    return { sink: this.name, delivered: this.rows.length, failed: 0 };
  }
}

function jobId(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  lines.push(current);
  return lines;
}
