import { SEVERITIES, STATUSES } from '../findings/schema.js';
import { RuleContractError } from '../errors.js';
import type { Rule, RuleResult } from './define-rule.js';

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
    if (r.joinTo !== undefined && !(Array.isArray(r.joinTo) && r.joinTo.every((id) => typeof id === 'string'))) bad('joinTo that is not a list of rule ids');
  }
  return results as readonly RuleResult[];
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
