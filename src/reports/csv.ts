import { escapeTerminal } from '../text/escape-terminal.js';
import { stringify } from 'csv-stringify/sync';
import type { Finding } from '../findings/schema.js';
import type { ReportInput } from './report-input.js';

export const CSV_COLUMNS = [
  'severity',
  'status',
  'ruleId',
  'title',
  'project',
  'location',
  'job',
  'jobName',
  'targetKind',
  'targetResource',
  'targetUrl',
  'message',
  'remediation',
  'commands',
  'docsUrl',
  'lifecycle',
  'findingId',
  'scanId',
  'observedAt',
] as const;

/**
 * A cell as a spreadsheet will read it. Inventory text starting with `=`, `+`, `-`, `@`, a tab or
 * a carriage return would be taken for a formula (CSV injection): such a cell gets a leading `'`.
 */
export function safeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function row(f: Finding): string[] {
  const lifecycle = (f as { lifecycle?: unknown }).lifecycle;
  const values = [
    f.severity,
    f.status,
    f.ruleId,
    f.title,
    f.job.project,
    f.job.location,
    f.job.name.slice(f.job.name.lastIndexOf('/') + 1),
    f.job.name,
    f.target.kind,
    f.target.resource ?? '',
    f.target.url ?? '',
    f.message,
    f.remediation.summary,
    // One command a line: the line breaks are the report's own, not the inventory's.
    (f.remediation.commands ?? []).map(escapeTerminal).join('\n'),
    f.remediation.docsUrl ?? '',
    typeof lifecycle === 'string' ? lifecycle : lifecycle === undefined ? '' : JSON.stringify(lifecycle),
    f.findingId,
    f.scanId,
    f.observedAt,
  ];
  // Control and bidirectional characters from the inventory, escaped as in every other report:
  // a spreadsheet shows a bidi override's reordering, and `cat` an ESC sequence.
  return values.map((v, i) => safeCell(i === COMMANDS_COLUMN ? v : escapeTerminal(v)));
}

const COMMANDS_COLUMN = CSV_COLUMNS.indexOf('commands');

/** RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted, quotes doubled. */
export function* renderCsv(input: ReportInput): Generator<string> {
  const options = { record_delimiter: 'windows' as const, quoted_match: /[",\r\n]/ };
  yield stringify([[...CSV_COLUMNS]], options);
  for (const f of input.findings) yield stringify([row(f)], options);
}
