import { randomUUID } from 'node:crypto';
import type { InputProblem } from '../inventory/asset-record.js';
import { ReadStopped, type AssetSource } from '../inventory/source.js';
import { InventoryBuilder, type Inventory } from '../model/inventory.js';
import type { ScheduledJob } from '../model/types.js';
import type { Rule } from '../engine/define-rule.js';
import { judgeJob } from '../engine/judge.js';
import type { Finding, Severity, Status } from '../findings/schema.js';
import type { FindingSink, SinkReport } from '../sinks/sink.js';
import type { Logger } from '../log/logger.js';
import type { RuleErrorCount, ScanSummary } from './summary.js';
import { VERSION } from '../version.js';
import { redactText } from '../text/redact-secrets.js';

export interface ScanOptions {
  source: AssetSource;
  rules: readonly Rule[];
  sinks: readonly FindingSink[];
  logger: Logger;
  includePasses?: boolean;
  scanId?: string;
  /** Judge only the jobs this predicate keeps (Cloud Run task sharding). */
  jobFilter?: (jobName: string) => boolean;
  shard?: { index: number; count: number };
  /** Checked between jobs: when it returns true, stop taking work and flush (SIGTERM). */
  shouldStop?: () => boolean;
  /** Called once per judged job, for progress displays. */
  onProgress?: (done: number, total: number) => void;
  now?: () => Date;
}

export interface ScanResult {
  summary: ScanSummary;
  sinkReports: SinkReport[];
  inventory: Inventory;
  /** True when the scan stopped early because shouldStop said so. */
  interrupted: boolean;
}

const MAX_PROBLEMS_IN_SUMMARY = 100;
/**
 * Unreadable records logged one by one; past this many they are only counted (the summary has
 * the total). A hostile or broken file of a million bad lines must not become a million warnings.
 */
export const MAX_PROBLEM_WARNINGS = 100;

/** inventory → model → rules → findings → sinks, once. */
export async function runScan(opts: ScanOptions): Promise<ScanResult> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const scanId = opts.scanId ?? randomUUID();
  const problems: InputProblem[] = [];
  let problemCount = 0;
  const noteProblem = (raw: InputProblem): void => {
    problemCount++;
    if (problems.length >= MAX_PROBLEMS_IN_SUMMARY && problemCount > MAX_PROBLEM_WARNINGS + 1) return;
    // Messages quote the input (a JSON parse error quotes the raw line): credentials go here, once.
    const p = { ...raw, message: redactText(raw.message) };
    if (problems.length < MAX_PROBLEMS_IN_SUMMARY) problems.push(p);
    if (problemCount <= MAX_PROBLEM_WARNINGS) opts.logger.warn(`unreadable input at ${p.origin}: ${p.message}`);
    else opts.logger.warn(`more than ${MAX_PROBLEM_WARNINGS} unreadable records: the rest are counted, not logged (the summary has the total)`);
  };

  // Jobs outside this task's share are dropped as they are read, and a source that can defers
  // its job records until the rest of the model is built: jobs are most of a large scan's memory.
  const builder = new InventoryBuilder(noteProblem, opts.jobFilter);
  const report = await opts.source.read(
    (r) => {
      if (r.ok) builder.add(r.record);
      else noteProblem(r.problem);
    },
    { deferJobs: true },
  );
  const inventory = builder.finish();

  const observedAt = started.toISOString();
  const summary: ScanSummary = {
    scanId,
    version: VERSION,
    startedAt: observedAt,
    durationMs: 0,
    jobsScanned: 0,
    assetsRead: 0,
    assetsSkippedByType: {},
    rulesRun: opts.rules.map((r) => r.meta.id),
    findings: { total: 0, byRule: {}, bySeverity: {}, byStatus: {} },
    unreadableRecords: 0,
    problems,
    coverageGaps: [...report.gaps],
    partial: false,
  };
  if (opts.shard) summary.shard = opts.shard;

  // A rule that throws (or breaks its contract) is that rule's error, not the input's: named once
  // in the log, counted per job, and the job's other rules still run.
  const ruleErrors = new Map<string, RuleErrorCount>();
  const onRuleError = (rule: Rule, job: ScheduledJob, error: Error): void => {
    const seen = ruleErrors.get(rule.meta.id);
    if (seen) {
      seen.jobs++;
      return;
    }
    const firstError = redactText(error.message);
    ruleErrors.set(rule.meta.id, { ruleId: rule.meta.id, jobs: 1, firstJob: job.name, firstError });
    opts.logger.error(`rule error: ${firstError} (job ${job.name}); that rule has no verdict for the jobs it fails on, the run is partial`);
  };

  // Passes are most results and are only counted: by rule index here, into the summary at the end.
  const passesByRule = new Array<number>(opts.rules.length).fill(0);
  const countPass = (ruleIndex: number): void => {
    passesByRule[ruleIndex]!++;
  };
  // Deferred records include jobs outside this task's share: an upper bound, for progress only.
  const expected = inventory.jobs.length + (report.deferredJobs?.count ?? 0);
  let interrupted = false;
  let lastYield = performance.now();
  /**
   * Judges one job and hands its findings to the sinks; false once a stop was asked for. Returns
   * a promise only when it has to wait (a sink pushing back, or a turn for the event loop): a
   * million jobs would otherwise cost a million promises.
   */
  const judge = (job: ScheduledJob): boolean | Promise<boolean> => {
    // Judging is synchronous; a long run without sink backpressure would never let a SIGTERM
    // handler (or a progress timer) run. Give the event loop a turn every ~50 ms.
    if ((summary.jobsScanned & 255) === 0 && performance.now() - lastYield > 50) {
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        lastYield = performance.now();
        return judgeNow(job);
      });
    }
    return judgeNow(job);
  };
  const judgeNow = (job: ScheduledJob): boolean | Promise<boolean> => {
    if (opts.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    summary.jobsScanned++;
    const judged = judgeJob(job, inventory, opts.rules, { scanId, observedAt }, { includePasses: opts.includePasses ?? false, onPass: countPass, onRuleError });
    let waits: Promise<void>[] | undefined;
    for (const finding of judged) {
      countFinding(summary, finding);
      for (const sink of opts.sinks) {
        const pending = sink.write(finding);
        if (pending) (waits ??= []).push(pending);
      }
    }
    opts.onProgress?.(summary.jobsScanned, Math.max(expected, summary.jobsScanned));
    return waits ? Promise.all(waits).then(() => true) : true;
  };
  const stopUnlessJudged = (ok: boolean): void => {
    if (!ok) throw new ReadStopped();
  };

  if (report.deferredJobs) {
    try {
      const late = await report.deferredJobs.read((r) => {
        if (!r.ok) return noteProblem(r.problem);
        const job = builder.readDeferredJob(r.record);
        if (!job) return;
        const judged = judge(job);
        return typeof judged === 'boolean' ? stopUnlessJudged(judged) : judged.then(stopUnlessJudged);
      });
      if (late) summary.coverageGaps.push(...late.gaps);
    } catch (err) {
      if (!(err instanceof ReadStopped)) throw err;
    }
  }
  for (const job of inventory.jobs) {
    if (!(await judge(job))) break;
  }
  opts.rules.forEach((rule, i) => countResult(summary, rule.meta.id, 'pass', 'info', passesByRule[i]!));
  summary.assetsRead = inventory.stats.assetsRead;
  summary.assetsSkippedByType = Object.fromEntries([...inventory.stats.skippedByType].sort((a, b) => b[1] - a[1]));
  summary.unreadableRecords = problemCount;

  for (const scope of [...inventory.missingPolicies].sort()) {
    summary.coverageGaps.push({ scope, reason: 'IAM policy not in the inventory; verdicts that depend on it are unverifiable' });
  }
  for (const scope of [...inventory.unknownAncestry].sort()) {
    summary.coverageGaps.push({ scope, reason: 'project or its folders/organization not in the inventory; inherited IAM could not be evaluated' });
  }
  summary.ruleErrors = [...ruleErrors.values()];
  summary.partial = summary.unreadableRecords > 0 || summary.coverageGaps.length > 0 || interrupted || ruleErrors.size > 0;
  summary.durationMs = now().getTime() - started.getTime();

  const sinkReports: SinkReport[] = [];
  for (const sink of opts.sinks) sinkReports.push(await sink.close(summary));
  return { summary, sinkReports, inventory, interrupted };
}

/** Adds one finding to the summary's counts. */
export function countFinding(summary: ScanSummary, f: Finding): void {
  countResult(summary, f.ruleId, f.status, f.severity);
}

/** Adds `n` results to the counts: by rule and status, and non-passing ones by severity. */
function countResult(summary: ScanSummary, ruleId: string, status: Status, severity: Severity, n = 1): void {
  if (n === 0) return;
  summary.findings.total += n;
  const rule = (summary.findings.byRule[ruleId] ??= {});
  rule[status] = (rule[status] ?? 0) + n;
  summary.findings.byStatus[status] = (summary.findings.byStatus[status] ?? 0) + n;
  if (status !== 'pass') {
    const sev = (summary.findings.bySeverity[severity] ??= {});
    sev[status] = (sev[status] ?? 0) + n;
  }
}
