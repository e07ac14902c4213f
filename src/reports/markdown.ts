import type { Finding } from '../findings/schema.js';
import { SEVERITIES } from '../findings/schema.js';
import { escapeTerminal } from '../text/escape-terminal.js';
import { compareFindings, countFindings, ruleInfoOf, scanWarnings, type ReportInput } from './report-input.js';

/** GitHub's limit on a comment or issue body. */
export const MARKDOWN_LIMIT = 65_536;

/** Inventory text in Markdown: control characters visible, Markdown and HTML syntax taken literally. */
export function mdText(text: string): string {
  // Inline text (line breaks are already escaped): emphasis, code, links, HTML, tables, strike-through.
  return escapeTerminal(text).replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`);
}

/** Inline code that no backtick in the value can close early. */
function mdCode(text: string): string {
  const value = escapeTerminal(text);
  let fence = '`';
  while (value.includes(fence)) fence += '`';
  const pad = value.startsWith('`') || value.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** A fenced block that no line of the content can close. */
function mdBlock(lines: string[], info: string): string {
  const body = lines.map(escapeTerminal).join('\n');
  let fence = '```';
  while (body.includes(fence)) fence += '`';
  return `${fence}${info}\n${body}\n${fence}`;
}

/**
 * For tickets and pull-request comments: the summary table, then findings grouped by rule with
 * their fixes in code blocks. Cut to stay under GitHub's 65,536-character limit, saying how many
 * findings were left out.
 */
export function renderMarkdown(input: ReportInput, limit = MARKDOWN_LIMIT): string {
  const findings = input.findings.filter((f) => f.status !== 'pass').sort(compareFindings);
  const counts = countFindings(findings);
  const head: string[] = ['# cronwarden report', ''];
  const scans = input.summaries.map((s) => `scan \`${s.scanId}\` (${s.jobsScanned} jobs, ${s.startedAt})`);
  head.push(`cronwarden ${input.version}${scans.length > 0 ? `, ${scans.join('; ')}` : ''}: **${counts.byStatus.fail} fail**, ${counts.byStatus.unverifiable} unverifiable.`, '');
  const warnings = scanWarnings(input);
  if (warnings.length > 0) {
    for (const w of warnings.slice(0, 20)) head.push(`> **Warning:** ${mdText(w)}`, '>');
    if (warnings.length > 20) head.push(`> … and ${warnings.length - 20} more warnings`);
    head.push('');
  }
  head.push('| severity | fail | unverifiable |', '|---|---:|---:|');
  for (const sev of SEVERITIES) {
    const fail = findings.filter((f) => f.severity === sev && f.status === 'fail').length;
    const unver = findings.filter((f) => f.severity === sev && f.status === 'unverifiable').length;
    if (fail + unver > 0) head.push(`| ${sev} | ${fail} | ${unver} |`);
  }
  head.push('', '| rule | findings |', '|---|---:|');
  for (const [rule, n] of [...counts.byRule].sort((a, b) => b[1] - a[1])) head.push(`| \`${rule}\` | ${n} |`);
  head.push('');

  let text = head.join('\n');
  // Reserve room for the note about what was left out.
  const budget = limit - 400;
  let shown = 0;
  let currentRule: string | undefined;
  for (const f of groupByRule(findings)) {
    let piece = '';
    if (f.ruleId !== currentRule) {
      const info = ruleInfoOf(input, f);
      const n = counts.byRule.get(f.ruleId) ?? 0;
      piece += `\n## \`${f.ruleId}\` — ${mdText(info.title)} (${n})\n\n${info.docsUrl ? `Documentation: <${info.docsUrl}>\n\n` : ''}`;
    }
    piece += findingMarkdown(f);
    if (text.length + piece.length > budget) break;
    text += piece;
    currentRule = f.ruleId;
    shown++;
  }
  const left = findings.length - shown;
  if (left > 0) {
    text += `\n---\n\n**${left} of ${findings.length} findings not shown** to stay under GitHub's ${MARKDOWN_LIMIT.toLocaleString('en-US')}-character limit; the HTML, SARIF and CSV reports have them all.\n`;
  }
  return text;
}

function* groupByRule(sorted: Finding[]): Generator<Finding> {
  const byRule = new Map<string, Finding[]>();
  for (const f of sorted) {
    let list = byRule.get(f.ruleId);
    if (!list) byRule.set(f.ruleId, (list = []));
    list.push(f);
  }
  for (const list of byRule.values()) yield* list;
}

function findingMarkdown(f: Finding): string {
  const lines = [`- **${f.severity} ${f.status}** ${mdCode(f.job.name)}: ${mdText(f.message)}`, `  - Fix: ${mdText(f.remediation.summary)}`];
  const commands = f.remediation.commands ?? [];
  if (commands.length > 0) lines.push('', mdBlock(commands, 'sh').replace(/^/gm, '    '));
  return `${lines.join('\n')}\n`;
}
