import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV } from '../../src/google/client-options.js';
import type { Plan } from '../../src/remediation/plan-schema.js';
import { runCli } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const ORG = '123456789012';
const dir = mkdtempSync(join(tmpdir(), 'cw-modes-'));
let fake: FakeGcp;
let env: NodeJS.ProcessEnv;
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
afterAll(() => {
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});
beforeEach(async () => {
  fake = await startFakeGcp({ seedDir: 'examples/sample-org', strict: true });
  env = { [GOOGLE_API_ENDPOINT_ENV]: fake.address, CRONWARDEN_LOG_LEVEL: 'warn' };
});
afterEach(async () => fake.stop());

const writes = () => ['UpdateJob', 'SetIamPolicy'].reduce((n, m) => n + fake.counters.get(m), 0);
const readPlan = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Plan;
const key = (p: Plan) => p.changes.map((c) => c.entryId).sort();

describe('fix plan --findings FILE', () => {
  it('plans from a scan\'s findings by reading jobs and targets live, the same changes as a scan would, writing nothing', async () => {
    const scanned = join(dir, 'from-scan.json');
    expect((await runCli(['fix', 'plan', '--org', ORG, '--output', scanned], env)).code).toBe(0);
    const findingsPath = join(dir, 'findings.jsonl');
    const scan = await runCli(['scan', '--org', ORG, '--format', 'jsonl'], env);
    writeFileSync(findingsPath, scan.stdout);
    const fromFile = join(dir, 'from-findings.json');
    fake.counters.reset();
    const r = await runCli(['fix', 'plan', '--findings', findingsPath, '--output', fromFile], env);
    expect(r.code, r.stderr).toBe(0);
    expect(writes()).toBe(0);
    expect(fake.counters.get('ListAssets')).toBe(0);
    // What the findings file cannot show (project numbers for deterministic URLs, custom roles)
    // is not re-confirmed live: those findings stay manual, never a change the scan would not make.
    const fromScan = key(readPlan(scanned));
    const fromFindings = key(readPlan(fromFile));
    expect(fromFindings.every((id) => fromScan.includes(id))).toBe(true);
    expect(fromScan.length - fromFindings.length).toBeLessThanOrEqual(2);
    const manualJobs = readPlan(fromFile).manual.map((m) => JSON.stringify(m));
    for (const job of ['recon-deterministic-audience', 'reports-disabled-role']) expect(manualJobs.some((m) => m.includes(job))).toBe(true);
    expect(readPlan(fromFile).source).toBe('findings-file');
  });

  it('names unreadable lines and plans the rest (exit 3)', async () => {
    const scan = await runCli(['scan', '--org', ORG, '--format', 'jsonl'], env);
    const findingsPath = join(dir, 'broken.jsonl');
    writeFileSync(findingsPath, `{not json\n${scan.stdout}{"schemaVersion":1}\n`);
    const r = await runCli(['fix', 'plan', '--findings', findingsPath, '--output', join(dir, 'p.json')], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${findingsPath}:1: not JSON`);
    expect(r.stderr).toMatch(/broken\.jsonl:\d+: not a finding/);
    expect(readPlan(join(dir, 'p.json')).changes.length).toBeGreaterThan(0);
  });
});

describe('unattended remediation (cronwarden scan --remediate)', () => {
  it('applies only what the rule and project allow-lists admit, under the cap, and records it', async () => {
    const planPath = join(dir, 'nightly.json');
    const r = await runCli(['scan', '--org', ORG, '--format', 'jsonl'], {
      ...env,
      CRONWARDEN_REMEDIATE: 'apply',
      CRONWARDEN_REMEDIATE_RULES: 'oidc-audience-matches-target',
      CRONWARDEN_REMEDIATE_PROJECTS: 'acme-prod',
      CRONWARDEN_PLAN_OUTPUT: planPath,
    });
    expect(r.code, r.stderr).toBe(0);
    const plan = readPlan(planPath);
    expect(plan.changes.length).toBeGreaterThan(0);
    expect(plan.changes.every((c) => c.ruleId === 'oidc-audience-matches-target' && c.job.startsWith('projects/acme-prod/'))).toBe(true);
    expect(plan.manual.some((m) => m.reason.includes('allow-list'))).toBe(true);
    const records = readFileSync(join(dir, 'nightly.records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { result: string });
    expect(records.filter((x) => x.result === 'applied')).toHaveLength(plan.changes.length);
    expect(fake.counters.get('UpdateJob')).toBe(plan.changes.length);
    expect(fake.counters.get('SetIamPolicy')).toBe(0);
  });

  it('in plan mode writes the plan and changes nothing', async () => {
    const planPath = join(dir, 'plan-only.json');
    const r = await runCli(['scan', '--org', ORG, '--format', 'jsonl', '--remediate', 'plan', '--remediate-rule', 'oidc-sa-can-invoke-target', '--remediate-project', 'acme-prod', '--plan-output', planPath], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readPlan(planPath).changes.length).toBeGreaterThan(0);
    expect(writes()).toBe(0);
  });

  it('refuses to run without explicit allow-lists, and a bad mode names its variable', async () => {
    const r = await runCli(['scan', '--org', ORG], { ...env, CRONWARDEN_REMEDIATE: 'apply' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--remediate-rule (or CRONWARDEN_REMEDIATE_RULES): unattended remediation needs an explicit rule allow-list');
    expect(r.stderr).toContain('CRONWARDEN_REMEDIATE_PROJECTS');
    const bad = await runCli(['scan', '--org', ORG], { ...env, CRONWARDEN_REMEDIATE: 'yes' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--remediate (or CRONWARDEN_REMEDIATE)');
    const cap = await runCli(['fix', 'apply', 'x.json', '--max-changes', '0', '--yes'], env);
    expect(cap.stderr).toContain('--max-changes (or CRONWARDEN_MAX_CHANGES)');
  });

  it('does not apply again in a retried Cloud Run task attempt: the cap holds across retries', async () => {
    const planPath = join(dir, 'retry.json');
    const r = await runCli(['scan', '--org', ORG, '--format', 'jsonl', '--exit-mode', 'cli'], {
      ...env,
      CRONWARDEN_REMEDIATE: 'apply',
      CRONWARDEN_REMEDIATE_RULES: 'oidc-audience-matches-target',
      CRONWARDEN_REMEDIATE_PROJECTS: 'acme-prod',
      CRONWARDEN_PLAN_OUTPUT: planPath,
      CLOUD_RUN_TASK_ATTEMPT: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(planPath)).toBe(true);
    expect(writes()).toBe(0);
    expect(r.stderr).toContain('remediation runs only in the first attempt');
  });
});
