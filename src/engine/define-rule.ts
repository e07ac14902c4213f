import type { z } from 'zod';
import type { Severity, Status } from '../findings/schema.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob, Target, TargetKind } from '../model/types.js';

export interface RuleDocs {
  description: string;
  rationale: string;
  /** Public sources this rule rests on (URLs or doc references). */
  sources: string[];
  fix: { gcloud: string; terraform: string };
  /** Facts the rule cannot confirm and how it stays conservative about them. */
  limitations?: string[];
}

export interface RuleMeta<M extends string> {
  id: string;
  title: string;
  /** Default severity of a failing result; a result may lower or raise it for its cause. */
  severity: Severity;
  /** Target kinds the rule judges; other jobs are not its business. */
  appliesTo: readonly TargetKind[] | 'all';
  docs: RuleDocs;
  /** Message templates with `{{placeholders}}`, by message id. */
  messages: Record<M, string>;
  remediation: { summary: string; automatic: boolean };
  options?: z.ZodType;
}

/** One verdict a rule reached for a job. */
export interface RuleResult<M extends string = string> {
  status: Status;
  messageId: M;
  data?: Record<string, string | number>;
  /**
   * What distinguishes this cause from another of the same message id (an audience, a service
   * account). With the rule, job and message id it makes the stable `findingId`; keep volatile
   * facts (job state, timestamps) out of it.
   */
  cause?: string;
  severity?: Severity;
  evidence?: Record<string, unknown>;
  /**
   * Attach this result's evidence to the same job's non-passing findings of these rules instead of
   * emitting a finding of its own; emitted only when none of them failed. Used to join runtime
   * evidence (the last attempt's status) to the configuration finding that explains it.
   */
  joinTo?: readonly string[];
}

export interface RuleContext {
  readonly inventory: Inventory;
  readonly target: Target;
  /** Results earlier rules produced for this job (rules run in registry order). */
  readonly earlier: readonly { ruleId: string; result: RuleResult }[];
}

export interface Rule<M extends string = string> {
  meta: RuleMeta<M>;
  evaluate(job: ScheduledJob, ctx: RuleContext): RuleResult<M>[];
}

/** Typed constructor: message ids in results are checked against `meta.messages`. */
export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

/** Fills `{{name}}` placeholders; an unfilled one is left visible for the RuleTester to refuse. */
export function formatMessage(template: string, data: Record<string, string | number> = {}): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => (key in data ? String(data[key]) : whole));
}
