import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/main.js';
import type { Finding } from '../../src/findings/schema.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const lines = (text: string): Record<string, unknown>[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const findings = (stdout: string): Finding[] => lines(stdout).filter((r) => typeof r.ruleId === 'string') as unknown as Finding[];

/** A row of a Markdown table whose first cell matches, as its cells. */
function tableRow(markdown: string, firstCell: RegExp): string[] {
  const row = markdown.split('\n').find((l) => l.startsWith('|') && firstCell.test((l.split('|')[1] ?? '').trim()));
  if (!row) throw new Error(`no table row whose first cell matches ${firstCell}`);
  return row.split('|').slice(1, -1).map((c) => c.trim());
}

describe('every scope refused is an access error; some refused is partial', () => {
  let fake: FakeGcp;
  let env: NodeJS.ProcessEnv;
  const observed: { allRefused?: number; allRefusedCloudRun?: number; someRefused?: number } = {};
  beforeAll(async () => {
    fake = await startFakeGcp({ seedDir: 'examples/sample-org' });
    env = { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address };
  });
  afterAll(() => fake.stop());

  it('all refused: exit 2, one message naming roles/cloudasset.viewer on each scope, no summary', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', message: 'The caller does not have permission' }]);
    try {
      const run = await runCli(['scan', '--org', '123456789012', '--project', 'acme-legacy', '--format', 'jsonl', '--fail-on', 'high'], env);
      observed.allRefused = run.code;
      expect(run.code).toBe(EXIT.error);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/cronwarden: no scope could be listed; nothing was judged:/);
      expect(run.stderr).toMatch(/organizations\/123456789012: .*PERMISSION_DENIED.*roles\/cloudasset\.viewer on organizations\/123456789012/);
      expect(run.stderr).toMatch(/projects\/acme-legacy: .*roles\/cloudasset\.viewer on projects\/acme-legacy/);
      expect(run.stderr).not.toMatch(/PARTIAL|\n\s+at /);

      const cloudRun = await runCli(['scan', '--org', '123456789012'], { ...env, CRONWARDEN_EXIT_MODE: 'cloud-run', CRONWARDEN_LOG_FORMAT: 'json' });
      observed.allRefusedCloudRun = cloudRun.code;
      const failed = lines(cloudRun.stderr).find((e) => e.event === 'scan.failed');
      expect(failed).toMatchObject({ severity: 'CRITICAL', exitCode: cloudRun.code, retried: false, error: { name: 'AccessError', code: 'SCOPES_REFUSED' } });
      expect(cloudRun.code).toBe(0);
    } finally {
      fake.setFaults([]);
    }
  });

  it('some refused: the others are judged, the refused one is a gap naming the role, exit 3', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', scope: 'projects/acme-data' }]);
    try {
      const run = await runCli(['scan', '--project', 'acme-prod', '--project', 'acme-data', '--format', 'jsonl'], env);
      observed.someRefused = run.code;
      expect(run.code).toBe(EXIT.partial);
      expect(findings(run.stdout).length).toBeGreaterThan(0);
      expect(run.stderr).toMatch(/projects\/acme-data: ListAssets .*PERMISSION_DENIED.*roles\/cloudasset\.viewer on projects\/acme-data/);
    } finally {
      fake.setFaults([]);
    }
  });

  it('the README exit-code table and docs/api-inventory.md give the codes the runs above exited with', () => {
    expect(observed.allRefused).toBeDefined();
    expect(observed.someRefused).toBeDefined();
    const readme = readFileSync('README.md', 'utf8');
    // | outcome | CLI | Cloud Run task | retried | logs |
    const all = tableRow(readme, /^every scope refused/);
    expect(all[0]).toContain('roles/cloudasset.viewer');
    expect(all[1]).toBe(String(observed.allRefused));
    expect(all[2]).toBe(String(observed.allRefusedCloudRun));
    const some = tableRow(readme, /^partial: unreadable input, or a permanent coverage gap/);
    expect(some[0]).toContain('PERMISSION_DENIED on a scope');
    expect(some[1]).toBe(String(observed.someRefused));

    const inventory = readFileSync('docs/api-inventory.md', 'utf8').replace(/\s+/g, ' ');
    expect(/The CLI then exits with status (\d), "partial"/.exec(inventory)?.[1]).toBe(String(observed.someRefused));
    expect(/When every scope of the run is refused or unreachable, [^.]*\. The run stops with an access error, exit status (\d)/.exec(inventory)?.[1]).toBe(
      String(observed.allRefused),
    );
    expect(inventory).toMatch(/the role to grant \(`roles\/cloudasset\.viewer` on the scope\)/);
  });
});

describe('messages and settings that mean what they say', () => {
  it('--only-rule last-attempt-authorized says the configuration rules did not run', async () => {
    const alone = await runCli(['scan', ...sampleInputs(), '--only-rule', 'last-attempt-authorized', '--format', 'jsonl']);
    const refused = findings(alone.stdout).filter((f) => f.status === 'fail');
    expect(refused.length).toBeGreaterThan(1);
    for (const f of refused) {
      expect(f.message).toMatch(/the configuration rules that could explain it did not run in this scan/);
      expect(f.message).not.toMatch(/no configuration finding explains it/);
    }
    // With them, only the refusal nothing explains is reported alone, and says so; the status is said once.
    const all = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl']);
    const unexplained = findings(all.stdout).filter((f) => f.ruleId === 'last-attempt-authorized');
    expect(unexplained.map((f) => f.job.name.split('/').pop())).toEqual(['billing-unexplained-403']);
    expect(unexplained[0]!.message).toBe('The last attempt ended PERMISSION_DENIED, and no configuration finding explains it.');
    // The same finding id either way: the cause did not change, only what the scan could say about it.
    const sameJob = refused.find((f) => f.job.name.endsWith('/billing-unexplained-403'));
    expect(sameJob?.findingId).toBe(unexplained[0]!.findingId);
  });

  it('--log-level silent prints nothing on stderr, the summary included; the exit code still tells', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--log-level', 'silent', '--fail-on', 'high']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.findings);
    const json = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--log-level', 'silent', '--log-format', 'json']);
    expect(json.stderr).toBe('');
  });

  it('names from a fixed set are taken in any case, from flags and variables', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'JSONL', '--fail-on', 'High', '--log-format', 'Text'], { CRONWARDEN_LOG_LEVEL: 'SILENT' });
    expect(run.code).toBe(EXIT.findings);
    expect(run.stderr).toBe('');
    expect(findings(run.stdout).length).toBeGreaterThan(0);
    const bad = await runCli(['scan', ...sampleInputs(), '--fail-on', 'severe']);
    expect(bad.code).toBe(EXIT.error);
    expect(bad.stderr).toMatch(/--fail-on \(or CRONWARDEN_FAIL_ON\)/);
  });
});
