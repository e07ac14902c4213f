import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { CLOUD_IDENTITY_ENDPOINT_ENV } from '../../src/evidence/groups/cloud-identity-client.js';
import { GOOGLE_API_ENDPOINT_ENV } from '../../src/google/client-options.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { startFakeCloudIdentity, type FakeCloudIdentity } from '../support/fake-cloud-identity/index.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';
import { sampleGroups, sampleLogEntries } from '../evidence/sample-evidence.js';

const JOBS = 'projects/acme-prod/locations/us-central1/jobs';
let gcp: FakeGcp;
let identity: FakeCloudIdentity;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // The sample's entries moved to yesterday: the CLI's window ends now.
  const yesterday = Date.now() - 86_400_000;
  const entries = sampleLogEntries()
    .filter((e) => String((e.resource as { labels: { job_id: string } }).labels.job_id) === 'billing-unexplained-403')
    .map((e, i) => ({ ...e, timestamp: new Date(yesterday + i * 1000).toISOString(), receiveTimestamp: undefined }));
  gcp = await startFakeGcp({ logEntries: entries });
  const { customer, groups } = sampleGroups();
  identity = await startFakeCloudIdentity({ groups, customer, edition: 'standard' });
  env = { [GOOGLE_API_ENDPOINT_ENV]: gcp.address, [CLOUD_IDENTITY_ENDPOINT_ENV]: identity.url, GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/credentials.json' };
});
afterAll(async () => {
  await identity.stop();
  await gcp.stop();
});

const findings = (stdout: string): Finding[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);

describe('scan with evidence beyond the inventory', () => {
  it('reads refused attempts and settles group grants when asked, by flag or variable', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--attempts-window', '7d', '--resolve-groups'], env);
    const out = findings(run.stdout);
    const refused = out.find((f) => f.job.name === `${JOBS}/billing-unexplained-403` && f.ruleId === 'last-attempt-authorized')!;
    expect(refused.message).toMatch(/^3 attempt\(s\) in the last 7d were refused \(401: 0, 403: 3/);
    expect(out.some((f) => f.job.name.endsWith('/export-group-only') && f.ruleId === 'oidc-sa-can-invoke-target')).toBe(false);
    expect(run.stderr).toMatch(/evidence attempts: loggingCalls 1, refusedAttempts 3/);
    expect(run.stderr).toMatch(/evidence groups: pairs 3,/);
    expect(identity.sawAuthorization).toBe(false);

    const byEnv = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl'], { ...env, CRONWARDEN_ATTEMPTS_FROM: 'projects', CRONWARDEN_RESOLVE_GROUPS: 'true' });
    expect(findings(byEnv.stdout).map((f) => f.findingId).sort()).toEqual(out.map((f) => f.findingId).sort());
  });

  it('without the options reads no logs and asks no group', async () => {
    gcp.counters.reset();
    const before = identity.calls.total;
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl'], env);
    expect(findings(run.stdout).find((f) => f.job.name.endsWith('/export-group-only'))?.status).toBe('unverifiable');
    expect(gcp.counters.total()).toBe(0);
    expect(identity.calls.total).toBe(before);
    expect(run.stderr).not.toMatch(/evidence/);
  });

  it('stops with exit 2 and a clear message when Cloud Identity has no credentials to use', async () => {
    const run = await runCli(['scan', ...sampleInputs(), '--resolve-groups'], { GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/credentials.json' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--resolve-groups: no Application Default Credentials to call Cloud Identity with');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses bad values with the flag, the variable and what is allowed', async () => {
    const window = await runCli(['scan', ...sampleInputs(), '--attempts-window', '2w'], env);
    expect(window.code).toBe(2);
    expect(window.stderr).toContain('--attempts-window (or CRONWARDEN_ATTEMPTS_WINDOW): a window like 7d, 36h or 90m');
    const from = await runCli(['scan', ...sampleInputs(), '--attempts-from', 'projects/p/buckets/b'], env);
    expect(from.code).toBe(2);
    expect(from.stderr).toContain('--attempts-from (or CRONWARDEN_ATTEMPTS_FROM): "projects"');
    const groups = await runCli(['scan', ...sampleInputs()], { ...env, CRONWARDEN_RESOLVE_GROUPS: 'maybe' });
    expect(groups.code).toBe(2);
    expect(groups.stderr).toContain('CRONWARDEN_RESOLVE_GROUPS=maybe: expected true or false');
  });
});
