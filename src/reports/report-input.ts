import type { Rule } from '../engine/define-rule.js';
import { ruleDocsUrl } from '../engine/judge.js';
import type { Finding, Severity, Status } from '../findings/schema.js';
import { SEVERITIES } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';

export const REPORT_FORMATS = ['html', 'markdown', 'sarif', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(format: string): format is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(format);
}

/** What a report says about a rule: from the rule's meta, or from its findings for a rule not loaded. */
export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
  description: string;
  rationale?: string;
  docsUrl?: string;
  remediation: string;
}

export function ruleInfos(rules: readonly Rule[]): Map<string, RuleInfo> {
  return new Map(
    rules.map((r) => {
      const docsUrl = ruleDocsUrl(r);
      return [
        r.meta.id,
        {
          id: r.meta.id,
          title: r.meta.title,
          severity: r.meta.severity,
          description: r.meta.docs.description,
          rationale: r.meta.docs.rationale,
          ...(docsUrl ? { docsUrl } : {}),
          remediation: r.meta.remediation.summary,
        },
      ];
    }),
  );
}

/** The findings a report shows and what is known about the scans behind them. */
export interface ReportInput {
  findings: Finding[];
  /** The scans' summaries; empty when every input was JSONL (findings only). */
  summaries: ScanSummary[];
  /** Inputs read without a summary: their coverage and partial-scan information is not available. */
  withoutSummary: string[];
  /** Lines or records of the inputs that could not be read, named. */
  problems: string[];
  rules: Map<string, RuleInfo>;
  generatedAt: string;
  version: string;
}

/** A rule's info, made up from one of its findings when the rule itself was not loaded (a pack's). */
export function ruleInfoOf(input: ReportInput, f: Finding): RuleInfo {
  let info = input.rules.get(f.ruleId);
  if (!info) {
    info = { id: f.ruleId, title: f.title, severity: f.severity, description: f.title, remediation: f.remediation.summary };
    if (f.remediation.docsUrl) info.docsUrl = f.remediation.docsUrl;
    input.rules.set(f.ruleId, info);
  }
  return info;
}

export interface Counts {
  total: number;
  byStatus: Record<Status, number>;
  bySeverity: Record<Severity, number>;
  byRule: Map<string, number>;
  byProject: Map<string, number>;
}

/** Counts of the findings shown, in one pass. */
export function countFindings(findings: readonly Finding[]): Counts {
  const counts: Counts = {
    total: findings.length,
    byStatus: { fail: 0, unverifiable: 0, pass: 0 },
    bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    byRule: new Map(),
    byProject: new Map(),
  };
  for (const f of findings) {
    counts.byStatus[f.status]++;
    counts.bySeverity[f.severity]++;
    counts.byRule.set(f.ruleId, (counts.byRule.get(f.ruleId) ?? 0) + 1);
    counts.byProject.set(f.job.project, (counts.byProject.get(f.job.project) ?? 0) + 1);
  }
  return counts;
}

/** Coverage gaps and partial-scan warnings of every summary, for the top of a report. */
export function scanWarnings(input: ReportInput): string[] {
  const out: string[] = [];
  for (const s of input.summaries) {
    if (s.partial) out.push(`Scan ${s.scanId} is partial: some of the organization was not judged.`);
    if (s.unreadableRecords > 0) out.push(`Scan ${s.scanId}: ${s.unreadableRecords} unreadable input records.`);
    for (const g of s.coverageGaps) out.push(`Coverage gap: ${g.scope}: ${g.reason}`);
  }
  for (const file of input.withoutSummary) {
    out.push(`${file} holds findings only (JSONL): coverage and partial-scan information was not available for it.`);
  }
  for (const p of input.problems) out.push(`Unreadable report input: ${p}`);
  return out;
}

/** Sort order of reports: failing before unverifiable, most severe first, then by job. */
export function compareFindings(a: Finding, b: Finding): number {
  const status = { fail: 0, unverifiable: 1, pass: 2 } as const;
  return (
    status[a.status] - status[b.status] ||
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.job.name.localeCompare(b.job.name)
  );
}
