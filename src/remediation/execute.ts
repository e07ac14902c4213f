import pLimit from 'p-limit';
import type { IamMemberChange, JobTokenChange, ProposedChange } from '../engine/remedy.js';
import { hasFixer, type Rule } from '../engine/define-rule.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob } from '../model/types.js';
import { sameAuthorization } from './job-token.js';
import { ASSET_TYPES } from '../model/asset-types.js';
import { judgeLive, liveJobRecord } from './context.js';
import type { RemediationApis } from './google-apis.js';
import { DEFAULT_RETRY, RunGuard, type RetryPolicy } from './guard.js';
import { runJobItems } from './job-executor.js';
import { IamMemberChangeSchema, JobTokenChangeSchema, type ContextAsset, type Plan, type PlanEntry } from './plan-schema.js';
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
    const context = assets.filter((a) => a.assetType !== ASSET_TYPES.job);
    const origin = { planId: plan.planId, entryId: entry.entryId, findingId: entry.findingId, scanId: plan.scanId, ruleId: entry.ruleId, job: entry.job, terraform: entry.terraform, action: 'apply' as const };
    const rule = byId.get(entry.ruleId);
    // A plan is a file anyone with access could edit: no change is made without its rule's re-check.
    if (!rule || !hasFixer(rule)) {
      const unchecked = (): string => `rule ${entry.ruleId} is not loaded${rule ? ' with an automatic fix' : ''}: no change is made without its re-check`;
      return entry.change.kind === 'job-token'
        ? { origin, change: entry.change as JobTokenChange, recheck: unchecked }
        : { origin, change: entry.change as IamMemberChange, recheck: unchecked };
    }
    const verdict = (live: { job: ScheduledJob | undefined; inventory: Inventory }): string | undefined => ownFixProblem(rule, entry.change as ProposedChange, live);
    if (entry.change.kind === 'job-token') {
      const change = entry.change as JobTokenChange;
      if (change.job !== entry.job) return { origin, change, recheck: () => `the change is to ${change.job}, not to the entry's job ${entry.job}` };
      return { origin, change, recheck: (liveJob: Record<string, unknown>) => verdict(judgeLive({ rule, job: liveJobRecord(liveJob), context })) };
    }
    const change = entry.change as IamMemberChange;
    return {
      origin,
      change,
      // The job as it is now (GetJob), with the live policy: a job moved to another account since
      // the plan no longer needs this grant.
      recheck: (policy, liveJob) => verdict(judgeLive({ rule, job: liveJobRecord(liveJob), context, livePolicy: { assetNames: [SERVICE_PREFIX[change.api] + change.resource], policy } })),
    };
  });
}

/**
 * Why a planned change is not to be made now, or undefined: the rule must still fail for the
 * live job, and its own fixer, on that live state, must propose this very change. An edited plan
 * (another member, another account or audience) is refused here, whatever the file says. The
 * operator's `--invoker-account` choice is the plan's own: it is read from the change.
 */
function ownFixProblem(rule: Rule, planned: ProposedChange, live: { job: ScheduledJob | undefined; inventory: Inventory }): string | undefined {
  if (!live.job) return 'the live job could not be read as a job';
  const ctx = { inventory: live.inventory, target: live.inventory.target(live.job) };
  const failing = rule.evaluate(live.job, ctx).filter((r) => r.status === 'fail');
  if (failing.length === 0) return `rule ${rule.meta.id} no longer fails for ${live.job.name}`;
  const invokerAccounts = new Map<string, string>();
  if (planned.kind === 'job-token' && planned.after.type !== 'none') invokerAccounts.set(live.job.projectId, planned.after.serviceAccountEmail);
  for (const result of failing) {
    const remedy = rule.remediate!(live.job, ctx, result, { invokerAccounts });
    if ('change' in remedy && sameChange(remedy.change, planned)) return undefined;
  }
  return `the plan's change is not the fix rule ${rule.meta.id} makes for ${live.job.name} now (the plan was edited, or the job or its target changed): plan again`;
}

function sameChange(a: ProposedChange, b: ProposedChange): boolean {
  if (a.kind === 'job-token' || b.kind === 'job-token') {
    return a.kind === 'job-token' && b.kind === 'job-token' && a.job === b.job && sameAuthorization(a.after, b.after);
  }
  return a.api === b.api && a.resource === b.resource && a.role === b.role && a.member.toLowerCase() === b.member.toLowerCase() && a.after.memberPresent === b.after.memberPresent;
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

/**
 * The undo of applied records: each change reversed, made only where the resource still shows
 * what it set. A records file is a file anyone with access could edit: only what `fix apply`
 * makes is undone (an invoker grant to a service account is removed, never a binding added; a
 * job's token set back), anything else is refused by name.
 */
export function undoItems(records: readonly ChangeRecord[]): WorkItem[] {
  return records
    .filter((r) => r.result === 'applied' && r.action === 'apply')
    .map((r): WorkItem => {
      const origin = { planId: r.planId, entryId: r.entryId, findingId: r.findingId, scanId: r.scanId, ruleId: r.ruleId, job: r.job, terraform: r.terraform, action: 'undo' as const };
      const c = r.change;
      const made = (c.kind === 'job-token' ? JobTokenChangeSchema : IamMemberChangeSchema).safeParse(c);
      const refused = made.success
        ? undefined
        : `the record's change is not one fix apply makes (${made.error.issues.map((i) => `${i.path.join('.') || 'change'}: ${i.message}`).join('; ')}): not undone`;
      if (c.kind === 'job-token') {
        return { origin, change: { kind: 'job-token', job: c.job, before: c.after, after: c.before }, ...(refused ? { recheck: () => refused } : {}) };
      }
      return { origin, change: { ...c, before: c.after, after: c.before }, ...(refused ? { recheck: () => refused } : {}) };
    });
}

export type { PlanEntry };
