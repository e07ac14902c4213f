import { hash } from 'node:crypto';
import { FINDING_SCHEMA_VERSION, type Finding } from '../findings/schema.js';
import { describeThrown } from './rule-results.js';
import type { Inventory, TargetEntry } from '../model/inventory.js';
import type { ScheduledJob, Target } from '../model/types.js';
import { targetResource } from '../model/targets.js';
import { RuleContractError } from '../errors.js';
import { formatMessage, hasFixer, type Rule, type RuleContext, type RuleResult } from './define-rule.js';
import type { Fix } from '../fixes/fix.js';
import { mayHoldSecret, redactDeep, redactText, redactUrl } from '../text/redact-secrets.js';

export interface ScanIdentity {
  scanId: string;
  observedAt: string;
}

/** Stable across runs for the same job, rule and cause: consumers de-duplicate on it. */
export function findingId(ruleId: string, jobName: string, result: RuleResult): string {
  return hash('sha256', `${ruleId}\n${jobName}\n${result.messageId}\n${result.cause ?? ''}`, 'hex').slice(0, 32);
}

function targetUrl(target: Target): string | null {
  return 'url' in target && typeof target.url === 'string' ? target.url : null;
}

export interface JudgeOptions {
  /** Build findings for passing results too (default true). */
  includePasses?: boolean;
  /** Told of each passing result that is not built into a finding, by the rule's index in `rules`. */
  onPass?: (ruleIndex: number) => void;
  /**
   * Told when a rule throws or returns a result outside the contract: that rule has no verdict
   * for this job, and the job's other rules still run. Without it, the error is thrown.
   */
  onRuleError?: (rule: Rule, job: ScheduledJob, error: RuleContractError) => void;
}

/**
 * Runs every applicable rule on one job and turns results into findings. Passing results are
 * most of a healthy organization's results: with `includePasses: false` they are only counted.
 */
export function judgeJob(
  job: ScheduledJob,
  inventory: Inventory,
  rules: readonly Rule[],
  scan: ScanIdentity,
  options: JudgeOptions = {},
): Finding[] {
  const includePasses = options.includePasses ?? true;
  const entry = inventory.targetEntry(job);
  const target = entry.target;
  const ctx: RuleContext = { inventory, target };
  const findings: Finding[] = [];
  const plan = planOf(rules);
  const applies = plan.appliesTo.get(target.kind) ?? appliesTo(plan, target.kind);
  for (let i = 0; i < rules.length; i++) {
    if (!applies[i]) continue;
    const rule = rules[i]!;
    let results: readonly RuleResult[];
    let texts: ResultTexts | undefined;
    let unknown: RuleResult | undefined;
    try {
      const known = rememberedResults(rule, plan.numbers[i]!, job, ctx, entry);
      if (known) {
        ({ results, texts, unknown } = known);
      } else {
        results = rule.evaluate(job, ctx);
        unknown = unknownMessage(rule, results);
      }
    } catch (err) {
      const error = err instanceof RuleContractError ? err : new RuleContractError('RULE_THREW', `rule ${rule.meta.id} threw: ${describeThrown(err)}`, { cause: err });
      if (!options.onRuleError) throw error;
      options.onRuleError(rule, job, error);
      continue;
    }
    if (unknown) {
      const error = new RuleContractError('UNKNOWN_MESSAGE_ID', `rule ${rule.meta.id} returned unknown messageId "${unknown.messageId}"`);
      if (!options.onRuleError) throw error;
      options.onRuleError(rule, job, error);
      continue;
    }
    for (let r = 0; r < results.length; r++) {
      const result = results[r]!;
      if (result.joinTo && joinEvidence(result, findings)) continue;
      if (result.status === 'pass' && !includePasses) {
        options.onPass?.(i);
        continue;
      }
      const messageId =
        result.joinTo && result.joinRulesDidNotRunMessageId && !rules.some((r) => result.joinTo!.includes(r.meta.id))
          ? result.joinRulesDidNotRunMessageId
          : result.messageId;
      // A remembered result's text is formatted and redacted once, for every job that shares it.
      const text = messageId !== result.messageId ? formatResult(rule, result, messageId) : texts ? (texts[r] ??= formatResult(rule, result)) : formatResult(rule, result);
      findings.push(toFinding(rule, result, text, job, entry, scan, inventory, messageId, plan.docsUrls[i]));
    }
  }
  return findings;
}

/** A result's message and evidence, formatted and redacted. */
interface ResultText {
  message: string;
  evidence: Record<string, unknown>;
}

/** The texts of remembered results, by their index, filled in as findings need them. */
type ResultTexts = (ResultText | undefined)[];

interface RememberedResults {
  results: readonly RuleResult[];
  texts: ResultTexts;
  /** A result whose message the rule does not define (checked once, when the results are made). */
  unknown: RuleResult | undefined;
}

/** A result whose messageId (or join message) the rule does not define: the rule broke its contract. */
function unknownMessage(rule: Rule, results: readonly RuleResult[]): RuleResult | undefined {
  let unknown: RuleResult | undefined;
  for (const r of results) {
    if (!(r.messageId in rule.meta.messages) || (r.joinRulesDidNotRunMessageId !== undefined && !(r.joinRulesDidNotRunMessageId in rule.meta.messages))) unknown = r;
  }
  return unknown;
}

/**
 * A rule's results for a job, remembered on the job's target by `memoKey` when the rule declares
 * one (undefined when it does not). Rules from packs come here already wrapped in {@link checkedRule}.
 */
function rememberedResults(rule: Rule, ruleNumber: number, job: ScheduledJob, ctx: RuleContext, entry: TargetEntry): RememberedResults | undefined {
  const key = rule.memoKey?.(job);
  if (key === undefined) return undefined;
  let byKey = entry.results[ruleNumber] as Map<string, RememberedResults> | undefined;
  if (!byKey) entry.results[ruleNumber] = byKey = new Map();
  let known = byKey.get(key);
  if (!known) {
    const results = rule.evaluate(job, ctx);
    known = { results, texts: [], unknown: unknownMessage(rule, results) };
    byKey.set(key, known);
  }
  return known;
}

/**
 * Attaches evidence to earlier non-passing findings of the named rules. Returns true (no finding
 * of its own) only when one of them is a `fail`: a confirmed refusal explained only by an
 * unverifiable finding still deserves its own finding at full severity.
 */
function joinEvidence(result: RuleResult, findings: Finding[]): boolean {
  const hosts = findings.filter((f) => f.status !== 'pass' && result.joinTo!.includes(f.ruleId));
  if (hosts.length > 0) {
    const evidence = redactDeep(result.evidence ?? {});
    for (const f of hosts) Object.assign(f.evidence, evidence);
  }
  return hosts.some((f) => f.status === 'fail');
}

/** The rule's documentation link: the first web address among its sources. */
export function ruleDocsUrl(rule: Rule): string | undefined {
  return rule.meta.docs.sources.map((s) => /^https?:\/\/\S+/.exec(s)?.[0]).find((u) => u !== undefined);
}

/** What the judge needs of each rule of a rules array, by the rule's index in it. */
interface RulePlan {
  /** The rules it was made for, in order. */
  rules: Rule[];
  /** The rule's documentation link. */
  docsUrls: (string | undefined)[];
  /** The rule's number: where a target keeps the rule's remembered results. */
  numbers: number[];
  /** By target kind, whether each rule applies: told once per kind, not per job and rule. */
  appliesTo: Map<string, boolean[]>;
}

function appliesTo(plan: RulePlan, kind: Target['kind']): boolean[] {
  const applies = plan.rules.map((rule) => rule.meta.appliesTo === 'all' || rule.meta.appliesTo.includes(kind));
  plan.appliesTo.set(kind, applies);
  return applies;
}

const ruleNumbers = new WeakMap<Rule, number>();
let nextRuleNumber = 0;

/**
 * The plan for the rules the last job was judged with: a scan judges every job with the same
 * rules, and lookups per finding (links) and per rule (remembered results by rule) showed in
 * profiles. Checked rule by rule, not by the array's identity: an array changed in place must
 * not give one rule another's remembered results.
 */
let plan: RulePlan = { rules: [], docsUrls: [], numbers: [], appliesTo: new Map() };
function planOf(rules: readonly Rule[]): RulePlan {
  let same = rules.length === plan.rules.length;
  for (let i = 0; same && i < rules.length; i++) same = rules[i] === plan.rules[i];
  if (!same) {
    plan = {
      rules: [...rules],
      appliesTo: new Map(),
      docsUrls: rules.map(ruleDocsUrl),
      numbers: rules.map((rule) => {
        let n = ruleNumbers.get(rule);
        if (n === undefined) ruleNumbers.set(rule, (n = nextRuleNumber++));
        return n;
      }),
    };
  }
  return plan;
}

/** Passes keep the rule's summary; other results get the rule's fix for this job and cause. */
function remediation(rule: Rule, result: RuleResult, job: ScheduledJob, target: Target, inventory: Inventory, messageId: string, docsUrl: string | undefined): Finding['remediation'] {
  // Only a failure is fixed automatically, and only by a rule that has a fixer.
  const out: Finding['remediation'] = { summary: rule.meta.remediation.summary, automaticFix: result.status === 'fail' && hasFixer(rule) };
  if (result.status === 'pass') return out;
  let fix: Fix | undefined;
  try {
    fix = rule.fix?.({ status: result.status, messageId, data: result.data ?? {}, evidence: result.evidence ?? {}, job, target, inventory });
  } catch {
    // A fix that cannot be built must not cost the finding: it keeps the rule's own summary.
    fix = undefined;
  }
  // Commands carry the job's own values (its URI among them): redacted like everything else a
  // sink writes. Keys are set in one order (summary, automaticFix, commands, terraform, docsUrl).
  if (fix) {
    const clean = !mayHoldSecret(fix.summary) && !fix.commands.some(mayHoldSecret) && !(fix.terraform && mayHoldSecret(fix.terraform));
    out.summary = clean ? fix.summary : redactText(fix.summary);
    out.commands = clean ? fix.commands : fix.commands.map(redactText);
    if (fix.terraform) out.terraform = clean ? fix.terraform : redactText(fix.terraform);
  }
  if (docsUrl) out.docsUrl = docsUrl;
  return out;
}

/**
 * A finding is what every sink writes (stdout, files, Pub/Sub, the spool, log entries): the
 * credentials a job's URI or last status may hold are redacted here, once, for all of them.
 */
function toFinding(
  rule: Rule,
  result: RuleResult,
  text: ResultText,
  job: ScheduledJob,
  entry: TargetEntry,
  scan: ScanIdentity,
  inventory: Inventory,
  messageId: string,
  docsUrl: string | undefined,
): Finding {
  const target = entry.target;
  let url = entry.redactedUrl;
  if (url === undefined) entry.redactedUrl = url = nullableUrl(targetUrl(target));
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    findingId: findingId(rule.meta.id, job.name, result),
    scanId: scan.scanId,
    ruleId: rule.meta.id,
    status: result.status,
    severity: result.status === 'pass' ? 'info' : (result.severity ?? rule.meta.severity),
    title: rule.meta.title,
    message: text.message,
    job: {
      name: job.name,
      project: job.projectId,
      location: job.location,
      state: job.state,
      uri: redactedJobUri(job),
    },
    target: { kind: target.kind, resource: targetResource(target), url },
    // A copy: joinEvidence adds to a finding's evidence, and the redacted one is shared.
    evidence: { ...text.evidence },
    remediation: remediation(rule, result, job, target, inventory, messageId, docsUrl),
    observedAt: scan.observedAt,
  };
}

/** A result's message and evidence, formatted and redacted. */
function formatResult(rule: Rule, result: RuleResult, messageId = result.messageId): ResultText {
  const template = rule.meta.messages[messageId as keyof typeof rule.meta.messages] as string;
  return { message: redactText(formatMessage(template, result.data)), evidence: redactDeep(result.evidence ?? {}) };
}

function nullableUrl(url: string | null): string | null {
  return url === null ? null : redactUrl(url);
}

/** The job's URI redacted, for all of its findings: the last job's is kept (findings come job by job). */
let lastJob: ScheduledJob | undefined;
let lastJobUri: string | null = null;
function redactedJobUri(job: ScheduledJob): string | null {
  if (job !== lastJob) {
    lastJob = job;
    lastJobUri = job.http ? redactUrl(job.http.uri) : null;
  }
  return lastJobUri;
}
