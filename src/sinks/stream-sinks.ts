import type { Writable } from 'node:stream';
import type { Finding } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from './sink.js';
import { writeWithDrain } from './chunked-writer.js';

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
    const text = this.pending;
    this.pending = '';
    return writeWithDrain(this.out, text);
  }
  async close(): Promise<SinkReport> {
    if (this.pending !== '') await writeWithDrain(this.out, this.pending);
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
    return writeWithDrain(this.out, prefix + JSON.stringify(finding));
  }
  async close(summary: ScanSummary): Promise<SinkReport> {
    const head = this.count === 0 ? '{"findings":[' : '\n';
    await writeWithDrain(this.out, `${head}],\n"summary":${JSON.stringify(summary)}}\n`);
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
}
