import type { Writable } from 'node:stream';
import type { Finding } from '../findings/schema.js';
import type { ResolvedRecord } from '../lifecycle/resolved-record.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from './sink.js';
import { writeWithDrain } from './chunked-writer.js';
import { escapeJsonText } from '../text/escape-terminal.js';

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
  /** A `finding.resolved` record is one more line, told apart by its `recordType`. */
  writeResolved(record: ResolvedRecord): void | Promise<void> {
    this.count++;
    this.pending += `${JSON.stringify(record)}\n`;
    if (this.pending.length < this.chunkChars) return;
    const text = this.pending;
    this.pending = '';
    return writeWithDrain(this.out, text);
  }
  async close(): Promise<SinkReport> {
    if (this.pending !== '') await writeWithDrain(this.out, escapeJsonText(this.pending));
    this.pending = '';
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
}

/**
 * One JSON document: `{ "findings": [...], "summary": {...} }`, findings streamed as they come;
 * with a state store, `"resolved": [...]` between them.
 */
export class JsonSink implements FindingSink {
  readonly name = 'json';
  private count = 0;
  private resolved: ResolvedRecord[] | undefined;
  constructor(private readonly out: Writable) {}
  write(finding: Finding): void | Promise<void> {
    const prefix = this.count === 0 ? '{"findings":[\n' : ',\n';
    this.count++;
    return writeWithDrain(this.out, prefix + escapeJsonText(JSON.stringify(finding)));
  }
  writeResolved(record: ResolvedRecord): void {
    (this.resolved ??= []).push(record);
  }
  async close(summary: ScanSummary): Promise<SinkReport> {
    const head = this.count === 0 ? '{"findings":[' : '\n';
    const resolved = summary.lifecycle ? `"resolved":[${(this.resolved ?? []).map((r) => `\n${JSON.stringify(r)}`).join(',')}],\n` : '';
    await writeWithDrain(this.out, `${head}],\n${resolved}"summary":${JSON.stringify(summary)}}\n`);
    return { sink: this.name, delivered: this.count + (this.resolved?.length ?? 0), failed: 0 };
  }
}
