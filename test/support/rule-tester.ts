/**
 * RuleTester for vitest, after ESLint's: tables of `valid` and `invalid` cases over realistic
 * asset records. It refuses an invalid case that yields no non-passing result, a message id the
 * rule does not declare, and a message with an unfilled placeholder.
 */
import { describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { formatMessage, type Rule, type RuleResult } from '../../src/engine/define-rule.js';
import { InventoryBuilder } from '../../src/model/inventory.js';
import type { Severity, Status } from '../../src/findings/schema.js';

export interface ValidCase {
  name: string;
  assets: AssetRecord[];
  /** Job id to judge; the only job when omitted. */
  job?: string;
}

export interface ExpectedResult {
  status: Exclude<Status, 'pass'>;
  messageId: string;
  severity?: Severity;
  /** Substrings the formatted message must contain. */
  messageIncludes?: string[];
}

export interface InvalidCase extends ValidCase {
  expect: ExpectedResult[];
}

export function evaluateRule(rule: Rule, assets: AssetRecord[], jobId?: string): { results: readonly RuleResult[]; messages: string[] } {
  const problems: string[] = [];
  const builder = new InventoryBuilder((p) => problems.push(`${p.origin}: ${p.message}`));
  for (const a of assets) builder.add(a);
  const inventory = builder.finish();
  if (problems.length > 0) throw new Error(`test assets are unreadable:\n${problems.join('\n')}`);
  const jobs = jobId ? inventory.jobs.filter((j) => j.jobId === jobId) : inventory.jobs;
  if (jobs.length !== 1) throw new Error(`expected exactly one job${jobId ? ` "${jobId}"` : ''}, found ${jobs.length}`);
  const job = jobs[0]!;
  const target = inventory.target(job);
  const applies = rule.meta.appliesTo === 'all' || rule.meta.appliesTo.includes(target.kind);
  const results = applies ? rule.evaluate(job, { inventory, target }) : [];
  const messages = results.map((r) => {
    const template = (rule.meta.messages as Record<string, string>)[r.messageId];
    if (template === undefined) throw new Error(`rule ${rule.meta.id} returned undeclared messageId "${r.messageId}"`);
    const text = formatMessage(template, r.data);
    if (/\{\{\s*\w+\s*\}\}/.test(text)) throw new Error(`message "${r.messageId}" has an unfilled placeholder: ${text}`);
    return text;
  });
  return { results, messages };
}

export function ruleTester(rule: Rule, cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  describe(rule.meta.id, () => {
    if (cases.valid.length === 0 || cases.invalid.length === 0) throw new Error('a rule needs both valid and invalid cases');
    describe('valid', () => {
      for (const c of cases.valid) {
        it(c.name, () => {
          const { results, messages } = evaluateRule(rule, c.assets, c.job);
          const bad = results.map((r, i) => ({ r, m: messages[i] })).filter(({ r }) => r.status !== 'pass');
          expect(bad.map(({ r, m }) => `${r.status} ${r.messageId}: ${m}`)).toEqual([]);
        });
      }
    });
    describe('invalid', () => {
      for (const c of cases.invalid) {
        it(c.name, () => {
          if (c.expect.length === 0) throw new Error('an invalid case must expect at least one result');
          const { results, messages } = evaluateRule(rule, c.assets, c.job);
          const got = results
            .map((r, i) => ({ r, m: messages[i]! }))
            .filter(({ r }) => r.status !== 'pass');
          expect(got.map(({ r }) => ({ status: r.status, messageId: r.messageId }))).toEqual(
            c.expect.map((e) => ({ status: e.status, messageId: e.messageId })),
          );
          c.expect.forEach((e, i) => {
            if (e.severity) expect(got[i]!.r.severity ?? rule.meta.severity, `severity of ${e.messageId}`).toBe(e.severity);
            for (const s of e.messageIncludes ?? []) expect(got[i]!.m).toContain(s);
          });
        });
      }
    });
  });
}
