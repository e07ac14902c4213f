import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { planFromScan } from '../../src/cli/fix-command.js';
import { defineRule, hasFixer, type Rule } from '../../src/engine/define-rule.js';
import { RuleShapeSchema } from '../../src/engine/rule-packs.js';
import { RuleContractError } from '../../src/errors.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { PlanSchema } from '../../src/remediation/plan-schema.js';
import { planText } from '../../src/remediation/plan-text.js';
import { remediationMessage } from '../../src/remediation/record-message.js';
import type { ChangeRecord } from '../../src/remediation/record.js';
import { tokenUpdateMask } from '../../src/remediation/job-token.js';
import { minimalRuleMeta } from '../support/rule-meta.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { loadTopicSchema, validateJson } from '../sinks/proto-json.js';

const FIXERS = ['http-target-uses-oidc', 'oidc-audience-matches-target', 'oidc-sa-can-invoke-target', 'google-api-target-uses-oauth'];
const plan = (rules: readonly Rule[] = allRules, invokerAccounts: string[] = []) =>
  planFromScan({ source: new FileAssetSource(SAMPLE_FILES), rules, logger: memoryLogger(), fix: { invokerAccounts } });

describe('fixers declared in rule meta', () => {
  it('exist exactly for the rules that declare them, and findings say so only for failures', async () => {
    expect(allRules.filter(hasFixer).map((r) => r.meta.id).sort()).toEqual([...FIXERS].sort());
    for (const r of allRules) expect(r.meta.remediation.automatic, r.meta.id).toBe(typeof r.remediate === 'function');
    const { findings } = await plan();
    for (const f of findings) expect([f.findingId, f.remediation.automaticFix]).toEqual([f.findingId, f.status === 'fail' && FIXERS.includes(f.ruleId)]);
  });

  it('a rule pack adds a fixer the same way; a declaration without a fixer (or the reverse) does not load', async () => {
    const packRule = defineRule({
      meta: minimalRuleMeta('pack-audience-everywhere', { appliesTo: ['cloud-run'], remediation: { summary: 'set the audience', automatic: true } }),
      evaluate: (job) => (job.http?.oidcToken?.audience === 'https://billing-abc123xyz-uc.a.run.app' ? [] : [{ status: 'fail' as const, messageId: 'ok' as const }]),
      remediate: (job) => ({
        change: { kind: 'job-token' as const, job: job.name, before: { type: 'none' as const }, after: { type: 'oidc' as const, serviceAccountEmail: 'x@acme-prod.iam.gserviceaccount.com', audience: 'https://billing-abc123xyz-uc.a.run.app' } },
        why: 'pack fixer',
      }),
    });
    expect(RuleShapeSchema.safeParse(packRule).success).toBe(true);
    expect(RuleShapeSchema.safeParse({ ...packRule, remediate: undefined }).success).toBe(false);
    expect(RuleShapeSchema.safeParse({ ...packRule, meta: { ...packRule.meta, remediation: { summary: 's', automatic: false } } }).success).toBe(false);
    const { plan: p } = await plan([...allRules, packRule]);
    expect(p.changes.some((c) => c.ruleId === 'pack-audience-everywhere' && c.why === 'pack fixer')).toBe(true);

    const broken = { ...packRule, remediate: (job: { name: string }) => ({ change: { kind: 'iam-member', api: 'run', resource: job.name, role: 'roles/owner', member: 'user:x@example.com', before: { memberPresent: false }, after: { memberPresent: true } }, why: 'bad' }) } as unknown as Rule;
    await expect(plan([...allRules, broken])).rejects.toThrow(RuleContractError);
  });
});

describe('the plan', () => {
  it('validates against its schema, lists the manual ones with the hand fix, and names invoker accounts only when told', async () => {
    const { plan: p } = await plan();
    expect(PlanSchema.safeParse(JSON.parse(JSON.stringify(p))).success).toBe(true);
    const noAccount = p.manual.find((m) => m.reason.includes('names no service account'));
    expect(noAccount?.fix.terraform).toContain('oidc_token');
    const { plan: withAccount } = await plan(allRules, ['acme-prod=scheduler-invoker@acme-prod.iam.gserviceaccount.com']);
    expect(withAccount.changes.find((c) => c.job === noAccount!.job)?.change).toMatchObject({ after: { type: 'oidc', serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com' } });
    // Accounts that are disabled or gone get no grant: fixing the account comes first.
    expect(p.manual.some((m) => m.ruleId === 'oidc-sa-can-invoke-target' && /disabled|does not exist/.test(m.reason))).toBe(true);
  });

  it('prints as a diff with control characters from the inventory made visible', async () => {
    const { plan: p } = await plan();
    const hostile = structuredClone(p);
    hostile.changes[0]!.why = 'evil \u001b[2J\u001b]0;owned\u0007 text';
    const text = planText(hostile);
    expect(text).not.toMatch(/\u001b|\u0007/);
    expect(text).toContain('\\u001b[2J');
  });

  it('masks only token fields, as snake_case proto paths', () => {
    const sa = 'a@p-one.iam.gserviceaccount.com';
    expect(tokenUpdateMask({ type: 'oidc', serviceAccountEmail: sa, audience: 'x' }, { type: 'oidc', serviceAccountEmail: sa, audience: 'y' })).toEqual(['http_target.oidc_token.audience']);
    expect(tokenUpdateMask({ type: 'none' }, { type: 'oidc', serviceAccountEmail: sa, audience: 'y' })).toEqual(['http_target.oidc_token.service_account_email', 'http_target.oidc_token.audience']);
    expect(tokenUpdateMask({ type: 'oidc', serviceAccountEmail: sa }, { type: 'oauth', serviceAccountEmail: sa, scope: 's' })).toEqual([
      'http_target.oauth_token.service_account_email',
      'http_target.oauth_token.scope',
      'http_target.oidc_token',
    ]);
    expect(tokenUpdateMask({ type: 'oauth', serviceAccountEmail: sa }, { type: 'none' })).toEqual(['http_target.oauth_token']);
  });
});

describe('remediation events', () => {
  it('fit the topic schema for both change kinds, apply and undo', () => {
    const schema = loadTopicSchema();
    const base = { kind: 'cronwarden.remediation-record', recordVersion: 1, reason: 'r', planId: 'p', entryId: '0123456789abcdef', findingId: 'f'.repeat(32), scanId: 's', ruleId: 'oidc-sa-can-invoke-target', job: 'projects/p-one/locations/l/jobs/j', terraform: 't', actor: 'a@h', at: '2026-12-01T00:00:00.000Z', attempts: 2 } as const;
    const records: ChangeRecord[] = [
      { ...base, result: 'applied', action: 'apply', change: { kind: 'iam-member', api: 'run', resource: 'projects/p-one/locations/l/services/s', role: 'roles/run.invoker', member: 'serviceAccount:a@p-one.iam.gserviceaccount.com', before: { memberPresent: false }, after: { memberPresent: true } } },
      { ...base, result: 'skipped', action: 'undo', change: { kind: 'job-token', job: base.job, before: { type: 'oidc', serviceAccountEmail: 'a@p-one.iam.gserviceaccount.com' }, after: { type: 'none' } } },
      { ...base, result: 'failed', action: 'apply', change: { kind: 'job-token', job: base.job, before: { type: 'none' }, after: { type: 'oauth', serviceAccountEmail: 'a@p-one.iam.gserviceaccount.com', scope: 's' } } },
    ];
    for (const r of records) {
      const m = remediationMessage(r);
      expect(validateJson(schema, m.data.toString('utf8'))).toEqual([]);
      expect(m.attributes).toMatchObject({ eventType: `remediation.${r.result}`, action: r.action, projectId: 'p-one', jobId: 'j' });
    }
  });
});

describe('fix apply on a plan it cannot trust', () => {
  it('refuses a file that is not a valid plan, naming the field, before any call (exit 2)', async () => {
    const { runCli } = await import('../support/cli-harness.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cw-badplan-'));
    const { plan: p } = await plan();
    const bad = structuredClone(p) as unknown as { changes: { change: { role?: string; kind: string } }[] };
    bad.changes.find((c) => c.change.kind === 'iam-member')!.change.role = 'roles/owner';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    writeFileSync(join(dir, 'notjson.json'), '{"kind":');
    const env = { CRONWARDEN_GOOGLE_API_ENDPOINT: '127.0.0.1:1' };
    const r = await runCli(['fix', 'apply', join(dir, 'bad.json'), '--yes'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/changes\.\d+\.change/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace for a user's mistake
    const j = await runCli(['fix', 'apply', join(dir, 'notjson.json'), '--yes'], env);
    expect([j.code, j.stderr.includes('is not JSON')]).toEqual([2, true]);
    const missing = await runCli(['fix', 'apply', join(dir, 'nope.json'), '--yes'], env);
    expect([missing.code, missing.stderr.includes('cannot read the plan')]).toEqual([2, true]);
    const unwritable = await runCli(['fix', 'plan', '--input', SAMPLE_FILES[0]!, '--output', join(dir, 'no-dir', 'plan.json')], env);
    expect([unwritable.code, unwritable.stderr.includes('cannot write the plan to')]).toEqual([2, true]);
    expect(unwritable.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });
});
