import type { RuleMeta } from '../../src/engine/define-rule.js';

/** The least meta a rule can have and still pass the rule-shape check, with parts replaced. */
export function minimalRuleMeta(id: string, overrides: Partial<RuleMeta<'ok'>> = {}): RuleMeta<'ok'> {
  return {
    id,
    title: `Rule ${id}`,
    severity: 'low',
    appliesTo: 'all',
    docs: { description: 'd', rationale: 'r', sources: ['s'], fix: { gcloud: 'g', terraform: 't' } },
    messages: { ok: 'ok' },
    remediation: { summary: 's', automatic: false },
    ...overrides,
  };
}
