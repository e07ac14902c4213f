import { createHash } from 'node:crypto';
import { FINDING_SCHEMA_VERSION, type Finding } from '../findings/schema.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob, Target } from '../model/types.js';
import { targetResource } from '../model/targets.js';
import { RuleContractError } from '../errors.js';
import { formatMessage, type Rule, type RuleContext, type RuleResult } from './define-rule.js';

export interface ScanIdentity {
  scanId: string;
  observedAt: string;
}

/** Stable across runs for the same job, rule and cause: consumers de-duplicate on it. */
export function findingId(ruleId: string, jobName: string, result: RuleResult): string {
  return createHash('sha256')
    .update(`${ruleId}\n${jobName}\n${result.messageId}\n${result.cause ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

function targetUrl(target: Target): string | null {
  return 'url' in target && typeof target.url === 'string' ? target.url : null;
}

/** Runs every applicable rule on one job and turns results into findings (passes included). */
export function judgeJob(job: ScheduledJob, inventory: Inventory, rules: readonly Rule[], scan: ScanIdentity): Finding[] {
  const target = inventory.target(job);
  const earlier: { ruleId: string; result: RuleResult }[] = [];
  const ctx: RuleContext = { inventory, target, earlier };
  const findings: Finding[] = [];
  const byRule = new Map<string, Finding[]>();
  for (const rule of rules) {
    if (rule.meta.appliesTo !== 'all' && !rule.meta.appliesTo.includes(target.kind)) continue;
    for (const result of rule.evaluate(job, ctx)) {
      if (!(result.messageId in rule.meta.messages)) {
        throw new RuleContractError('UNKNOWN_MESSAGE_ID', `rule ${rule.meta.id} returned unknown messageId "${result.messageId}"`);
      }
      earlier.push({ ruleId: rule.meta.id, result });
      if (result.joinTo && joinEvidence(result, byRule)) continue;
      const finding = toFinding(rule, result, job, target, scan);
      findings.push(finding);
      const list = byRule.get(rule.meta.id) ?? [];
      list.push(finding);
      byRule.set(rule.meta.id, list);
    }
  }
  return findings;
}

/**
 * Attaches evidence to earlier non-passing findings of the named rules. Returns true (no finding
 * of its own) only when one of them is a `fail`: a confirmed refusal explained only by an
 * unverifiable finding still deserves its own finding at full severity.
 */
function joinEvidence(result: RuleResult, byRule: Map<string, Finding[]>): boolean {
  const hosts = result.joinTo!.flatMap((id) => byRule.get(id) ?? []).filter((f) => f.status !== 'pass');
  for (const f of hosts) Object.assign(f.evidence, result.evidence);
  return hosts.some((f) => f.status === 'fail');
}

function toFinding(rule: Rule, result: RuleResult, job: ScheduledJob, target: Target, scan: ScanIdentity): Finding {
  const template = rule.meta.messages[result.messageId as keyof typeof rule.meta.messages] as string;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    findingId: findingId(rule.meta.id, job.name, result),
    scanId: scan.scanId,
    ruleId: rule.meta.id,
    status: result.status,
    severity: result.status === 'pass' ? 'info' : (result.severity ?? rule.meta.severity),
    title: rule.meta.title,
    message: formatMessage(template, result.data),
    job: {
      name: job.name,
      project: job.projectId,
      location: job.location,
      state: job.state,
      uri: job.http?.uri ?? null,
    },
    target: { kind: target.kind, resource: targetResource(target), url: targetUrl(target) },
    evidence: { ...(result.evidence ?? {}) },
    remediation: { summary: rule.meta.remediation.summary, automaticFix: rule.meta.remediation.automatic },
    observedAt: scan.observedAt,
  };
}
