import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { allRules } from '../../rules/index.js';
import { runCli, sampleInputs, SAMPLE_FILES } from '../support/cli-harness.js';

const parseLines = (text: string): Finding[] =>
  text.trim().split('\n').filter(Boolean).map((l) => FindingSchema.parse(JSON.parse(l)));

describe('cronwarden scan over the bundled sample', () => {
  it('prints one valid finding per line in jsonl, none of them passes, and exits 0', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl']);
    expect(run.code).toBe(0);
    const findings = parseLines(run.stdout);
    expect(findings.length).toBeGreaterThan(10);
    expect(findings.every((f) => f.status !== 'pass')).toBe(true);
    expect(run.stderr).toContain('jobs scanned');
    expect(new Set(findings.map((f) => f.scanId)).size).toBe(1);
  });

  it('has a failing and a passing case for every rule', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--include-passes']);
    const findings = parseLines(run.stdout);
    for (const rule of allRules) {
      const statuses = new Set(findings.filter((f) => f.ruleId === rule.meta.id).map((f) => f.status));
      expect([rule.meta.id, statuses.has('fail'), statuses.has('pass')]).toEqual([rule.meta.id, true, true]);
    }
  });

  it('gives the expected verdict for each named sample job', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'json']);
    const doc = JSON.parse(run.stdout) as { findings: Finding[]; summary: { jobsScanned: number } };
    expect(doc.summary.jobsScanned).toBe(36);
    const verdicts = new Set(doc.findings.map((f) => `${f.job.name.split('/').pop()} ${f.ruleId} ${f.status} ${f.severity}`));
    for (const expected of [
      'billing-no-token http-target-uses-oidc fail high',
      'billing-paused-no-token http-target-uses-oidc fail high',
      'public-hook-no-token http-target-uses-oidc fail low',
      'public-hook-no-token job-uri-has-no-credential fail high',
      'billing-wrong-audience oidc-audience-matches-target fail high',
      'billing-default-audience-path oidc-audience-matches-target unverifiable low',
      'cleanup-host-only-audience oidc-audience-matches-target fail high',
      'cleanup-query-in-default-audience oidc-audience-matches-target fail high',
      'sync-crm-cloudfunctions-audience oidc-audience-matches-target unverifiable low',
      'sync-crm-functions-invoker-only oidc-sa-can-invoke-target fail high',
      'reports-not-invoker oidc-sa-can-invoke-target fail high',
      'export-group-only oidc-sa-can-invoke-target unverifiable medium',
      'export-group-not-member oidc-sa-can-invoke-target unverifiable medium',
      'labs-ingest-group-only oidc-sa-can-invoke-target unverifiable medium',
      'run-job-trigger-oidc google-api-target-uses-oauth fail high',
      'disabled-service-account token-sa-exists-and-enabled fail high',
      'missing-service-account token-sa-exists-and-enabled fail high',
      'default-compute-identity token-sa-not-default-compute fail medium',
      'legacy-billing-sync scheduler-service-agent-has-role fail high',
      'legacy-billing-sync ingress-admits-scheduler unverifiable medium',
      'labs-ingest-cross-org ingress-admits-scheduler fail high',
      'billing-unexplained-403 last-attempt-authorized fail high',
      'reports-disabled-role oidc-sa-can-invoke-target fail high',
      'ledger-foreign-account oidc-sa-can-invoke-target fail high',
      'ledger-foreign-account token-sa-in-job-project fail medium',
      'recon-deterministic-audience oidc-audience-matches-target fail high',
      'etl-runner-not-invoker oauth-sa-can-call-target fail high',
    ]) {
      expect(verdicts, expected).toContain(expected);
    }
    // Jobs that are correct produce no finding at all.
    for (const ok of ['billing-ok', 'reports-custom-audience', 'cleanup-ok', 'sync-crm-ok', 'export-custom-role', 'run-job-trigger-oauth', 'ledger-deterministic-url']) {
      expect(doc.findings.filter((f) => f.job.name.endsWith(`/${ok}`)).map((f) => f.ruleId), ok).toEqual([]);
    }
    // The last attempt's 401 is joined to the config finding that explains it.
    const noToken = doc.findings.find((f) => f.job.name.endsWith('/billing-no-token'))!;
    expect(noToken.evidence.lastAttempt).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(doc.findings.some((f) => f.job.name.endsWith('/billing-no-token') && f.ruleId === 'last-attempt-authorized')).toBe(false);
  });

  it('writes to --output and exits 1 with --fail-on high', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-'));
    const out = join(dir, 'findings.jsonl');
    const run = await runCli(['scan', ...sampleInputs(), '--output', out, '--fail-on', 'high']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(parseLines(readFileSync(out, 'utf8')).length).toBeGreaterThan(10);
  });

  it('does not fail on unverifiable-only results', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--fail-on', 'critical']);
    expect(run.code).toBe(0);
  });

  it('prints a table on a terminal by default', async () => {
    const run = await runCli(['scan', ...sampleInputs()], { NO_COLOR: '1' }, { tty: true });
    expect(run.stdout.split('\n')[0]).toMatch(/^SEV\s+STAT\s+RULE\s+JOB\s+MESSAGE$/);
    expect(run.stdout).toContain('project acme-prod');
  });

  it('takes its settings from the environment', async () => {
    const run = await runCli(['scan'], { CRONWARDEN_INPUTS: SAMPLE_FILES.join(','), CRONWARDEN_FORMAT: 'jsonl', CRONWARDEN_FAIL_ON: 'medium' });
    expect(run.code).toBe(1);
    expect(parseLines(run.stdout).length).toBeGreaterThan(10);
  });
});

describe('bad input', () => {
  it('names each unreadable record with file and line, judges the rest, and exits 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-'));
    const bad = join(dir, 'bad.ndjson');
    const good = readFileSync(SAMPLE_FILES[0]!, 'utf8').trim().split('\n');
    const lines = [
      ...good.slice(0, 10),
      '{"name": "//x", "asset_type": ', // not JSON: line 11
      '{"asset_type":"cloudscheduler.googleapis.com/Job"}', // no name: line 12
      JSON.stringify({
        name: '//cloudscheduler.googleapis.com/projects/acme-prod/locations/us-central1/jobs/no-uri',
        asset_type: 'cloudscheduler.googleapis.com/Job',
        resource: { data: { name: 'projects/acme-prod/locations/us-central1/jobs/no-uri', httpTarget: { httpMethod: 'POST' } } },
      }), // line 13
      ...good.slice(10),
    ];
    writeFileSync(bad, `${lines.join('\n')}\n`);
    const run = await runCli(['scan', '--input', bad, '--input', SAMPLE_FILES[1]!, '--input', SAMPLE_FILES[2]!, '--input', join(dir, 'missing.json'), '--format', 'jsonl']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${bad}:11: not valid JSON`);
    expect(run.stderr).toContain(`${bad}:12: asset record has no "name"`);
    expect(run.stderr).toMatch(new RegExp(`${bad}:13: .*jobs/no-uri has an HTTP target without a URI`));
    expect(run.stderr).toContain(`${join(dir, 'missing.json')}: file does not exist`);
    expect(run.stderr).toContain('UNREADABLE records: 4');
    expect(run.stderr).toContain('PARTIAL');
    // Every readable job was still judged, by every rule; what could not be read only takes
    // confidence away (a missing file may have held a policy), never adds a pass or a fail.
    const full = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl']);
    const key = (f: { job: { name: string }; ruleId: string }): string => `${f.job.name} ${f.ruleId}`;
    expect(new Set(parseLines(run.stdout).map(key))).toEqual(new Set(parseLines(full.stdout).map(key)));
    const fullIds = new Set(parseLines(full.stdout).map((f) => f.findingId));
    for (const f of parseLines(run.stdout)) if (f.status !== 'unverifiable') expect(fullIds.has(f.findingId), key(f)).toBe(true);
    expect(run.stderr).toContain('cannot be tied to an asset');
  });

  it('rejects unknown flags and bad values with exit 2, naming the setting', async () => {
    expect((await runCli(['scan', '--nope'])).code).toBe(2);
    const bad = await runCli(['scan', ...sampleInputs(), '--fail-on', 'severe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fail-on (or CRONWARDEN_FAIL_ON)');
    const none = await runCli(['scan']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('nothing to scan');
    const env = await runCli(['scan', ...sampleInputs()], { CRONWARDEN_INCLUDE_PASSES: 'maybe' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('CRONWARDEN_INCLUDE_PASSES=maybe');
  });
});

describe('other commands', () => {
  it('lists rules, explains one, and refuses an unknown one', async () => {
    const rules = await runCli(['rules']);
    for (const r of allRules) expect(rules.stdout).toContain(r.meta.id);
    const explain = await runCli(['explain', 'oidc-sa-can-invoke-target']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('Fix with Terraform');
    expect(explain.stdout).toContain('gcloud run services add-iam-policy-binding');
    const unknown = await runCli(['explain', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown rule "nope"');
  });

  it('prints help and version', async () => {
    expect((await runCli(['--help'])).stdout).toContain('Exit codes');
    expect((await runCli(['scan', '--help'])).stdout).toContain('--fail-on');
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('the installed command', () => {
  it('runs through npx on the pinned Node and prints valid jsonl', () => {
    const out = execFileSync('npx', ['--no-install', 'cronwarden', 'scan', ...sampleInputs(), '--format', 'jsonl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(parseLines(out).length).toBeGreaterThan(10);
    const version = spawnSync('npx', ['--no-install', 'node', '--version'], { encoding: 'utf8' });
    expect(Number(/^v(\d+)/.exec(version.stdout)?.[1])).toBeGreaterThanOrEqual(22);
  });
});
