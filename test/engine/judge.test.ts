import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { defineRule, type Rule } from '../../src/engine/define-rule.js';
import { judgeJob, type ScanIdentity } from '../../src/engine/judge.js';
import { RuleContractError } from '../../src/errors.js';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import type { AssetRecord } from '../../src/inventory/asset-record.js';
import { InventoryBuilder, type Inventory } from '../../src/model/inventory.js';
import {
  GEN1_URL, GEN2_URL, RUN_DETERMINISTIC_URL, RUN_URL, baseWorld, bind, job, runPolicy, serviceAccount, withRecords,
} from '../support/builders.js';
import { minimalRuleMeta } from '../support/rule-meta.js';

const SCAN: ScanIdentity = { scanId: 'scan-1', observedAt: '2026-11-20T03:00:00.000Z' };

function build(assets: AssetRecord[]): Inventory {
  const problems: string[] = [];
  const builder = new InventoryBuilder((p) => problems.push(p.message));
  for (const a of assets) builder.add(a);
  expect(problems).toEqual([]);
  return builder.finish();
}

function judge(assets: AssetRecord[], scan = SCAN, rules: readonly Rule[] = allRules): Finding[] {
  const inventory = build(assets);
  expect(inventory.jobs).toHaveLength(1);
  return judgeJob(inventory.jobs[0]!, inventory, rules, scan);
}

const byRule = (findings: Finding[], ruleId: string): Finding[] => findings.filter((f) => f.ruleId === ruleId);
const nonPassing = (findings: Finding[]): Finding[] => findings.filter((f) => f.status !== 'pass');

describe('judgeJob', () => {
  it('joins the last attempt to the configuration finding that explains it', () => {
    const findings = judge([...baseWorld(), job({ oidc: false, status: { code: 'UNAUTHENTICATED', message: 'HTTP 401' } })]);
    expect(nonPassing(findings).map((f) => f.ruleId)).toEqual(['http-target-uses-oidc']);
    const [host] = byRule(findings, 'http-target-uses-oidc');
    expect(host).toMatchObject({ status: 'fail', severity: 'high' });
    expect(host!.evidence.lastAttempt).toEqual({ code: 'UNAUTHENTICATED', message: 'HTTP 401' });
    expect(byRule(findings, 'last-attempt-authorized')).toEqual([]);
  });

  it('judges with the rules it is given, even when an array it saw before was changed in place', () => {
    const inventory = build([...baseWorld(), job()]);
    const rules = allRules.filter((r) => r.meta.id === 'http-target-uses-oidc' || r.meta.id === 'token-sa-not-default-compute');
    const first = judgeJob(inventory.jobs[0]!, inventory, rules, SCAN).map((f) => [f.ruleId, f.status, f.message, f.remediation.docsUrl]);
    rules.reverse();
    const again = judgeJob(inventory.jobs[0]!, inventory, rules, SCAN).map((f) => [f.ruleId, f.status, f.message, f.remediation.docsUrl]);
    // Same verdicts and links per rule, in the new order: no rule is given another's remembered results.
    expect(again).toEqual([...first].reverse());
    expect(first.map(([id]) => id)).toEqual(['http-target-uses-oidc', 'token-sa-not-default-compute']);
  });

  it('joins to an invoker denial too', () => {
    const findings = judge([...withRecords(baseWorld(), runPolicy('svc')), job({ status: { code: 7 } })]);
    expect(nonPassing(findings).map((f) => f.ruleId)).toEqual(['oidc-sa-can-invoke-target']);
    expect(byRule(findings, 'oidc-sa-can-invoke-target')[0]!.evidence.lastAttempt).toEqual({ code: 'PERMISSION_DENIED' });
    expect(byRule(findings, 'last-attempt-authorized')).toEqual([]);
  });

  it('reports a refusal no configuration finding explains on its own', () => {
    const findings = judge([...baseWorld(), job({ status: { code: 7, message: 'PERMISSION_DENIED' } })]);
    expect(nonPassing(findings).map((f) => [f.ruleId, f.status, f.severity])).toEqual([['last-attempt-authorized', 'fail', 'high']]);
    // The status message only repeats the code here, so the evidence says it once.
    expect(byRule(findings, 'last-attempt-authorized')[0]!.evidence.lastAttempt).toEqual({ code: 'PERMISSION_DENIED' });
  });

  it('keeps a confirmed refusal at full severity when only an unverifiable finding could explain it', () => {
    const findings = judge([...baseWorld(), job({ uri: `${RUN_URL}/run`, oidc: { audience: `${RUN_URL}/run` }, status: { code: 16 } })]);
    expect(nonPassing(findings).map((f) => [f.ruleId, f.status, f.severity])).toEqual([
      ['oidc-audience-matches-target', 'unverifiable', 'low'],
      ['last-attempt-authorized', 'fail', 'high'],
    ]);
    expect(byRule(findings, 'oidc-audience-matches-target')[0]!.evidence.lastAttempt).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it('does not join to a rule outside the explaining set (default compute identity)', () => {
    const compute = '300000000003-compute@developer.gserviceaccount.com';
    const findings = judge([
      ...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `serviceAccount:${compute}`))),
      serviceAccount(compute),
      job({ oidc: { sa: compute, audience: RUN_URL }, status: { code: 16 } }),
    ]);
    expect(nonPassing(findings).map((f) => f.ruleId).sort()).toEqual(['last-attempt-authorized', 'token-sa-not-default-compute']);
    expect(byRule(findings, 'token-sa-not-default-compute')[0]!.evidence.lastAttempt).toBeUndefined();
  });

  it('emits a pass finding for every applicable rule on a healthy job', () => {
    const findings = judge([...baseWorld(), job()]);
    expect(nonPassing(findings)).toEqual([]);
    expect(findings.map((f) => f.ruleId)).toEqual([
      'http-target-uses-oidc',
      'oidc-audience-matches-target',
      'oidc-sa-can-invoke-target',
      'token-sa-exists-and-enabled',
      'token-sa-not-default-compute',
      'token-sa-in-job-project',
      'scheduler-service-agent-has-role',
      'ingress-admits-scheduler',
      'job-uri-has-no-credential',
      'last-attempt-authorized',
    ]);
    for (const f of findings) expect(f.severity).toBe('info');
  });

  describe('findingId', () => {
    const ids = (findings: Finding[]): Record<string, string> => Object.fromEntries(findings.map((f) => [`${f.ruleId}/${f.status}`, f.findingId]));
    const wrongAudience = (extra: Parameters<typeof job>[0] = {}): AssetRecord[] => [
      ...baseWorld(),
      job({ oidc: { audience: 'https://billing.example.com' }, ...extra }),
    ];

    it('is stable across two runs', () => {
      const first = judge(wrongAudience(), SCAN);
      const second = judge(wrongAudience(), { scanId: 'scan-2', observedAt: '2026-11-21T03:00:00.000Z' });
      expect(ids(second)).toEqual(ids(first));
      expect(new Set(first.map((f) => f.findingId)).size).toBe(first.length);
    });

    it('changes when the cause changes (another audience)', () => {
      const first = byRule(judge(wrongAudience()), 'oidc-audience-matches-target')[0]!;
      const other = byRule(judge([...baseWorld(), job({ oidc: { audience: 'https://other.example.com' } })]), 'oidc-audience-matches-target')[0]!;
      expect(first.status).toBe('fail');
      expect(other.status).toBe('fail');
      expect(other.findingId).not.toBe(first.findingId);
    });

    it('does not change with the job state', () => {
      const enabled = judge(wrongAudience());
      const paused = judge(wrongAudience({ state: 'PAUSED' }));
      expect(paused.map((f) => f.job.state)).toContain('PAUSED');
      expect(ids(paused)).toEqual(ids(enabled));
    });

    it('does not change when the last attempt joins the finding', () => {
      const quiet = byRule(judge(wrongAudience()), 'oidc-audience-matches-target')[0]!;
      const refused = byRule(judge(wrongAudience({ status: { code: 16 } })), 'oidc-audience-matches-target')[0]!;
      expect(refused.evidence.lastAttempt).toEqual({ code: 'UNAUTHENTICATED' });
      expect(refused.findingId).toBe(quiet.findingId);
    });
  });

  it('produces findings that validate against FindingSchema', () => {
    const cases: AssetRecord[][] = [
      [...baseWorld(), job()],
      [...baseWorld(), job({ oidc: false, status: { code: 16 } })],
      [...baseWorld(), job({ uri: `${RUN_DETERMINISTIC_URL}/x`, oidc: {} })],
      [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: 'https://us-central1-proj-alpha.cloudfunctions.net' } })],
      [...baseWorld(), job({ uri: GEN2_URL, oidc: {} })],
      [...baseWorld(), job({ uri: 'https://ghost-zz9yy8-uc.a.run.app', oidc: {} })],
      [...baseWorld(), job({ uri: 'https://run.googleapis.com/v2/projects/proj-alpha/locations/us-central1/jobs/j:run', oidc: {} })],
      [...baseWorld(), job({ uri: 'https://hooks.example.com/x', oidc: false })],
      [...baseWorld(), job({ pubsubTopic: 'projects/proj-alpha/topics/tick', status: { code: 7 } })],
    ];
    let count = 0;
    for (const assets of cases) {
      for (const f of judge(assets)) {
        const parsed = FindingSchema.safeParse(f);
        expect(parsed.success, `${f.ruleId}: ${parsed.error?.message}`).toBe(true);
        count++;
      }
    }
    expect(count).toBeGreaterThan(cases.length);
  });

  it('throws RuleContractError for a messageId the rule does not declare', () => {
    const rogue = defineRule<'ok'>({
      meta: minimalRuleMeta('rogue-rule'),
      evaluate: () => [{ status: 'fail', messageId: 'undeclared' as 'ok' }],
    });
    const run = (): Finding[] => judge([...baseWorld(), job()], SCAN, [rogue as Rule]);
    expect(run).toThrow(RuleContractError);
    expect(run).toThrow(/rogue-rule.*undeclared/);
  });
});
