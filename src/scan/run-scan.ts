import { randomUUID } from 'node:crypto';
import type { InputProblem } from '../inventory/asset-record.js';
import { ReadStopped, type AssetSource } from '../inventory/source.js';
import { InventoryBuilder, type DuplicateRecord, type Inventory } from '../model/inventory.js';
import { compareUpdateTimes } from '../model/update-time.js';
import { ASSET_TYPES } from '../model/asset-types.js';
import type { ScheduledJob } from '../model/types.js';
import type { Rule } from '../engine/define-rule.js';
import { judgeJob } from '../engine/judge.js';
import type { Finding, Severity, Status } from '../findings/schema.js';
import type { FindingSink, SinkReport } from '../sinks/sink.js';
import type { Logger } from '../log/logger.js';
import type { RuleErrorCount, ScanSummary } from './summary.js';
import type { ExceptionSet } from '../exceptions/exception-set.js';
import type { LifecycleTracker } from '../lifecycle/tracker.js';
import type { StateChanges, StoreStats } from '../lifecycle/state.js';
import { coverage } from './coverage.js';
import { VERSION } from '../version.js';
import type { EvidenceStep } from '../evidence/evidence.js';
import { SettlePipeline } from './settle-pipeline.js';
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
  /** Facts from outside the inventory (execution logs, group membership), joined around judging. */
  evidence?: readonly EvidenceStep[];

  /** With a state store: the tracker (built from the state read before the scan) and how to save changes. */
  lifecycle?: LifecycleRun;
  /** With an exceptions file: which findings are suppressed. */
  exceptions?: ExceptionSet;
}

/** The lifecycle side of a scan: the tracker, and the store it saves to once delivery has settled. */
export interface LifecycleRun {
  tracker: LifecycleTracker;
  store: string;
  /** Why the state could not be read, when it could not (the tracker then knows nothing). */
  loadProblem?: string;
  loadStats: StoreStats;
  save(changes: StateChanges): Promise<StoreStats>;
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

  const duplicates: DuplicateRecord[] = [];
  let duplicateCount = 0;
  const noteDuplicate = (d: DuplicateRecord): void => {
    duplicateCount++;
    if (duplicates.length < MAX_PROBLEMS_IN_SUMMARY) duplicates.push(d);
    const why = d.why === 'newer' ? 'the newer update_time' : 'read first (same or missing update_time)';
    opts.logger.warn(`duplicate ${d.kind} record of ${d.name} (${d.assetType}): used ${d.kept} (${why}), ignored ${d.dropped}`);
  };

  // Jobs outside this task's share are dropped as they are read, and a source that can defers
  // its job records until the rest of the model is built: jobs are most of a large scan's memory.
  const builder = new InventoryBuilder(noteProblem, opts.jobFilter, noteDuplicate);
  const report = await opts.source.read(
    (r) => {
      if (r.ok) builder.add(r.record);
      else {
        noteProblem(r.problem);
        builder.addUnreadable(r.problem, r.identity);
      }
    },
    { deferJobs: true },
  );
  const inventory = builder.finish();
  const evidence = opts.evidence ?? [];
  for (const step of evidence) await step.prepare?.(inventory);
  const annotating = evidence.filter((e) => e.annotate);
  const settling = evidence.filter((e) => e.settle);

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
    jobsFound: 0,
    duplicateRecords: 0,
    duplicates,
  };
  if (opts.shard) summary.shard = opts.shard;

  const tracker = opts.lifecycle?.tracker;
  tracker?.startScan({ scanId, observedAt });
  const suppressedFails: Partial<Record<Severity, number>> = {};
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
  // Made once: a million jobs would otherwise make two million of them.
  const scanIdentity = { scanId, observedAt };
  const judgeOptions = { includePasses: opts.includePasses ?? false, onPass: countPass, onRuleError };
  const judgeNow = (job: ScheduledJob): boolean | Promise<boolean> => {
    if (opts.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    summary.jobsScanned++;
    for (const step of annotating) step.annotate!(job);
    const judged = judgeJob(job, inventory, opts.rules, scanIdentity, judgeOptions);
    tracker?.jobJudged(job.name);
    opts.onProgress?.(summary.jobsScanned, Math.max(expected, summary.jobsScanned));
    if (settling.length > 0) return pipeline.add(settleAll(job, judged), emit);
    return emit(judged);
  };
  /** Evidence that settles verdicts (group membership) may wait on an API: several jobs wait at once. */
  const pipeline = new SettlePipeline();
  const settleAll = async (job: ScheduledJob, judged: Finding[]): Promise<Finding[]> => {
    let out = judged;
    for (const step of settling) out = await step.settle!(job, out);
    return out;
  };
  const emit = (judged: readonly Finding[]): boolean | Promise<boolean> => {
    let waits: Promise<void>[] | undefined;
    for (let finding of judged) {
      if (opts.exceptions) {
        const suppression = opts.exceptions.suppressionFor(finding);
        if (suppression) {
          finding = { ...finding, suppression };
          if (finding.status === 'fail') suppressedFails[finding.severity] = (suppressedFails[finding.severity] ?? 0) + 1;
        }
      }
      if (tracker) finding = tracker.annotate(finding);
      countFinding(summary, finding);
      // A verdict settled into a pass after judging is counted like the judge's own passes.
      if (finding.status === 'pass' && !(opts.includePasses ?? false)) continue;
      for (const sink of opts.sinks) {
        const pending = sink.write(finding);
        if (pending) (waits ??= []).push(pending);
      }
    }
    return waits ? Promise.all(waits).then(() => true) : true;
  };
  const stopUnlessJudged = (ok: boolean): void => {
    if (!ok) throw new ReadStopped();
  };

  // A job that may have another record is held until every job has been read, then the newest
  // record is judged, once (a stale copy judged too would give a false verdict).
  const mayRepeat = report.mayRepeat;
  const held = new Map<string, ScheduledJob>();
  const hold = (job: ScheduledJob): void => {
    const key = job.source.assetName;
    const prev = held.get(key);
    if (!prev) {
      held.set(key, job);
      return;
    }
    const order = job.updateTime && prev.updateTime ? compareUpdateTimes(job.updateTime, prev.updateTime) : undefined;
    const base = { assetType: ASSET_TYPES.job, name: key, kind: 'resource' as const };
    if (order !== undefined && order > 0) {
      held.set(key, job);
      noteDuplicate({ ...base, kept: job.source.origin, dropped: prev.source.origin, why: 'newer' });
    } else {
      noteDuplicate({ ...base, kept: prev.source.origin, dropped: job.source.origin, why: order !== undefined && order < 0 ? 'newer' : 'first-read' });
    }
  };

  let stopped = false;
  if (report.deferredJobs) {
    try {
      const late = await report.deferredJobs.read((r) => {
        if (!r.ok) {
          // Read as a job by its first keys: a job record, even if it cannot be judged.
          if (r.identity === undefined || r.identity.assetType === ASSET_TYPES.job) inventory.stats.jobRecords++;
          return noteProblem(r.problem);
        }
        const job = builder.readDeferredJob(r.record);
        if (!job) return;
        if (mayRepeat?.(job.source.assetName)) return hold(job);
        const judged = judge(job);
        return typeof judged === 'boolean' ? stopUnlessJudged(judged) : judged.then(stopUnlessJudged);
      });
      if (late) summary.coverageGaps.push(...late.gaps);
    } catch (err) {
      if (!(err instanceof ReadStopped)) throw err;
      stopped = true;
    }
  }
  if (!stopped) {
    for (const job of inventory.jobs) {
      if (mayRepeat?.(job.source.assetName)) hold(job);
      else if (!(await judge(job))) {
        stopped = true;
        break;
      }
    }
  }
  if (!stopped) {
    for (const job of held.values()) {
      if (!(await judge(job))) break;
    }
  }
  await pipeline.drain();
  opts.rules.forEach((rule, i) => countResult(summary, rule.meta.id, 'pass', 'info', passesByRule[i]!));
  summary.assetsRead = inventory.stats.assetsRead;
  summary.assetsSkippedByType = Object.fromEntries([...inventory.stats.skippedByType].sort((a, b) => b[1] - a[1]));
  summary.unreadableRecords = problemCount;
  summary.jobsFound = inventory.stats.jobRecords;
  summary.duplicateRecords = duplicateCount;
  if (summary.jobsFound === 0) {
    opts.logger.warn(
      `no Scheduler job found in ${opts.source.description}: nothing was judged. Was the ${ASSET_TYPES.job} asset type exported or listed, with --content-type=resource?`,
    );
  }

  // A record that was there but could not be read: the verdicts that needed it are unverifiable.
  for (const u of inventory.unreadable.all) {
    const what = u.kind === 'iam-policy' ? 'IAM policy' : u.assetType;
    summary.coverageGaps.push({ scope: u.name, reason: `${what} record at ${u.origin} could not be read (${u.message}); verdicts that depend on it are unverifiable` });
  }
  const damage = inventory.unreadable.damage;
  if (damage.count > 0) {
    summary.coverageGaps.push({
      scope: opts.source.description,
      reason: `${damage.count} unreadable record(s) or file(s) that cannot be tied to an asset (first at ${damage.first[0]!.origin}); a policy or account missing from the inventory may be among them, so its absence proves nothing`,
    });
  }

  // A policy the source already named as a gap (refused, with the permission that settles it) is not repeated.
  const named = new Set(summary.coverageGaps.map((g) => g.scope));
  for (const scope of [...inventory.missingPolicies].sort()) {
    if (named.has(scope)) continue;
    summary.coverageGaps.push({ scope, reason: 'IAM policy not in the inventory; verdicts that depend on it are unverifiable' });
  }
  for (const scope of [...inventory.unknownAncestry].sort()) {
    summary.coverageGaps.push({ scope, reason: 'project or its folders/organization not in the inventory; inherited IAM could not be evaluated' });
  }
  for (const step of evidence) {
    summary.coverageGaps.push(...step.gaps());
    (summary.evidence ??= {})[step.name] = step.stats();
  }
  const rulesRun = new Set(summary.rulesRun);
  if (opts.exceptions) summary.exceptions = { ...opts.exceptions.report(rulesRun, !interrupted && !opts.shard), suppressedFails };
  if (opts.lifecycle && tracker) {
    const seen = coverage(inventory, summary.coverageGaps, summary.unreadableRecords);
    for (const record of tracker.resolve({ interrupted, rulesRun, gapCovers: seen.gapCovers, listedCompletely: seen.listedCompletely })) {
      for (const sink of opts.sinks) {
        const pending = sink.writeResolved?.(record);
        if (pending) await pending;
      }
    }
    const lc = opts.lifecycle;
    summary.lifecycle = { ...tracker.counts, store: lc.store, documentsRead: lc.loadStats.documentsRead, documentsWritten: 0 };
    if (lc.loadProblem) summary.lifecycle.problem = lc.loadProblem;
    // The state is saved only once every message has settled: a finding is recorded as
    // reported only when its message was delivered, so an undelivered `new` is `new` again next time.
    for (const sink of opts.sinks) await sink.flush?.();
    if (tracker.known) {
      const undelivered = new Set<string>();
      for (const sink of opts.sinks) for (const id of sink.undelivered?.() ?? []) undelivered.add(id);
      try {
        const written = await lc.save(tracker.changes(undelivered));
        summary.lifecycle.documentsRead += written.documentsRead;
        summary.lifecycle.documentsWritten = written.documentsWritten;
      } catch (err) {
        summary.lifecycle.problem = `${(err as Error).message}; this scan's lifecycle was reported but not saved: the next scan reports it again`;
        opts.logger.error(`state store: ${summary.lifecycle.problem}`);
      }
    }
  }
  summary.ruleErrors = [...ruleErrors.values()];
  summary.partial =
    summary.unreadableRecords > 0 || summary.coverageGaps.length > 0 || interrupted || ruleErrors.size > 0 || summary.lifecycle?.problem !== undefined;
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
