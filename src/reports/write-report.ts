import type { Writable } from 'node:stream';
import { ChunkedWriter } from '../sinks/chunked-writer.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ReportFormat, ReportInput } from './report-input.js';
import { renderSarif } from './sarif.js';

/** Writes a report in pieces with backpressure. */
export async function writeReport(out: Writable, format: ReportFormat, input: ReportInput): Promise<void> {
  const writer = new ChunkedWriter(out);
  const pieces: Iterable<string> =
    format === 'html' ? renderHtml(input) : format === 'sarif' ? renderSarif(input) : format === 'csv' ? renderCsv(input) : [renderMarkdown(input)];
  for (const piece of pieces) await writer.text(piece);
  await writer.end();
}
