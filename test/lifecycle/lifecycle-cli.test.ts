import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/runtime/cloud-run.js';
import { ResolvedRecordSchema } from '../../src/lifecycle/resolved-record.js';
import {
  byLifecycle,
  cronwarden,
  DELETED_JOB,
  FIXED_JOB,
  keysOf,
  parseJsonl,
  writeExceptions,
  writeSample,
} from './changed-sample.js';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-lifecycle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh folder for one test: its inputs and its state file. */
function workspace(): { path: (name: string) => string; state: string } {
  const d = join(dir, `t${++n}`);
  mkdirSync(d);
  return { path: (name) => join(d, name), state: join(d, 'state.json') };
}

/** Scan 1 of the unchanged sample with a file store: every non-passing finding is new. */
async function firstScan(state: string, inputsDir: string, extra: string[] = []) {
  mkdirSync(inputsDir, { recursive: true });
  const run = await cronwarden(['scan', ...writeSample(inputsDir), '--state', state, '--format', 'jsonl', ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return parseJsonl(run.stdout);
}

describe('scan --state FILE: two scans of the sample organization', () => {
  it('one job fixed, one broken, one excepted: exactly the expected new, open, resolved and suppressed events', async () => {
    const ws = workspace();
    const first = await firstScan(ws.state, ws.path('in1'));
    expect(first.findings.length).toBe(36);
    expect(first.findings.every((f) => f.lifecycle === 'new' && f.firstSeenAt === f.observedAt)).toBe(true);
    expect(first.resolved).toEqual([]);

    mkdirSync(ws.path('in2'));
    const exceptions = writeExceptions(ws.path(''));
    const second = await cronwarden([
      'scan',
      ...writeSample(ws.path('in2'), { fix: true, break: true }),
      '--state',
      ws.state,
      '--exceptions',
      exceptions,
      '--format',
      'jsonl',
      '--fail-on',
      'never',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const { findings, resolved } = parseJsonl(second.stdout);
    expect(byLifecycle(findings, 'new')).toEqual(['billing-ok http-target-uses-oidc']);
    expect(byLifecycle(findings, 'reopened')).toEqual([]);
    expect(byLifecycle(findings, 'open')).toHaveLength(35);
    expect(keysOf(resolved)).toEqual(['billing-no-token http-target-uses-oidc']);
    expect(resolved[0]).toMatchObject({ recordType: 'finding.resolved', lifecycle: 'resolved', reason: 'no-longer-raised', severity: 'high' });
    const before = first.findings.find((f) => f.job.name === FIXED_JOB && f.ruleId === 'http-target-uses-oidc')!;
    expect(resolved[0]!.findingId).toBe(before.findingId);
    expect(resolved[0]!.firstSeenAt).toBe(before.firstSeenAt);
    const suppressed = findings.filter((f) => f.suppression);
    expect(keysOf(suppressed)).toEqual(['billing-oauth http-target-uses-oidc']);
    expect(suppressed[0]).toMatchObject({
      status: 'fail',
      lifecycle: 'open',
      suppression: { reason: expect.stringContaining('OIDC'), owner: 'billing-team@example.com', ticket: 'SEC-142', entry: 'billing-oauth-migration' },
    });
    // Open findings keep the time they were first seen.
    for (const f of findings.filter((x) => x.lifecycle === 'open')) expect(f.firstSeenAt).toBe(first.findings.find((x) => x.findingId === f.findingId)!.firstSeenAt);
    expect(second.stderr).toMatch(/since the last scan: 1 NEW, 0 reopened, 35 still open, 1 resolved/);
    expect(second.stderr).toMatch(/1 findings suppressed/);

    // A third scan with nothing changed: everything open, nothing resolved, nothing written.
    const third = await cronwarden(['scan', ...writeSample(ws.path('in2'), { fix: true, break: true }), '--state', ws.state, '--format', 'jsonl']);
    const t = parseJsonl(third.stdout);
    expect(byLifecycle(t.findings, 'new')).toEqual([]);
    expect(t.resolved).toEqual([]);
    // Breaking the fixed job again reopens its finding.
    const fourth = await cronwarden(['scan', ...writeSample(ws.path('in2'), { break: true }), '--state', ws.state, '--format', 'jsonl']);
    expect(byLifecycle(parseJsonl(fourth.stdout).findings, 'reopened')).toEqual(['billing-no-token http-target-uses-oidc']);
  });

  it('JSON output carries the resolutions in a "resolved" array beside "findings"', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const run = await cronwarden(['scan', ...writeSample(ws.path('in2'), { fix: true }), '--state', ws.state, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { findings: unknown[]; resolved: unknown[]; summary: { lifecycle: Record<string, unknown> } };
    expect(doc.findings).toHaveLength(35);
    expect(doc.resolved.map((r) => ResolvedRecordSchema.parse(r).job.name)).toEqual([FIXED_JOB]);
    expect(doc.summary.lifecycle).toMatchObject({ new: 0, open: 35, resolved: 1, reopened: 0 });
  });

  it('the table shows what is new first', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const run = await cronwarden(['scan', ...writeSample(ws.path('in2'), { break: true }), '--state', ws.state, '--format', 'table', '--group-by', 'none']);
    // Finding rows follow the header; a new one is marked `+` and comes first (80 columns in a pipe: names are cut).
    const rows = run.stdout.split('\n').slice(1).filter((l) => /\b(fail|unver)/.test(l));
    expect(rows[0]).toMatch(/^\+ .*acme-prod\/bill/);
    expect(rows.filter((l) => l.startsWith('+'))).toHaveLength(1);
  });
});

describe('only what was judged is resolved', () => {
  it('a deselected rule (--skip-rule, --only-rule) resolves nothing of its findings; a later full scan does', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const inputs = writeSample(ws.path('in2'), { fix: true });
    const skipped = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl', '--skip-rule', 'http-target-uses-oidc']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(parseJsonl(skipped.stdout).resolved).toEqual([]);
    const only = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl', '--only-rule', 'token-sa-exists-and-enabled']);
    expect(parseJsonl(only.stdout).resolved).toEqual([]);
    const full = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl']);
    expect(keysOf(parseJsonl(full.stdout).resolved)).toEqual(['billing-no-token http-target-uses-oidc']);
  });

  it("a job in another task's shard is left to that task, which resolves it once", async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const inputs = writeSample(ws.path('in2'), { fix: true });
    const owner = shardOf(FIXED_JOB, 2);
    const other = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl'], { CLOUD_RUN_TASK_INDEX: String(1 - owner), CLOUD_RUN_TASK_COUNT: '2' });
    expect(other.code, other.stderr).toBe(0);
    expect(parseJsonl(other.stdout).resolved).toEqual([]);
    const mine = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl'], { CLOUD_RUN_TASK_INDEX: String(owner), CLOUD_RUN_TASK_COUNT: '2' });
    expect(keysOf(parseJsonl(mine.stdout).resolved)).toEqual(['billing-no-token http-target-uses-oidc']);
    const again = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl']);
    expect(parseJsonl(again.stdout).resolved).toEqual([]);
    expect(byLifecycle(parseJsonl(again.stdout).findings, 'new')).toEqual([]);
  });

  it('a coverage gap over the job\'s project resolves nothing there (exit 3)', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    // Without acme-prod's IAM policy, its jobs' verdicts are unverifiable and the project is a gap.
    const run = await cronwarden(['scan', ...writeSample(ws.path('in2'), { fix: true, dropPolicy: 'projects/111111111111' }), '--state', ws.state, '--format', 'jsonl']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/COVERAGE GAPS/);
    expect(parseJsonl(run.stdout).resolved.filter((r) => r.job.project === 'acme-prod')).toEqual([]);
  });

  it('an interrupted run resolves nothing', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const { main } = await import('../../src/cli/main.js');
    const { PassThrough } = await import('node:stream');
    const stop = new AbortController();
    stop.abort('SIGTERM');
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const code = await main(['scan', ...writeSample(ws.path('in2'), { fix: true, remove: [DELETED_JOB] }), '--state', ws.state, '--format', 'jsonl', '--log-level', 'error'], {
      stdout,
      stderr: new PassThrough(),
      env: {},
      signal: stop.signal,
    });
    expect(code).toBe(3);
    expect(parseJsonl(out).resolved).toEqual([]);
    const after = await cronwarden(['scan', ...writeSample(ws.path('in2'), { fix: true }), '--state', ws.state, '--format', 'jsonl']);
    expect(keysOf(parseJsonl(after.stdout).resolved)).toEqual(['billing-no-token http-target-uses-oidc']);
  });

  it('a deleted job is resolved (job-deleted) when its project was listed completely, and not after an unreadable record', async () => {
    const ws = workspace();
    await firstScan(ws.state, ws.path('in1'));
    mkdirSync(ws.path('in2'));
    const partial = await cronwarden(['scan', ...writeSample(ws.path('in2'), { remove: [DELETED_JOB], unreadableLine: true }), '--state', ws.state, '--format', 'jsonl']);
    expect(partial.code).toBe(3);
    expect(parseJsonl(partial.stdout).resolved).toEqual([]);
    const complete = await cronwarden(['scan', ...writeSample(ws.path('in2'), { remove: [DELETED_JOB] }), '--state', ws.state, '--format', 'jsonl']);
    expect(complete.code, complete.stderr).toBe(0);
    const { resolved } = parseJsonl(complete.stdout);
    expect(resolved.filter((r) => r.reason === 'job-deleted').map((r) => [r.job.name, r.ruleId])).toEqual([[DELETED_JOB, 'http-target-uses-oidc']]);
    // The damaged scan turned a missing-account fail into an unverifiable finding (another id); the
    // complete scan no longer raises that one, so it is resolved as no longer raised, not deleted.
    expect(resolved.filter((r) => r.reason !== 'job-deleted').every((r) => r.reason === 'no-longer-raised' && r.job.name !== DELETED_JOB)).toBe(true);
  });
});

describe('a state store that fails never loses findings', () => {
  it('an unreadable state: every finding emitted with lifecycle unknown, the problem named, exit 3; the state is left as it was', async () => {
    const ws = workspace();
    writeFileSync(ws.state, '{"not": "a state file"');
    mkdirSync(ws.path('in'));
    const run = await cronwarden(['scan', ...writeSample(ws.path('in')), '--state', ws.state, '--format', 'jsonl']);
    expect(run.code).toBe(3);
    const { findings } = parseJsonl(run.stdout);
    expect(findings).toHaveLength(36);
    expect(findings.every((f) => f.lifecycle === 'unknown')).toBe(true);
    expect(run.stderr).toMatch(/STATE PROBLEM: .*state\.json is not JSON/);
    expect(readFileSync(ws.state, 'utf8')).toBe('{"not": "a state file"');
  });

  it('a state that cannot be written: findings emitted, exit 3, and the next scan still says new', async () => {
    const ws = workspace();
    mkdirSync(ws.path('in'));
    const inputs = writeSample(ws.path('in'));
    // The store writes STATE.<pid>.tmp and renames it: a directory there makes the write fail.
    const { main } = await import('../../src/cli/main.js');
    const { PassThrough } = await import('node:stream');
    mkdirSync(`${ws.state}.${process.pid}.tmp`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const code = await main(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl'], { stdout, stderr, env: {} });
    expect(code).toBe(3);
    expect(parseJsonl(out).findings.filter((f) => f.lifecycle === 'new')).toHaveLength(36);
    expect(err).toMatch(/STATE PROBLEM: cannot write state file/);
    rmSync(`${ws.state}.${process.pid}.tmp`, { recursive: true });
    const next = await cronwarden(['scan', ...inputs, '--state', ws.state, '--format', 'jsonl']);
    expect(parseJsonl(next.stdout).findings.filter((f) => f.lifecycle === 'new')).toHaveLength(36);
  });

  it('a bad --state location is a configuration error before anything is read (exit 2)', async () => {
    const run = await cronwarden(['scan', '--input', 'nowhere.ndjson', '--state', 'firestore://Bad_Project']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--state .*"Bad_Project" is not a project ID/);
  });
});
