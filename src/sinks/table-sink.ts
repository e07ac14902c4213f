import type { Writable } from 'node:stream';
import type { Finding, Severity, Status } from '../findings/schema.js';
import { severityRank } from '../findings/schema.js';
import { escapeTerminal } from '../text/escape-terminal.js';
import { displayWidth, fitLines, padEnd, painter, truncate, wrap, type Style } from '../text/terminal.js';
import type { FindingSink, SinkReport } from './sink.js';
import { ChunkedWriter } from './chunked-writer.js';

export type GroupBy = 'project' | 'rule' | 'none';

export interface TableOptions {
  /** Columns to fit every line into. */
  width: number;
  colour: boolean;
  groupBy: GroupBy;
  /** The full message, the fix and its commands under each finding. */
  wide: boolean;
}

/** What the table keeps of a finding: a million findings must fit in memory as rows. */
interface Row {
  severity: Severity;
  status: Status;
  ruleId: string;
  project: string;
  /** The job id, escaped (project and location are in the group title, or in --wide). */
  job: string;
  location: string;
  message: string;
  isNew: boolean;
  fix?: { summary: string; commands: string[] };
}

const SEVERITY_LABEL: Record<Severity, string> = { critical: 'CRIT', high: 'HIGH', medium: 'MED', low: 'LOW', info: 'INFO' };
const SEVERITY_STYLE: Record<Severity, Style> = { critical: ['bold', 'magenta'], high: ['bold', 'red'], medium: 'yellow', low: 'cyan', info: 'gray' };
const STATUS_LABEL: Record<Status, string> = { fail: 'fail', unverifiable: 'unver', pass: 'pass' };
const STATUS_STYLE: Record<Status, Style> = { fail: 'red', unverifiable: 'yellow', pass: 'green' };
const STATUS_ORDER: Record<Status, number> = { fail: 0, unverifiable: 1, pass: 2 };

/** Whether a finding is new since the last scan (with a state store): first seen, or seen again after it was resolved. */
export function isNewFinding(f: Finding): boolean {
  return f.lifecycle === 'new' || f.lifecycle === 'reopened';
}

export function hasLifecycle(f: Finding): boolean {
  return f.lifecycle !== undefined;
}

/**
 * The table for people on a terminal: one line per finding that fits the width (severity, status,
 * rule, job, message cut with `…`), grouped by project or rule, new findings first in each group.
 * `wide` adds the full message and the fix. Every value from the inventory is escaped, so a job
 * name cannot move the cursor, recolour the screen or start a row of its own.
 */
export class TableSink implements FindingSink {
  readonly name = 'table';
  private readonly rows: Row[] = [];
  private lifecycle = false;
  constructor(
    private readonly out: Writable,
    private readonly options: TableOptions,
  ) {}

  write(f: Finding): void {
    if (!this.lifecycle && hasLifecycle(f)) this.lifecycle = true;
    const jobId = f.job.name.slice(f.job.name.lastIndexOf('/') + 1);
    this.rows.push({
      severity: f.severity,
      status: f.status,
      ruleId: escapeTerminal(f.ruleId),
      project: escapeTerminal(f.job.project),
      job: escapeTerminal(jobId),
      location: escapeTerminal(f.job.location),
      message: escapeTerminal(f.message),
      isNew: isNewFinding(f),
      ...(this.options.wide
        ? { fix: { summary: escapeTerminal(f.remediation.summary), commands: (f.remediation.commands ?? []).map(escapeTerminal) } }
        : {}),
    });
  }

  async close(): Promise<SinkReport> {
    const writer = new ChunkedWriter(this.out);
    for (const line of renderTable(this.rows, this.options, this.lifecycle)) await writer.line(line);
    await writer.end();
    return { sink: this.name, delivered: this.rows.length, failed: 0 };
  }
}

function groupKey(r: Row, by: GroupBy): string {
  return by === 'project' ? r.project : by === 'rule' ? r.ruleId : '';
}

/** Lines of the table; a generator, so that a million rows are never one string or one argument list. */
export function* renderTable(rows: Row[], o: TableOptions, lifecycle: boolean): Generator<string> {
  const paint = painter(o.colour);
  const width = Math.max(20, o.width);
  if (rows.length === 0) {
    yield 'No findings.';
    return;
  }
  // Code-point order, not the locale's: the same on every machine, and fast for a million rows.
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  rows.sort(
    (a, b) =>
      cmp(groupKey(a, o.groupBy), groupKey(b, o.groupBy)) ||
      Number(b.isNew) - Number(a.isNew) ||
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      severityRank(a.severity) - severityRank(b.severity) ||
      cmp(a.job, b.job) ||
      cmp(a.ruleId, b.ruleId),
  );
  const showRule = o.groupBy !== 'rule';
  const showProject = o.groupBy !== 'project';
  // Widths from the longest values, found with a loop: no argument list as long as the rows.
  let longestRule = 4;
  let longestJob = 3;
  for (const r of rows) {
    if (showRule && r.ruleId.length > longestRule) longestRule = r.ruleId.length;
    const j = jobLabel(r, showProject);
    if (j.length > longestJob) longestJob = j.length;
  }
  const marker = lifecycle ? 3 : 0;
  const fixed = marker + 4 + 2 + 5 + 2;
  const available = width - fixed;
  // The message gets most of a narrow terminal; rule and job names are cut first.
  const ruleWidth = showRule ? Math.min(longestRule, Math.max(10, Math.floor(available * 0.24))) : 0;
  const jobWidth = Math.min(longestJob, Math.max(10, Math.floor(available * (showRule ? 0.24 : 0.34))));
  const messageWidth = Math.max(0, available - (showRule ? ruleWidth + 2 : 0) - jobWidth - 2);

  const cells = (sev: string, status: string, rule: string, job: string, message: string, isNew: boolean, style?: { sev: Style; status: Style }): string => {
    const parts = [
      ...(lifecycle ? [isNew ? paint('bold', '+') : ' '] : []),
      style ? paint(style.sev, padEnd(sev, 4)) : padEnd(sev, 4),
      style ? paint(style.status, padEnd(status, 5)) : padEnd(status, 5),
      ...(showRule ? [padEnd(truncate(rule, ruleWidth), ruleWidth)] : []),
      padEnd(truncate(job, jobWidth), jobWidth),
      truncate(message, messageWidth),
    ];
    return parts.join('  ').trimEnd();
  };
  // The header fits the same columns as the rows.
  yield truncate(paint('bold', cells('SEV', 'STAT', 'RULE', 'JOB', 'MESSAGE', false)), width);

  let group: string | undefined;
  let truncated = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const key = groupKey(r, o.groupBy);
    if (o.groupBy !== 'none' && key !== group) {
      group = key;
      let count = 0;
      let fresh = 0;
      for (let j = i; j < rows.length && groupKey(rows[j]!, o.groupBy) === key; j++) {
        count++;
        if (rows[j]!.isNew) fresh++;
      }
      const title = `${o.groupBy === 'project' ? 'project' : 'rule'} ${key} — ${count} finding${count === 1 ? '' : 's'}${lifecycle ? `, ${fresh} new` : ''}`;
      yield '';
      yield paint('bold', truncate(title, width));
    }
    // The last guard: on a very narrow terminal the fixed columns alone may not fit.
    const line = truncateStyled(cells(SEVERITY_LABEL[r.severity], STATUS_LABEL[r.status], r.ruleId, jobLabel(r, showProject), r.message, r.isNew, {
      sev: SEVERITY_STYLE[r.severity],
      status: STATUS_STYLE[r.status],
    }), width, o.colour);
    if (displayWidth(r.message) > messageWidth || jobLabel(r, showProject).length > jobWidth || (showRule && r.ruleId.length > ruleWidth)) truncated++;
    yield line;
    if (o.wide) yield* wideDetails(r, width, paint);
  }
  yield '';
  const legend = [
    `${rows.length} finding${rows.length === 1 ? '' : 's'}`,
    ...(lifecycle ? ['+ new since the last scan'] : []),
    ...(!o.wide && truncated > 0 ? [`${truncated} cut to fit: --wide shows them in full, with the fix`] : []),
  ];
  yield fitLines(legend.join('; '), width);
}

/** Cuts a line with colour codes by its visible width; plain lines take the fast path. */
function truncateStyled(line: string, width: number, colour: boolean): string {
  if (!colour) return truncate(line, width);
  return displayWidth(line) <= width ? line : truncate(line, width);
}

function jobLabel(r: Row, withProject: boolean): string {
  return withProject ? `${r.project}/${r.job}` : r.job;
}

/** The full message, the fix and its commands, indented under the finding's line. */
function* wideDetails(r: Row, width: number, paint: (s: Style, t: string) => string): Generator<string> {
  const indent = '    ';
  const inner = Math.max(10, width - indent.length);
  for (const l of wrap(`${r.project}/${r.location}/${r.job}: ${r.message}`, inner)) yield indent + l;
  if (!r.fix) return;
  for (const l of wrap(`fix: ${r.fix.summary}`, inner)) yield indent + paint('green', l);
  for (const c of r.fix.commands) yield* commandLines(c, width);
}

/**
 * A command laid out in lines of at most `width` columns that still paste as the one command:
 * broken between words with ` \` (continuations indented), and a word longer than a line broken
 * inside with `\` and no indent on the next line (inside single quotes the quote is closed before
 * the break and reopened after it). Commands are printed flush left, without a prompt, so that
 * the lines can be copied as they are.
 */
export function commandLines(command: string, width: number): string[] {
  const room = Math.max(8, width);
  const words = command.match(/(?:[^\s'\\]+|'[^']*'|\\.)+/g) ?? [command];
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    const joined = current === '' ? word : `${current} ${word}`;
    if (joined.length + 2 <= room) {
      current = joined;
      continue;
    }
    if (current !== '') {
      lines.push(`${current} \\`);
      current = '  ';
    }
    if (current.length + word.length + 2 <= room) {
      current += word;
      continue;
    }
    // Every piece but the last ends with `\`; the last may get ` \` when a word follows. A word
    // that fits the first line only without those two columns is still broken, never repeated.
    const pieces = splitWord(word, room - current.length - 2, room - 2);
    lines.push(`${current}${pieces[0]}\\`);
    for (const piece of pieces.slice(1, -1)) lines.push(`${piece}\\`);
    current = pieces.at(-1)!;
  }
  lines.push(current);
  return lines;
}

/** A shell word in pieces of at most `first`, then `rest`, columns, each ready to end a line with `\`. */
function splitWord(word: string, first: number, rest: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let quoted = false;
  let limit = Math.max(4, first);
  for (let i = 0; i < word.length; i++) {
    // `\'` outside quotes is one unit; a quote toggles quoting.
    const unit = !quoted && word[i] === '\\' ? word.slice(i, i + 2) : word[i]!;
    // Room for the unit and, when it leaves the piece inside quotes, for the closing quote a
    // later break adds (an opening quote counts: the piece is then inside quotes).
    const quotedAfter = unit === "'" ? !quoted : quoted;
    if (piece.length + unit.length + (quotedAfter ? 1 : 0) > limit) {
      pieces.push(quoted ? `${piece}'` : piece);
      piece = quoted ? "'" : '';
      limit = Math.max(4, rest);
    }
    piece += unit;
    if (unit === "'") quoted = !quoted;
    i += unit.length - 1;
  }
  pieces.push(piece);
  return pieces;
}
