import { SEVERITIES, STATUSES } from '../findings/schema.js';
import { RuleContractError } from '../errors.js';
import { placeholderNames, type Rule, type RuleResult } from './define-rule.js';

const STATUS_SET = new Set<unknown>(STATUSES);
const SEVERITY_SET = new Set<unknown>(SEVERITIES);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rules from packs are outside code: a result with status `bogus` or severity `ultra` would
 * become a finding the schema refuses, published all the same. Checked by hand, not by zod:
 * this runs for every distinct evaluation of a million-job scan.
 */
export function checkResults(rule: Rule, results: unknown): readonly RuleResult[] {
  const bad = (what: string): never => {
    throw new RuleContractError('BAD_RESULT', `rule ${rule.meta.id} returned ${what}`);
  };
  if (!Array.isArray(results)) return bad(`${describeThrown(results)} instead of an array of results`);
  const checked: RuleResult[] = [];
  for (const r of results as unknown[]) {
    if (!isPlainObject(r)) return bad(`a result that is not an object (${describeThrown(r)})`);
    if (!STATUS_SET.has(r.status)) bad(`status ${JSON.stringify(r.status)} (expected ${STATUSES.join(', ')})`);
    if (typeof r.messageId !== 'string' || !Object.hasOwn(rule.meta.messages, r.messageId)) bad(`unknown messageId ${JSON.stringify(r.messageId)}`);
    if (r.severity !== undefined && !SEVERITY_SET.has(r.severity)) bad(`severity ${JSON.stringify(r.severity)} (expected ${SEVERITIES.join(', ')})`);
    if (r.cause !== undefined && typeof r.cause !== 'string') bad('a cause that is not a string');
    if (r.evidence !== undefined && !isPlainObject(r.evidence)) bad('evidence that is not an object');
    if (r.data !== undefined) {
      if (!isPlainObject(r.data)) bad('message data that is not an object');
      for (const v of Object.values(r.data as Record<string, unknown>)) if (typeof v !== 'string' && typeof v !== 'number') bad('message data values other than strings and numbers');
    }
    for (const name of placeholdersOf(rule, r.messageId as string)) {
      if (!isPlainObject(r.data) || !Object.hasOwn(r.data, name)) bad(`no message data "${name}" for message ${JSON.stringify(r.messageId)}, which shows it`);
    }
    if (r.joinTo !== undefined && !(Array.isArray(r.joinTo) && r.joinTo.every((id) => typeof id === 'string'))) bad('joinTo that is not a list of rule ids');
    // Evidence goes into every sink as JSON: a cycle, a BigInt or a throwing toJSON found there
    // would fail the sink, far from the rule. A plain copy, made once, is what the finding keeps.
    checked.push(r.evidence === undefined ? (r as unknown as RuleResult) : ({ ...r, evidence: plainEvidence(r.evidence, bad) } as unknown as RuleResult));
  }
  return checked;
}

/** Evidence as JSON data: cut loose from the rule's objects, and of a size a message can carry. */
function plainEvidence(evidence: unknown, bad: (what: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = JSON.stringify(evidence);
  } catch (err) {
    return bad(`evidence that is not JSON data (${describeThrown(err)})`);
  }
  if (text.length > MAX_EVIDENCE_CHARS) bad(`evidence of ${text.length} characters (at most ${MAX_EVIDENCE_CHARS})`);
  const copy: unknown = JSON.parse(text);
  return isPlainObject(copy) ? copy : bad('evidence that is not an object once serialized');
}

/** Far above what a finding needs, far below Pub/Sub's 10 MB message. */
const MAX_EVIDENCE_CHARS = 64 * 1024;

/** The `{{name}}` placeholders of a rule's message, cut once per rule and message. */
const placeholders = new WeakMap<Rule, Map<string, readonly string[]>>();
function placeholdersOf(rule: Rule, messageId: string): readonly string[] {
  let byMessage = placeholders.get(rule);
  if (!byMessage) placeholders.set(rule, (byMessage = new Map()));
  let names = byMessage.get(messageId);
  if (!names) {
    const template = (rule.meta.messages as Record<string, string>)[messageId] ?? '';
    byMessage.set(messageId, (names = placeholderNames(template)));
  }
  return names;
}


/**
 * A rule from a pack, its results checked on the way out. Built-in rules are held to the
 * contract by their RuleTester cases and skip the cost; a pack is outside code.
 */
export function checkedRule(rule: Rule): Rule {
  return { ...rule, evaluate: (job, ctx) => checkResults(rule, rule.evaluate(job, ctx)) };
}

export function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return String(JSON.stringify(value) ?? value).slice(0, 200);
  } catch {
    return typeof value;
  }
}
