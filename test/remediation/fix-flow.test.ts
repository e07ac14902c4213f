import { existsSync } from 'node:fs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV } from '../../src/google/client-options.js';
import type { Plan } from '../../src/remediation/plan-schema.js';
import type { ChangeRecord } from '../../src/remediation/record.js';
import { runCli } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const ORG = '123456789012';
const dir = mkdtempSync(join(tmpdir(), 'cw-fix-'));
let fake: FakeGcp;
let env: NodeJS.ProcessEnv;
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';

beforeEach(async () => {
  // The scanner lists at a read time a minute back; the fake's writes happen two minutes back,
  // so that a re-scan right after a fix sees it (with no indexing delay), as it would later on.
  fake = await startFakeGcp({ seedDir: 'examples/sample-org', strict: true, now: () => new Date(Date.now() - 120_000) });
  env = { [GOOGLE_API_ENDPOINT_ENV]: fake.address, CRONWARDEN_LOG_LEVEL: 'warn' };
});
afterEach(async () => fake.stop());
afterAll(() => {
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});

const WRITES = ['scheduler.UpdateJob', 'run.SetIamPolicy', 'functionsV1.SetIamPolicy', 'iam.SetIamPolicy'];
const writes = () => WRITES.reduce((n, m) => n + fake.counters.get(m), 0);
const records = (stdout: string): ChangeRecord[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChangeRecord);

async function plan(name = 'plan.json', extra: string[] = []): Promise<{ path: string; plan: Plan; stdout: string }> {
  const path = join(dir, name);
  const r = await runCli(['fix', 'plan', '--org', ORG, '--output', path, ...extra], env);
  expect(r.code, r.stderr).toBe(0);
  return { path, plan: JSON.parse(readFileSync(path, 'utf8')) as Plan, stdout: r.stdout };
}

async function fixableFindings(): Promise<{ ruleId: string; job: string }[]> {
  const r = await runCli(['scan', '--org', ORG, '--format', 'jsonl'], env);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: string; ruleId: string; job: { name: string }; remediation: { automaticFix: boolean } })
    .filter((f) => f.status === 'fail' && f.remediation.automaticFix)
    .map((f) => ({ ruleId: f.ruleId, job: f.job.name }));
}

describe('fix plan → fix apply against the fake, through the real clients', () => {
  it('plans without writing, then fixes every planned finding, and nothing else changes', async () => {
    const before = await fixableFindings();
    expect(before.length).toBeGreaterThan(5);
    const { path, plan: p, stdout } = await plan();
    expect(writes()).toBe(0); // the dry run makes zero write calls
    expect(stdout).toContain('+ http_target.oidc_token.audience');
    expect(p.changes.length).toBeGreaterThan(5);
    const untouched = fake.store.all().filter((a) => !p.changes.some((c) => a.name.endsWith(c.change.kind === 'job-token' ? c.change.job : c.change.resource)));
    const snapshot = JSON.stringify(untouched.map((a) => [a.name, a.assetType, a.resource, a.iamPolicy]));

    // What the touched jobs and policies hold besides what the changes touch.
    const jobs = p.changes.flatMap((c) => (c.change.kind === 'job-token' ? [c.job] : []));
    const policies = [...new Set(p.changes.flatMap((c) => (c.change.kind === 'iam-member' ? [c.change.resource] : [])))];
    const jobRest = () =>
      jobs.map((name) => {
        const data = structuredClone(fake.store.find(name, ['cloudscheduler.googleapis.com/Job'])[0]!.resource!.data!) as { httpTarget: Record<string, unknown>; userUpdateTime?: string };
        delete data.httpTarget.oidcToken;
        delete data.httpTarget.oauthToken;
        delete data.userUpdateTime;
        return data;
      });
    const bindings = () => policies.map((name) => fake.store.find(name, ['run.googleapis.com/Service', 'cloudfunctions.googleapis.com/CloudFunction'])[0]!.iamPolicy!.bindings ?? []);
    const jobsBefore = jobRest();
    const bindingsBefore = bindings();

    const r = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(jobRest()).toEqual(jobsBefore);
    bindings().forEach((after, i) => {
      const added = p.changes.flatMap((c) => (c.change.kind === 'iam-member' && c.change.resource === policies[i] ? [`${c.change.role} ${c.change.member}`] : []));
      const flat = (bs: { role: string; members: string[] }[]) => bs.flatMap((b) => b.members.map((m) => `${b.role} ${m}`)).sort();
      expect(flat(after)).toEqual([...flat(bindingsBefore[i]!), ...added].sort());
    });
    const recs = records(r.stdout);
    expect(recs.filter((x) => x.result === 'applied')).toHaveLength(p.changes.length);
    // A job change costs GetJob + UpdateJob; a policy, one read-modify-write per resource.
    const jobChanges = p.changes.filter((c) => c.change.kind === 'job-token').length;
    expect(fake.counters.get('scheduler.UpdateJob')).toBe(jobChanges);
    const resources = new Set(p.changes.flatMap((c) => (c.change.kind === 'iam-member' ? [c.change.resource] : []))).size;
    expect(fake.counters.get('SetIamPolicy')).toBe(resources);

    const after = await fixableFindings();
    const planned = new Set(p.changes.flatMap((c) => [`${c.ruleId} ${c.job}`]));
    expect(after.filter((f) => planned.has(`${f.ruleId} ${f.job}`))).toEqual([]);
    const untouchedAfter = fake.store.all().filter((a) => !p.changes.some((c) => a.name.endsWith(c.change.kind === 'job-token' ? c.change.job : c.change.resource)));
    expect(JSON.stringify(untouchedAfter.map((a) => [a.name, a.assetType, a.resource, a.iamPolicy]))).toBe(snapshot);
  });

  it('with an indexing delay, the next scan still shows the fixed findings, and the records say fixed', async () => {
    await fake.stop();
    fake = await startFakeGcp({ seedDir: 'examples/sample-org', strict: true, now: () => new Date(Date.now() - 120_000), listing: { indexingDelayMs: 3_600_000 } });
    env = { [GOOGLE_API_ENDPOINT_ENV]: fake.address, CRONWARDEN_LOG_LEVEL: 'warn' };
    const before = await fixableFindings();
    const { path, plan: p } = await plan();
    const r = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100'], env);
    expect(records(r.stdout).filter((x) => x.result === 'applied')).toHaveLength(p.changes.length);
    expect(await fixableFindings()).toEqual(before);
    // The live API, not the inventory, is what verifies: applying again finds every change in place.
    const again = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100'], env);
    expect(records(again.stdout).every((x) => x.reason.startsWith('already in place'))).toBe(true);
  });

  it('is idempotent: the same plan applied twice changes nothing the second time', async () => {
    const { path } = await plan();
    expect((await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100'], env)).code).toBe(0);
    const first = writes();
    const again = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100'], env);
    expect(again.code).toBe(0);
    expect(writes()).toBe(first);
    expect(records(again.stdout).every((x) => x.result === 'skipped' && x.reason.startsWith('already in place'))).toBe(true);
  });

  // Before, a records file on a full disk crashed the run with a stack trace (exit 1) after some
  // changes were made, leaving the log as the only account of them.
  it.skipIf(!existsSync('/dev/full'))('a records output that fails mid-run: every change still made and logged, exit 3, no stack trace', async () => {
    const { path } = await plan();
    const r = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '100', '--output', '/dev/full'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('cannot write the change records (ENOSPC)');
    expect(r.stderr).toMatch(/fix apply: \d+ applied, 0 skipped, 0 failed; the records output failed \(ENOSPC\)/);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('holds --max-changes, and approval is what is left in the file', async () => {
    const { path, plan: p } = await plan();
    const kept = { ...p, changes: p.changes.slice(0, 4) };
    writeFileSync(path, JSON.stringify(kept));
    const r = await runCli(['fix', 'apply', path, '--yes', '--max-changes', '2'], env);
    const recs = records(r.stdout);
    expect(recs).toHaveLength(4);
    expect(recs.filter((x) => x.result === 'applied')).toHaveLength(2);
    expect(recs.filter((x) => x.reason.includes('--max-changes 2 reached'))).toHaveLength(2);
    expect(writes()).toBeLessThanOrEqual(2);
  });

  it('needs --yes without a terminal', async () => {
    const { path } = await plan();
    const r = await runCli(['fix', 'apply', path], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(writes()).toBe(0);
  });

  it('skips a change whose before-values changed since the plan, and one whose finding no longer holds', async () => {
    const { path, plan: p } = await plan();
    const audience = p.changes.find((c) => c.ruleId === 'oidc-audience-matches-target' && c.change.kind === 'job-token')!;
    const invoke = p.changes.find((c) => c.change.kind === 'iam-member')!;
    writeFileSync(path, JSON.stringify({ ...p, changes: [audience, invoke] }));
    // Someone else fixes the same audience differently, and grants the invoker role through a group... by hand: the member itself.
    const job = fake.store.find(audience.job, ['cloudscheduler.googleapis.com/Job'])[0]!;
    ((job.resource!.data as { httpTarget: { oidcToken: { audience: string } } }).httpTarget.oidcToken).audience = 'https://someone-else.example';
    fake.store.touch(job, new Date());
    const c = invoke.change as Extract<typeof invoke.change, { kind: 'iam-member' }>;
    const svc = fake.store.find(c.resource, ['run.googleapis.com/Service', 'cloudfunctions.googleapis.com/CloudFunction'])[0]!;
    svc.iamPolicy = { ...(svc.iamPolicy ?? {}), bindings: [...(svc.iamPolicy?.bindings ?? []), { role: 'roles/run.admin', members: [c.member] }], etag: 'BwXyZ1234=' };
    fake.store.touch(svc, new Date());
    const r = await runCli(['fix', 'apply', path, '--yes'], env);
    const recs = records(r.stdout);
    expect(recs.find((x) => x.entryId === audience.entryId)).toMatchObject({ result: 'skipped' });
    expect(recs.find((x) => x.entryId === audience.entryId)!.reason).toContain('changed since the plan');
    expect(recs.find((x) => x.entryId === invoke.entryId)!.reason).toContain('no longer holds');
    expect(writes()).toBe(0);
  });

  it('undoes applied changes, and refuses where the resource changed since', async () => {
    const { path, plan: p } = await plan();
    const audience = p.changes.filter((c) => c.ruleId === 'oidc-audience-matches-target').slice(0, 2);
    const invoke = p.changes.find((c) => c.change.kind === 'iam-member')!;
    writeFileSync(path, JSON.stringify({ ...p, changes: [...audience, invoke] }));
    const applied = await runCli(['fix', 'apply', path, '--yes'], env);
    const recordsPath = join(dir, 'records.jsonl');
    writeFileSync(recordsPath, applied.stdout);
    const changedJob = fake.store.find(audience[1]!.job, ['cloudscheduler.googleapis.com/Job'])[0]!;
    ((changedJob.resource!.data as { httpTarget: { oidcToken: { audience: string } } }).httpTarget.oidcToken).audience = 'https://edited-after.example';
    fake.store.touch(changedJob, new Date());
    const undone = await runCli(['fix', 'undo', recordsPath, '--yes'], env);
    const recs = records(undone.stdout);
    expect(recs.map((x) => [x.entryId, x.action, x.result])).toEqual(
      expect.arrayContaining([
        [audience[0]!.entryId, 'undo', 'applied'],
        [audience[1]!.entryId, 'undo', 'skipped'],
        [invoke.entryId, 'undo', 'applied'],
      ]),
    );
    const restored = fake.store.find(audience[0]!.job, ['cloudscheduler.googleapis.com/Job'])[0]!;
    const before = (audience[0]!.change as { before: { audience?: string } }).before.audience;
    expect(((restored.resource!.data as { httpTarget: { oidcToken: { audience?: string } } }).httpTarget.oidcToken).audience).toBe(before);
  });
});

describe('fix apply on a terminal', () => {
  async function onTerminal(args: string[], answer: string): Promise<{ code: number; stdout: string }> {
    const { PassThrough } = await import('node:stream');
    const { main } = await import('../../src/cli/main.js');
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    stderr.resume();
    stdout.once('data', () => stdin.write(`${answer}\n`));
    const code = await main(args, { stdin, stdout, stderr, env });
    return { code, stdout: Buffer.concat(out).toString('utf8') };
  }

  it('asks once: "n" changes nothing, "y" applies', async () => {
    const { path } = await plan();
    const no = await onTerminal(['fix', 'apply', path], 'n');
    expect(no.code).toBe(0);
    expect(no.stdout).toMatch(/Apply \d+ change\(s\) of plan .*, at most 10\? \[y\/N\]/);
    expect(writes()).toBe(0);
    const yes = await onTerminal(['fix', 'apply', path], 'y');
    expect(yes.code).toBe(0);
    expect(writes()).toBeGreaterThan(0);
  });

  it('stops starting changes when the run is asked to stop', async () => {
    const { path } = await plan();
    const { main } = await import('../../src/cli/main.js');
    const { PassThrough } = await import('node:stream');
    const stop = new AbortController();
    stop.abort('SIGTERM');
    const stdout = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    const stderr = new PassThrough();
    stderr.resume();
    const code = await main(['fix', 'apply', path, '--yes'], { stdout, stderr, env, signal: stop.signal });
    expect(code).toBe(3);
    expect(writes()).toBe(0);
    expect(records(Buffer.concat(out).toString('utf8')).every((r) => r.reason === 'not started: stopped by SIGTERM')).toBe(true);
  });
});
