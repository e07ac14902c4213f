import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindingSchema } from '../../src/findings/schema.js';
import { installStopHandlers } from '../../src/runtime/signals.js';

/**
 * SIGTERM (Cloud Run ending a task) and SIGINT (Ctrl-C) on the real process: it stops taking
 * jobs, flushes what it has, prints the summary and exits with the documented code. Runs the
 * built CLI (`npm test` builds first).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const JOBS = 30_000;
let work: string;
let input: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cronwarden-sigterm-'));
  input = join(work, 'jobs.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const name = `projects/acme-prod/locations/us-central1/jobs/job-${i}`;
    const data = { name, state: 'ENABLED', httpTarget: { uri: `https://svc-${i % 50}-abc.a.run.app/run`, httpMethod: 'POST' } };
    lines.push(JSON.stringify({ name: `//cloudscheduler.googleapis.com/${name}`, asset_type: 'cloudscheduler.googleapis.com/Job', resource: { version: 'v1', data } }));
  }
  writeFileSync(input, `${lines.join('\n')}\n`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  msAfterSignal: number;
}

/**
 * Starts a scan and, once the first finding is out, holds stdout unread (so the scan must wait
 * on the pipe, as it does on a slow log collector), sends `signal`, then reads everything.
 */
function scanAndSignal(env: NodeJS.ProcessEnv, signal: NodeJS.Signals, args: string[] = ['--input', input]): Promise<Outcome> {
  expect(existsSync(CLI), 'dist is built (npm run build)').toBe(true);
  return new Promise((resolve, reject) => {
    const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [CLI, 'scan', ...args, '--format', 'jsonl'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sentAt = 0;
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (sentAt) return;
      child.stdout.pause();
      sentAt = performance.now();
      child.kill(signal);
      setTimeout(() => child.stdout.resume(), 200);
    });
    child.on('error', reject);
    child.on('close', (code, sig) =>
      resolve({ code, signal: sig, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), msAfterSignal: performance.now() - sentAt }),
    );
  });
}

describe('a stop signal during a scan', () => {
  it('SIGTERM: stops taking jobs, flushes whole findings, reports an interrupted partial run and exits 3', async () => {
    const r = await scanAndSignal({}, 'SIGTERM');
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(3);
    expect(r.msAfterSignal).toBeLessThan(5_000);
    const lines = r.stdout.split('\n');
    expect(lines.pop(), 'output ends with a complete line').toBe('');
    for (const line of lines) FindingSchema.parse(JSON.parse(line));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(JOBS);
    // Every job scanned has its findings out (each of these jobs has some), and no other job.
    const scanned = Number(/: (\d+) jobs scanned/.exec(r.stderr)?.[1]);
    expect(scanned).toBe(new Set(lines.map((l) => (JSON.parse(l) as { job: { name: string } }).job.name)).size);
    expect(r.stderr).toContain('INTERRUPTED by SIGTERM');
    expect(r.stderr).toContain('PARTIAL');
  });

  it('SIGTERM in a Cloud Run task: exit 143, so Cloud Run retries it; the summary entry says interrupted', async () => {
    const r = await scanAndSignal({ CLOUD_RUN_JOB: 'cronwarden-scan', CLOUD_RUN_EXECUTION: 'cronwarden-scan-abc12', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' }, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    const entries = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = entries.find((e) => e.event === 'scan.completed')!;
    expect(summary).toMatchObject({ severity: 'WARNING', interrupted: true, stopReason: 'SIGTERM', exitCode: 143, retried: true, summary: { partial: true } });
    const findings = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { finding: unknown }).finding);
    for (const f of findings) FindingSchema.parse(f);
    expect(new Set(findings.map((f) => (f as { job: { name: string } }).job.name)).size).toBe((summary.summary as { jobsScanned: number }).jobsScanned);
  });
});

describe('installStopHandlers', () => {
  function fakeProcess(): { target: Pick<NodeJS.Process, 'on' | 'off'>; emit: (s: string) => void; count: () => number } {
    const handlers = new Map<string, Set<() => void>>();
    const target = {
      on: (s: string, h: () => void) => (handlers.get(s) ?? handlers.set(s, new Set()).get(s)!).add(h),
      off: (s: string, h: () => void) => handlers.get(s)?.delete(h),
    } as unknown as Pick<NodeJS.Process, 'on' | 'off'>;
    return { target, emit: (s) => handlers.get(s)?.forEach((h) => h()), count: () => [...handlers.values()].reduce((n, h) => n + h.size, 0) };
  }

  it('aborts on the first signal and exits with 128 + its number on the second', () => {
    const fake = fakeProcess();
    const controller = new AbortController();
    const exits: number[] = [];
    const stops: string[] = [];
    const uninstall = installStopHandlers(controller, { target: fake.target, exit: (c) => void exits.push(c), onStop: (s) => void stops.push(s), graceMs: 60_000 });
    fake.emit('SIGTERM');
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe('SIGTERM');
    expect(stops).toEqual(['SIGTERM']);
    expect(exits).toEqual([]);
    fake.emit('SIGINT');
    expect(exits).toEqual([130]);
    uninstall();
    expect(fake.count()).toBe(0);
  });

  it('exits when the grace period ends before the run does (an inventory read cannot be cut short)', async () => {
    const fake = fakeProcess();
    const exits: { code: number; why: string }[] = [];
    let why = '';
    const uninstall = installStopHandlers(new AbortController(), {
      target: fake.target,
      graceMs: 20,
      onForcedExit: (_s, w) => void (why = w),
      exit: (code) => void exits.push({ code, why }),
    });
    fake.emit('SIGTERM');
    await new Promise((r) => setTimeout(r, 80));
    expect(exits).toEqual([{ code: 143, why: 'grace-elapsed' }]);
    uninstall();
  });

  it('does not exit once uninstalled (the run finished within the grace period)', async () => {
    const fake = fakeProcess();
    const exits: number[] = [];
    const uninstall = installStopHandlers(new AbortController(), { target: fake.target, graceMs: 20, exit: (c) => void exits.push(c) });
    fake.emit('SIGTERM');
    uninstall();
    await new Promise((r) => setTimeout(r, 60));
    expect(exits).toEqual([]);
  });
});
