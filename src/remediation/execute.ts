import pLimit from 'p-limit';
import type { IamMemberChange, JobTokenChange } from '../engine/remedy.js';
import type { Rule } from '../engine/define-rule.js';
import { toAssetRecord } from '../inventory/asset-record.js';
import { ASSET_TYPES } from '../model/asset-types.js';
import { judgeLive, liveJobRecord } from './context.js';
import type { RemediationApis } from './google-apis.js';
import { DEFAULT_RETRY, RunGuard, type RetryPolicy } from './guard.js';
import { runJobItems } from './job-executor.js';
import type { ContextAsset, Plan, PlanEntry } from './plan-schema.js';
import { runPolicyItems } from './policy-executor.js';
import type { ChangeRecord } from './record.js';
import type { ExecutionContext, JobItem, PolicyItem, WorkItem } from './work-item.js';

export interface ExecuteOptions {
  apis: RemediationApis;
  /** Changes started in this run at most (default 10); retries re-use their change's slot. */
  maxChanges: number;
  /** Jobs and policies worked on at once (default 8). */
  concurrency?: number;
  retry?: RetryPolicy;
  actor: string;
  now?: () => Date;
  /** Told of every record as it is made (output, logs, Pub/Sub). */
  onRecord?: (record: ChangeRecord) => void;
  /** Aborted on SIGTERM/SIGINT: no new change starts; those under way finish and are recorded. */
  signal?: AbortSignal;
}

export interface ExecuteResult {
  records: ChangeRecord[];
  /** Why the run stopped starting changes early, if it did. */
  stopped?: string;
  changesStarted: number;
}

const SERVICE_PREFIX: Record<IamMemberChange['api'], string> = { run: '//run.googleapis.com/', 'functions-v1': '//cloudfunctions.googleapis.com/' };

/** The work items of a plan: each entry with its live re-check (the rule judged on live state). */
export function planItems(plan: Plan, rules: readonly Rule[]): WorkItem[] {
  const byId = new Map(rules.map((r) => [r.meta.id, r]));
  const byName = new Map<string, ContextAsset[]>();
  for (const a of plan.context.assets) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  return plan.changes.map((entry): WorkItem => {
    // Only what this change's target depends on: a re-check judges a handful of assets, not the plan's all.
    const assets = entry.contextAssets ? entry.contextAssets.flatMap((n) => byName.get(n) ?? []) : plan.context.assets;
    const origin = { planId: plan.planId, entryId: entry.entryId, findingId: entry.findingId, scanId: plan.scanId, ruleId: entry.ruleId, job: entry.job, terraform: entry.terraform, action: 'apply' as const };
    const rule = byId.get(entry.ruleId);
    const stillFails = (findings: { status: string }[]) => (findings.some((f) => f.status === 'fail') ? undefined : `rule ${entry.ruleId} no longer fails for ${entry.job}`);
    if (entry.change.kind === 'job-token') {
      const recheck = rule
        ? (live: Record<string, unknown>) => stillFails(judgeLive({ rule, job: liveJobRecord(live), context: assets.filter((a) => a.assetType !== ASSET_TYPES.job) }).findings)
        : undefined;
      return { origin, change: entry.change as JobTokenChange, ...(recheck ? { recheck } : {}) };
    }
    const change = entry.change as IamMemberChange;
    const jobAsset = assets.find((a) => a.assetType === ASSET_TYPES.job && a.resource?.data && (a.resource.data as { name?: string }).name === entry.job);
    const jobRecord = jobAsset ? toAssetRecord(structuredClone(jobAsset), 'plan context') : undefined;
    const recheck =
      rule && jobRecord?.ok
        ? (policy: import('../inventory/asset-record.js').IamPolicyJson) =>
            stillFails(
              judgeLive({
                rule,
                job: structuredClone(jobRecord.record),
                context: assets.filter((a) => a.assetType !== ASSET_TYPES.job),
                livePolicy: { assetNames: [SERVICE_PREFIX[change.api] + change.resource], policy },
              }).findings,
            )
        : undefined;
    return { origin, change, ...(recheck ? { recheck } : {}) };
  });
}

/**
 * Makes the changes of `items`: jobs one at a time per job, policies one read-modify-write per
 * resource, `concurrency` of those at once, under one guard (the cap, and the stop after an
 * unexpected error). Every item ends as exactly one record.
 */
export async function executeItems(items: readonly WorkItem[], options: ExecuteOptions): Promise<ExecuteResult> {
  const guard = new RunGuard(options.maxChanges);
  const onAbort = () => guard.stop(`stopped by ${String(options.signal?.reason ?? 'a stop request')}`);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const records: ChangeRecord[] = [];
  const ctx: ExecutionContext = {
    actor: options.actor,
    now: options.now ?? (() => new Date()),
    emit: (r) => {
      records.push(r);
      options.onRecord?.(r);
    },
  };
  const deps = { apis: options.apis, guard, retry: options.retry ?? DEFAULT_RETRY, ctx };
  const jobs = new Map<string, JobItem[]>();
  const policies = new Map<string, PolicyItem[]>();
  for (const item of items) {
    if (item.change.kind === 'job-token') push(jobs, item.change.job, item as JobItem);
    else push(policies, `${item.change.api}\u0000${item.change.resource}`, item as PolicyItem);
  }
  const limit = pLimit(options.concurrency ?? 8);
  // Policies first: a job switched to OIDC should find its account already allowed to invoke.
  await Promise.all([
    ...[...policies].map(([key, group]) => limit(() => runPolicyItems(group[0]!.change.api, key.split('\u0000')[1]!, group, deps))),
    ...[...jobs.values()].map((group) => limit(() => runJobItems(group, deps))),
  ]);
  options.signal?.removeEventListener('abort', onAbort);
  return { records, changesStarted: guard.changesStarted, ...(guard.stopped ? { stopped: guard.stopped } : {}) };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The undo of applied records: each change reversed, made only where the resource still shows what it set. */
export function undoItems(records: readonly ChangeRecord[]): WorkItem[] {
  return records
    .filter((r) => r.result === 'applied' && r.action === 'apply')
    .map((r): WorkItem => {
      const origin = { planId: r.planId, entryId: r.entryId, findingId: r.findingId, scanId: r.scanId, ruleId: r.ruleId, job: r.job, terraform: r.terraform, action: 'undo' as const };
      const c = r.change;
      if (c.kind === 'job-token') return { origin, change: { kind: 'job-token', job: c.job, before: c.after, after: c.before } };
      return { origin, change: { ...c, before: c.after, after: c.before } };
    });
}

export type { PlanEntry };
