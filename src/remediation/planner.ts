import { createHash, randomUUID } from 'node:crypto';
import type { AssetRecord } from '../inventory/asset-record.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob } from '../model/types.js';
import { ASSET_TYPES } from '../model/asset-types.js';
import { hasFixer, type Rule } from '../engine/define-rule.js';
import { findingId as findingIdOf } from '../engine/judge.js';
import type { RemedyOptions } from '../engine/remedy.js';
import { RuleContractError } from '../errors.js';
import type { Finding } from '../findings/schema.js';
import { contextAsset, contextNames } from './context.js';
import { ChangeSchema, PLAN_KIND, PLAN_VERSION, type ContextAsset, type ManualEntry, type Plan, type PlanEntry } from './plan-schema.js';

export interface PlanningInput {
  /** The scan's findings; only failures are planned for. */
  findings: readonly Finding[];
  inventory: Inventory;
  /** Non-job records the scan read, by asset name (see RecordingSource). */
  records: ReadonlyMap<string, readonly AssetRecord[]>;
  rules: readonly Rule[];
  options: RemedyOptions;
  scanId: string;
  source: Plan['source'];
  now?: Date;
  /** Unattended mode: only these rules and projects are remediated; the rest is listed as manual. */
  allowRules?: readonly string[];
  allowProjects?: readonly string[];
  /** Jobs whose findings must stay manual, with why (a plan from a findings file: its token account is gone or disabled). */
  blockedJobs?: ReadonlyMap<string, string>;
}

export function entryIdOf(findingId: string, change: unknown): string {
  return createHash('sha256').update(`${findingId}\n${JSON.stringify(change)}`).digest('hex').slice(0, 16);
}

/** The job as the plan's context keeps it for re-judging a policy change: the fields rules read. */
function jobAsset(job: ScheduledJob): ContextAsset {
  const http = job.http;
  return {
    name: job.source.assetName,
    assetType: ASSET_TYPES.job,
    resource: {
      version: 'v1',
      data: {
        name: job.name,
        state: job.state,
        ...(http ? { httpTarget: { uri: http.uri, ...(http.httpMethod ? { httpMethod: http.httpMethod } : {}), ...(http.oidcToken ? { oidcToken: http.oidcToken } : {}), ...(http.oauthToken ? { oauthToken: http.oauthToken } : {}) } } : {}),
      },
    },
  };
}

/**
 * Turns failing findings into a plan: for each, the rule's fixer on the job and target as the scan
 * saw them gives a change (exact before and after of what it touches) or the reason it stays
 * manual. Reads nothing and writes nothing.
 */
export function buildPlan(input: PlanningInput): Plan {
  const jobs = new Map(input.inventory.jobs.map((j) => [j.name, j]));
  const byId = new Map(input.rules.map((r) => [r.meta.id, r]));
  const changes: PlanEntry[] = [];
  const manual: ManualEntry[] = [];
  const context = new Map<string, ContextAsset[]>();
  const policyEntries = new Map<string, PlanEntry & { alsoFixes?: string[] }>();

  for (const f of input.findings) {
    if (f.status !== 'fail') continue;
    const rule = byId.get(f.ruleId);
    const hand = (reason: string) =>
      manual.push({ findingId: f.findingId, ruleId: f.ruleId, job: f.job.name, reason, fix: rule ? { ...rule.meta.docs.fix } : { gcloud: '', terraform: '' } });
    if (!rule || !hasFixer(rule)) {
      hand(rule ? `rule ${rule.meta.id} has no automatic fix: ${rule.meta.remediation.summary}` : `rule ${f.ruleId} is not loaded`);
      continue;
    }
    if (input.allowRules && !input.allowRules.includes(rule.meta.id)) {
      hand(`rule ${rule.meta.id} is not in the remediation rule allow-list`);
      continue;
    }
    const blocked = input.blockedJobs?.get(f.job.name);
    if (blocked) {
      hand(blocked);
      continue;
    }
    if (input.allowProjects && !input.allowProjects.includes(f.job.project)) {
      hand(`project ${f.job.project} is not in the remediation project allow-list`);
      continue;
    }
    const job = jobs.get(f.job.name);
    if (!job) {
      hand('the job is not in the inventory read for the plan');
      continue;
    }
    const target = input.inventory.target(job);
    const ctx = { inventory: input.inventory, target };
    const results = rule.evaluate(job, ctx).filter((r) => r.status === 'fail');
    // The same finding; else the same cause failing under another message (a plan from a
    // findings file sees less of the target than the scan did, e.g. a 2nd gen function's own policy).
    const result =
      results.find((r) => findingIdOf(rule.meta.id, job.name, r) === f.findingId) ??
      results.find((r) => r.cause !== undefined && r.cause !== '' && f.message.includes(r.cause));
    if (!result) {
      hand('the finding did not recur when the plan judged the job again');
      continue;
    }
    const remedy = rule.remediate!(job, ctx, result, input.options);
    if ('manual' in remedy) {
      hand(remedy.manual);
      continue;
    }
    const checked = ChangeSchema.safeParse(remedy.change);
    if (!checked.success) {
      throw new RuleContractError('BAD_REMEDY', `rule ${rule.meta.id} proposed a change the plan cannot hold: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const change = checked.data;
    if (change.kind === 'iam-member') {
      const key = `${change.api}|${change.resource}|${change.role}|${change.member.toLowerCase()}`;
      const earlier = policyEntries.get(key);
      if (earlier) {
        (earlier.alsoFixes ??= []).push(f.findingId);
        continue;
      }
    }
    const entry: PlanEntry & { alsoFixes?: string[] } = {
      entryId: entryIdOf(f.findingId, change),
      findingId: f.findingId,
      ruleId: rule.meta.id,
      job: job.name,
      why: remedy.why,
      change,
      terraform: rule.meta.docs.fix.terraform,
    };
    if (change.kind === 'iam-member') policyEntries.set(`${change.api}|${change.resource}|${change.role}|${change.member.toLowerCase()}`, entry);
    const names = contextNames(input.inventory, target);
    for (const name of names) {
      if (!context.has(name)) context.set(name, (input.records.get(name) ?? []).map(contextAsset));
    }
    if (change.kind === 'iam-member') {
      context.set(job.source.assetName, [jobAsset(job)]);
      names.push(job.source.assetName);
    }
    entry.contextAssets = names;
    changes.push(entry);
  }
  return {
    kind: PLAN_KIND,
    version: PLAN_VERSION,
    planId: randomUUID(),
    scanId: input.scanId,
    createdAt: (input.now ?? new Date()).toISOString(),
    source: input.source,
    changes,
    manual,
    context: { assets: [...context.values()].flat() },
  };
}
