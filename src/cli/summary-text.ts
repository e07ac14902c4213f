import { SEVERITIES } from '../findings/schema.js';
import { escapeTerminal } from '../text/escape-terminal.js';
import type { ScanSummary } from '../scan/summary.js';
import type { SinkReport } from '../sinks/sink.js';
import { terminalText } from '../log/logger.js';

/** The summary for people, on stderr. */
export function formatSummary(s: ScanSummary, sinks: readonly SinkReport[]): string {
  const lines: string[] = [];
  const shard = s.shard ? ` (task ${s.shard.index + 1} of ${s.shard.count})` : '';
  lines.push(`cronwarden ${s.version} scan ${s.scanId}${shard}: ${s.jobsScanned} jobs scanned from ${s.assetsRead} assets in ${(s.durationMs / 1000).toFixed(1)} s`);
  // What is new since the last scan comes first.
  const lc = s.lifecycle;
  if (lc) {
    const known = lc.unknown > 0 ? `${lc.unknown} non-passing with lifecycle UNKNOWN` : `${lc.new} NEW, ${lc.reopened} reopened, ${lc.open} still open, ${lc.resolved} resolved`;
    lines.push(`  since the last scan: ${known} (state: ${lc.store})`);
    if (lc.problem) lines.push(`  STATE PROBLEM: ${lc.problem}`);
  }
  const ex = s.exceptions;
  if (ex) {
    lines.push(`  exceptions (${ex.file}, ${ex.entries} entries): ${ex.suppressed} findings suppressed (reported, not counted for --fail-on)`);
    for (const e of ex.expired) lines.push(`    EXPIRED, no longer applies: ${e}`);
    for (const e of ex.expiringSoon) lines.push(`    expires within 14 days: ${e}`);
    for (const e of ex.stale) lines.push(`    stale, matched nothing: ${e}`);
  }
  const st = s.findings.byStatus;
  lines.push(`  results: ${st.fail ?? 0} fail, ${st.unverifiable ?? 0} unverifiable, ${st.pass ?? 0} pass`);
  // Most severe first, whatever order the findings came in (the file and API paths differ).
  const sev = SEVERITIES.filter((k) => s.findings.bySeverity[k]).map((k) => {
    const v = s.findings.bySeverity[k]!;
    return `${k} ${v.fail ?? 0} fail/${v.unverifiable ?? 0} unverifiable`;
  });
  if (sev.length > 0) lines.push(`  non-passing by severity: ${sev.join(', ')}`);
  // Every rule that ran, results or not: a rule left out by a selection is visibly absent.
  for (const rule of [...new Set([...s.rulesRun, ...Object.keys(s.findings.byRule)])].sort()) {
    const counts = s.findings.byRule[rule] ?? {};
    lines.push(`  ${rule}: ${counts.fail ?? 0} fail, ${counts.unverifiable ?? 0} unverifiable, ${counts.pass ?? 0} pass`);
  }
  const skipped = Object.entries(s.assetsSkippedByType);
  if (skipped.length > 0) {
    const total = skipped.reduce((a, [, n]) => a + n, 0);
    lines.push(`  assets skipped (types not used): ${total} (${skipped.slice(0, 5).map(([t, n]) => `${t} ${n}`).join(', ')}${skipped.length > 5 ? ', …' : ''})`);
  }
  for (const [kind, stats] of Object.entries(s.evidence ?? {})) {
    lines.push(`  evidence ${kind}: ${Object.entries(stats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (s.unreadableRecords > 0) {
    lines.push(`  UNREADABLE records: ${s.unreadableRecords}`);
    for (const p of s.problems.slice(0, 10)) lines.push(`    ${escapeTerminal(p.origin)}: ${escapeTerminal(p.message)}`);
    if (s.unreadableRecords > 10) lines.push(`    … ${s.unreadableRecords - 10} more (see the warnings above)`);
  }
  if ((s.duplicateRecords ?? 0) > 0) {
    lines.push(`  DUPLICATE records ignored: ${s.duplicateRecords}`);
    for (const d of (s.duplicates ?? []).slice(0, 10)) {
      lines.push(`    ${d.name} (${d.kind}): used ${d.kept}, ignored ${d.dropped} (${d.why === 'newer' ? 'older update_time' : 'same or missing update_time: first read kept'})`);
    }
  }
  if (s.jobsFound === 0) lines.push('  EMPTY INVENTORY: no Scheduler job was found in the input; nothing was judged');
  if (s.coverageGaps.length > 0) {
    lines.push(`  COVERAGE GAPS: ${s.coverageGaps.length}`);
    for (const g of s.coverageGaps.slice(0, 10)) lines.push(`    ${escapeTerminal(g.scope)}: ${escapeTerminal(g.reason)}`);
    if (s.coverageGaps.length > 10) lines.push(`    … ${s.coverageGaps.length - 10} more`);
  }
  for (const e of s.ruleErrors ?? []) {
    lines.push(`  RULE ERROR ${e.ruleId}: no verdict on ${e.jobs} job(s); first on ${e.firstJob}: ${e.firstError}`);
  }
  for (const r of sinks) {
    if (r.failed > 0) lines.push(`  UNDELIVERED via ${r.sink}: ${r.failed}${r.spoolPath ? ` (kept in ${r.spoolPath})` : ''}`);
    for (const n of r.notes ?? []) lines.push(`  ${r.sink}: ${n}`);
  }
  if (s.partial) lines.push('  result: PARTIAL — some of the organization was not judged; see above');
  // Scopes, reasons and problems quote the inventory: each line is made safe for a terminal.
  return `${lines.map((l) => terminalText(l, 4000)).join('\n')}\n`;
}
