import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/main.js';
import type { Finding } from '../../src/findings/schema.js';
import { runCli } from '../support/cli-harness.js';
import { readSeedDir, startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const SAMPLE = 'examples/sample-org';
const BOTH_ORGS = ['--org', '123456789012', '--org', '987654321098'];

function findingsOf(stdout: string): Finding[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding)
    .filter((f) => typeof f.ruleId === 'string');
}

/** job → rule → status, the verdicts two scans are compared by. */
function verdicts(findings: readonly Finding[], keep: (f: Finding) => boolean = () => true): Record<string, string> {
  return Object.fromEntries(findings.filter(keep).map((f) => [`${f.job.name} ${f.ruleId}`, f.status]).sort());
}

/** A job whose target lives in its own project: a project scan holds everything its verdicts need. */
const targetInProject = (project: string) => (f: Finding) => f.job.project === project && (f.target?.resource ?? '').includes(`projects/${project}/`);

describe('a project scan reads the folders and organization above it through Resource Manager', () => {
  let fake: FakeGcp;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fake = await startFakeGcp({ seedDir: SAMPLE });
    env = { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address };
  });
  afterAll(() => fake.stop());

  it('gives the verdicts of an organization scan for the jobs whose targets are in the project, exit by --fail-on', async () => {
    const org = await runCli(['scan', ...BOTH_ORGS, '--format', 'jsonl', '--include-passes'], env);
    expect(org.code).toBe(EXIT.ok);
    fake.counters.reset();
    const project = await runCli(['scan', '--project', 'acme-prod', '--format', 'jsonl', '--include-passes'], env);
    expect(project.stderr).not.toMatch(/COVERAGE GAPS/);
    expect(project.code).toBe(EXIT.ok);
    const expected = verdicts(findingsOf(org.stdout), targetInProject('acme-prod'));
    expect(Object.keys(expected).length).toBeGreaterThan(50);
    expect(verdicts(findingsOf(project.stdout), targetInProject('acme-prod'))).toEqual(expected);
    // The chain project → folder → organization, each container and its policy read once.
    expect(fake.counters.get('projects.GetProject')).toBe(1);
    expect(fake.counters.get('folders.GetFolder')).toBe(1);
    expect(fake.counters.get('folders.GetIamPolicy')).toBe(1);
    expect(fake.counters.get('organizations.GetIamPolicy')).toBe(1);
    expect(fake.requests.filter((r) => r.method.startsWith('folders.') || r.method.startsWith('organizations.')).every((r) => !r.authorization)).toBe(true);

    const failing = await runCli(['scan', '--project', 'acme-prod', '--format', 'jsonl', '--fail-on', 'high'], env);
    expect(failing.code).toBe(EXIT.findings);
  });

  it('reads a container shared by several scopes once, and none that is itself a scope', async () => {
    fake.counters.reset();
    const run = await runCli(['scan', '--project', 'acme-prod', '--project', 'acme-data', '--project', 'acme-legacy', '--format', 'jsonl'], env);
    expect(run.stderr).not.toMatch(/COVERAGE GAPS/);
    expect(fake.counters.get('projects.GetProject')).toBe(3);
    expect(fake.counters.get('folders.GetFolder')).toBe(1);
    expect(fake.counters.get('folders.GetIamPolicy')).toBe(1);
    expect(fake.counters.get('organizations.GetIamPolicy')).toBe(1);

    fake.counters.reset();
    const withFolder = await runCli(['scan', '--folder', '345678901234', '--project', 'acme-prod', '--format', 'jsonl'], env);
    expect(withFolder.stderr).not.toMatch(/COVERAGE GAPS/);
    // The folder's own policy comes from its listing; only the organization's is read.
    expect(fake.counters.get('folders.GetIamPolicy')).toBe(0);
    expect(fake.counters.get('organizations.GetIamPolicy')).toBe(1);
  });

  it('names the permission and a role that holds it when a policy above is refused; its verdicts are unverifiable', async () => {
    fake.setFaults([{ method: 'folders.GetIamPolicy', code: 'PERMISSION_DENIED', message: 'Permission denied on resource' }]);
    try {
      const run = await runCli(['scan', '--project', 'acme-prod', '--format', 'jsonl', '--include-passes'], env);
      expect(run.code).toBe(EXIT.partial);
      const gaps = run.stderr.split('\n').filter((l) => /^\s+folders\/345678901234: /.test(l));
      expect(gaps).toHaveLength(1);
      expect(gaps[0]).toMatch(/resourcemanager\.folders\.getIamPolicy on folders\/345678901234/);
      expect(gaps[0]).toMatch(/roles\/iam\.securityReviewer/);
      expect(gaps[0]).toMatch(/PERMISSION_DENIED/);
      // Invoker verdicts that passed through a direct grant stay; those needing the folder do not pass.
      const invoke = findingsOf(run.stdout).filter((f) => f.ruleId === 'oidc-sa-can-invoke-target');
      expect(invoke.some((f) => f.status === 'unverifiable')).toBe(true);
    } finally {
      fake.setFaults([]);
    }

    fake.setFaults([{ method: 'organizations.GetIamPolicy', code: 'PERMISSION_DENIED' }]);
    try {
      const run = await runCli(['scan', '--project', 'acme-legacy', '--format', 'jsonl'], env);
      expect(run.code).toBe(EXIT.partial);
      expect(run.stderr).toMatch(/organizations\/123456789012: .*resourcemanager\.organizations\.getIamPolicy on organizations\/123456789012/);
    } finally {
      fake.setFaults([]);
    }

    fake.setFaults([{ method: 'projects.GetProject', code: 'PERMISSION_DENIED' }]);
    try {
      const run = await runCli(['scan', '--project', 'acme-prod', '--format', 'jsonl'], env);
      expect(run.code).toBe(EXIT.partial);
      expect(run.stderr).toMatch(/projects\/acme-prod: .*resourcemanager\.projects\.get on projects\/acme-prod \(held by roles\/browser/);
    } finally {
      fake.setFaults([]);
    }
  });
});

describe('a project without an organization', () => {
  let fake: FakeGcp;
  beforeAll(async () => {
    // labs-tools of the sample, taken out of its organization, with a job of its own calling its service.
    const { records } = await readSeedDir(SAMPLE);
    const labs = records
      .filter((r) => r.ancestors?.includes('projects/444444444444'))
      .map((r) => {
        const copy = structuredClone(r) as unknown as Record<string, unknown> & { resource?: Record<string, unknown>; ancestors?: string[] };
        copy.ancestors = ['projects/444444444444', ...(r.ancestors!.slice(1).filter((a) => !a.startsWith('organizations/')))];
        if (copy.resource && String(copy.resource.parent).includes('organizations/')) delete copy.resource.parent;
        delete copy.origin;
        return copy;
      });
    const job = structuredClone(records.find((r) => r.name.endsWith('/jobs/labs-ingest-cross-org'))!) as unknown as Record<string, unknown> & {
      resource: { data: Record<string, unknown>; parent?: string };
    };
    job.name = '//cloudscheduler.googleapis.com/projects/labs-tools/locations/us-central1/jobs/ingest-pull';
    job.resource.data.name = 'projects/labs-tools/locations/us-central1/jobs/ingest-pull';
    job.resource.parent = '//cloudresourcemanager.googleapis.com/projects/444444444444';
    job.ancestors = ['projects/444444444444'];
    delete job.origin;
    fake = await startFakeGcp({ records: [...labs, job] });
  });
  afterAll(() => fake.stop());

  it('has nothing above it to read and no coverage gap', async () => {
    const run = await runCli(['scan', '--project', 'labs-tools', '--format', 'jsonl', '--include-passes'], { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address });
    expect(run.stderr).not.toMatch(/COVERAGE GAPS/);
    expect(run.code).toBe(EXIT.ok);
    expect(fake.counters.get('projects.GetProject')).toBe(1);
    expect(fake.counters.get('folders.GetFolder') + fake.counters.get('organizations.GetIamPolicy')).toBe(0);
    const invoke = findingsOf(run.stdout).find((f) => f.ruleId === 'oidc-sa-can-invoke-target');
    expect(invoke?.status).toBe('pass');
  });
});
