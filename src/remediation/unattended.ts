import type { Writable } from 'node:stream';
import { openOutput, writeJsonFile } from './files.js';
import type { Rule } from '../engine/define-rule.js';
import type { Finding } from '../findings/schema.js';
import type { AssetSource } from '../inventory/source.js';
import type { Logger } from '../log/logger.js';
import type { ScanResult } from '../scan/run-scan.js';
import type { FindingSink } from '../sinks/sink.js';
import { invokerAccountMap, type FixConfig } from './config.js';
import { RecordingSource } from './context.js';
import { executeItems, planItems } from './execute.js';
import type { RemediationApis } from './google-apis.js';
import { buildPlan } from './planner.js';
import { openRecordOutputs } from './record-outputs.js';

export interface UnattendedOutcome {
  planPath: string;
  changes: number;
  applied: number;
  failed: number;
  skipped: number;
  /** Why apply did not run although asked (a retried Cloud Run task). */
  notApplied?: string;
}

/**
 * The nightly job's remediation (CRONWARDEN_REMEDIATE=plan|apply): the scan's source is recorded
 * and its failures collected; after the scan, a plan limited to the allow-lists is written where
 * the run's outputs go and, in `apply` mode, applied under the same guard as `fix apply`.
 */
export class UnattendedRemediation {
  private recording: RecordingSource | undefined;
  private readonly findings: Finding[] = [];

  constructor(private readonly config: FixConfig) {}

  /** The scan's source, recorded (jobs are then not deferred: the planner needs each failing job). */
  wrap(source: AssetSource): AssetSource {
    return (this.recording = new RecordingSource(source));
  }

  readonly sink: FindingSink = {
    name: 'remediation-planner',
    write: (f) => {
      if (f.status === 'fail') this.findings.push(f);
    },
    close: async () => ({ sink: 'remediation-planner', delivered: this.findings.length, failed: 0 }),
  };

  async finish(
    result: ScanResult,
    deps: { rules: readonly Rule[]; logger: Logger; topic?: string; pubsubEndpoint?: string; apis: () => Promise<RemediationApis>; actor: string; taskAttempt: number },
  ): Promise<UnattendedOutcome> {
    const c = this.config;
    const plan = buildPlan({
      findings: this.findings,
      inventory: result.inventory,
      records: this.recording?.kept ?? new Map(),
      rules: deps.rules,
      options: { invokerAccounts: invokerAccountMap(c.invokerAccounts) },
      scanId: result.summary.scanId,
      source: 'scan',
      allowRules: c.remediateRules,
      allowProjects: c.remediateProjects,
    });
    await writeJsonFile(c.planOutput, plan, 'remediation plan');
    deps.logger.info(`remediation plan written to ${c.planOutput}: ${plan.changes.length} change(s), ${plan.manual.length} manual`);
    const outcome: UnattendedOutcome = { planPath: c.planOutput, changes: plan.changes.length, applied: 0, failed: 0, skipped: 0 };
    if (c.remediate !== 'apply' || plan.changes.length === 0) return outcome;
    // A retried task would start up to --max-changes more: the cap holds for the execution, not per attempt.
    if (deps.taskAttempt > 0) {
      outcome.notApplied = `task attempt ${deps.taskAttempt} is a retry: remediation runs only in the first attempt, so the cap holds across retries`;
      deps.logger.warn(`remediation not applied: ${outcome.notApplied}`);
      return outcome;
    }
    const recordsPath = c.fixOutput ?? c.planOutput.replace(/(\.json)?$/, '.records.jsonl');
    const out: Writable = await openOutput(recordsPath, 'remediation records file');
    const outputs = await openRecordOutputs({ out, logger: deps.logger, ...(deps.topic ? { topic: deps.topic } : {}), ...(deps.pubsubEndpoint ? { pubsubEndpoint: deps.pubsubEndpoint } : {}) });
    const apis = await deps.apis();
    try {
      const run = await executeItems(planItems(plan, deps.rules), { apis, maxChanges: c.maxChanges, concurrency: c.fixConcurrency, actor: deps.actor, onRecord: (r) => outputs.write(r) });
      for (const r of run.records) outcome[r.result]++;
    } finally {
      await apis.close();
      await outputs.close();
      await new Promise<void>((resolve) => out.end(() => resolve()));
    }
    deps.logger.info(`remediation applied: ${outcome.applied} applied, ${outcome.skipped} skipped, ${outcome.failed} failed; records in ${recordsPath}`);
    return outcome;
  }
}
