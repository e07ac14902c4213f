import type { z } from 'zod';
import type { Severity, Status } from '../findings/schema.js';
import type { Inventory } from '../model/inventory.js';
import type { ScheduledJob, Target, TargetKind } from '../model/types.js';
import type { Remedy, RemedyOptions } from './remedy.js';
import type { Fix, FixInput } from '../fixes/fix.js';

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
  /**
   * `automatic: true` declares that the rule has a fixer (`remediate`), as ESLint's
   * `meta.fixable` does; a rule that declares it without one, or has one without declaring it,
   * breaks the engine's contract.
   */
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
  /**
   * The message of this result's own finding when none of the `joinTo` rules ran in this scan (a
   * selection left them out): it must not claim they found nothing. Its `findingId` stays that of
   * `messageId`.
   */
  joinRulesDidNotRunMessageId?: M;
}

export interface RuleContext {
  readonly inventory: Inventory;
  readonly target: Target;
}

export interface Rule<M extends string = string> {
  meta: RuleMeta<M>;
  /** Results may be shared between jobs (see `memoKey`): callers must not change them. */
  evaluate(job: ScheduledJob, ctx: RuleContext): readonly RuleResult<M>[];
  /**
   * Declares that, for this job, the results depend only on the job's target and the returned
   * key (an account, an audience): the judge then evaluates each (target, key) once and gives
   * the same results to the other jobs that share them. Undefined: evaluate this job itself.
   * A million-job organization calls far fewer distinct targets with far fewer accounts.
   * Results are kept per target entry, and an HTTP job's entry is that of its exact URI
   * (`Inventory.targetEntry`): a result that depends on the URI alone needs no more key.
   * A key of two values is made by `pairKey` (src/model/memo-space.ts), which puts the first
   * one's length before it: inventory text may hold any separator.
   */
  memoKey?(job: ScheduledJob): string | undefined;
  /**
   * The fix for one non-passing result of this job: commands with the job's and target's values,
   * advice that fits the cause (`messageId`). Undefined: the finding keeps the rule's summary.
   */
  fix?(input: FixInput<M>): Fix | undefined;
  /**
   * The fixer: for one failing result, the least change that makes the job work, as data
   * (see src/engine/remedy.ts), or why it stays manual. Pure, like `evaluate`; only rules that
   * declare `meta.remediation.automatic` have one.
   */
  remediate?(job: ScheduledJob, ctx: RuleContext, result: RuleResult<M>, options: RemedyOptions): Remedy;
}

/** Whether a rule declares a fixer and has one: the engine refuses a rule where the two disagree. */
export function hasFixer(rule: Pick<Rule, 'meta' | 'remediate'>): boolean {
  return rule.meta.remediation.automatic && typeof rule.remediate === 'function';
}

/** Typed constructor: message ids in results are checked against `meta.messages`. */
export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** The names of a template's `{{name}}` placeholders, each once. */
export function placeholderNames(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1]!))];
}

/** A template cut at its placeholders: its leading text, then per placeholder its name, its own text and the text after it. */
const compiled = new Map<string, string[]>();

/** Fills `{{name}}` placeholders; an unfilled one is left visible for the RuleTester to refuse. */
export function formatMessage(template: string, data: Record<string, string | number> = {}): string {
  // Templates are few and messages many: each template is cut once.
  let parts = compiled.get(template);
  if (!parts) {
    parts = [];
    let last = 0;
    for (const m of template.matchAll(PLACEHOLDER)) {
      parts.push(template.slice(last, m.index), m[1]!, m[0]);
      last = m.index + m[0].length;
    }
    parts.push(template.slice(last));
    compiled.set(template, parts);
  }
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 3) {
    const key = parts[i]!;
    out += (key in data ? String(data[key]) : parts[i + 1]!) + parts[i + 2]!;
  }
  return out;
}
