import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindingSchema } from '../../src/findings/schema.js';
import { sampleInputs } from '../support/cli-harness.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { adminClient, Collector, freshTopic, readSpool, sleep } from '../sinks/pubsub-helpers.js';
import { jobRecord, scratch } from './hostile-inventory.js';

/**
 * Issue: SIGTERM during a Pub/Sub outage, outside Cloud Run, lost findings with no trace (9,402 of
 * 29,848 in one run): the stop's grace period ended before the publish retry budget. Now every
 * finding not acknowledged is spooled before exit, in every exit mode, and the summary and exit
 * code say so. Tested with the real emulator frozen (SIGSTOP to its process group) and a real
 * SIGTERM to the built CLI.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const JOBS = 30_000;
const SECRET = 'Tok3nInTheUriNeverPublished';

let emulator: PubSubEmulator;
let admin: PubSub;
const work = scratch('stop-outage');
let input: string;

beforeAll(async () => {
  expect(existsSync(CLI), 'dist is built (npm run build)').toBe(true);
  emulator = await startPubSubEmulator();
  admin = adminClient(emulator.host);
  const lines: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const uri = i % 100 === 0 ? `https://svc-${i % 50}-abc.a.run.app/run?token=${SECRET}` : `https://svc-${i % 50}-abc.a.run.app/run`;
    lines.push(jobRecord(`job-${i}`, { uri }));
  }
  input = work.file('jobs.ndjson', `${lines.join('\n')}\n`);
});

afterAll(async () => {
  await admin?.close();
  await emulator?.close();
  work.remove();
});

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  msAfterSignal: number;
}

/**
 * Starts the scan; once findings flow, holds stdout (the scan waits on it), freezes the emulator,
 * lets publishes pile up unacknowledged, sends SIGTERM, and reads everything to the end.
 */
function scanThroughOutage(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'scan', '--input', input, '--format', 'jsonl', ...args], {
      env: { PATH: process.env.PATH ?? '', PUBSUB_EMULATOR_HOST: emulator.host, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sentAt = 0;
    let started = false;
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (started) return;
      started = true;
      child.stdout.pause();
      emulator.pause();
      setTimeout(() => {
        sentAt = performance.now();
        child.kill('SIGTERM');
        child.stdout.resume();
      }, 1500);
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), msAfterSignal: performance.now() - sentAt }),
    );
  });
}

/** Every finding the scan printed is in exactly the spool or the topic (or both: at least once). */
async function expectNothingLost(run: Run, subscriptionName: string, spoolDir: string): Promise<{ spooled: number; received: number }> {
  const printed = run.stdout.trim().split('\n').map((l) => FindingSchema.parse(JSON.parse(l)));
  expect(printed.length).toBeGreaterThan(0);
  expect(printed.length).toBeLessThan(JOBS);
  const files = readdirSync(spoolDir).filter((f) => f.endsWith('.spool.jsonl'));
  expect(files).toHaveLength(1);
  const spoolFile = join(spoolDir, files[0]!);
  expect(statSync(spoolDir).mode & 0o777).toBe(0o700);
  expect(statSync(spoolFile).mode & 0o777).toBe(0o600);
  const spooled = readSpool(spoolFile);
  expect(spooled.length).toBeGreaterThan(0);
  expect(readFileSync(spoolFile, 'utf8')).not.toContain(SECRET);

  const collector = new Collector(admin.subscription(subscriptionName));
  // Whatever the emulator took before it froze arrives now; give it time to drain.
  let last = -1;
  while (collector.messages.length !== last) {
    last = collector.messages.length;
    await sleep(1500);
  }
  await collector.close();
  for (const m of collector.messages) expect(m.data).not.toContain(SECRET);
  const received = collector.keys();
  const inSpool = new Set(spooled.map((r) => r.attributes.findingId ?? r.attributes.eventType));
  const lost = printed.filter((f) => !received.has(f.findingId) && !inSpool.has(f.findingId));
  expect(lost.map((f) => f.findingId), 'findings neither delivered nor spooled').toEqual([]);
  // The run's own end event is kept too.
  expect(received.has('scan.completed') || inSpool.has('scan.completed')).toBe(true);
  return { spooled: spooled.length, received: received.size };
}

describe('SIGTERM while Pub/Sub is down', () => {
  it('outside Cloud Run: spools every unacknowledged finding, says so, and exits 3 within the grace period', async () => {
    const { topic, subscription } = await freshTopic(admin, 'stop-cli');
    const spoolDir = join(work.dir, 'spool-cli');
    let run: Run;
    try {
      run = await scanThroughOutage(['--topic', topic, '--spool-dir', spoolDir], {});
    } finally {
      emulator.resume();
    }
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(3);
    expect(run.msAfterSignal).toBeLessThan(8_000);
    expect(run.stderr).toContain('INTERRUPTED by SIGTERM');
    expect(run.stderr).toMatch(new RegExp(`UNDELIVERED via pubsub: \\d+ \\(kept in ${spoolDir}/cronwarden-[^)]+\\.spool\\.jsonl\\)`));
    expect(run.stderr).not.toContain(SECRET);
    const { spooled } = await expectNothingLost(run, subscription.name, spoolDir);
    expect(run.stderr).toContain(`UNDELIVERED via pubsub: ${spooled}`);
  });

  it('in a Cloud Run task: the same, with exit 143 so that Cloud Run retries it', async () => {
    const { topic, subscription } = await freshTopic(admin, 'stop-run');
    const spoolDir = join(work.dir, 'spool-run');
    let run: Run;
    try {
      run = await scanThroughOutage(['--topic', topic], {
        CLOUD_RUN_JOB: 'cronwarden-scan',
        CLOUD_RUN_EXECUTION: 'cronwarden-scan-x1',
        CLOUD_RUN_TASK_INDEX: '0',
        CLOUD_RUN_TASK_COUNT: '1',
        CRONWARDEN_SPOOL_DIR: spoolDir,
      });
    } finally {
      emulator.resume();
    }
    expect(run.code, run.stderr).toBe(143);
    const entries = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = entries.find((e) => e.event === 'scan.completed') as { sinks: { sink: string; failed: number; spoolPath?: string }[] };
    expect(summary).toMatchObject({ interrupted: true, exitCode: 143 });
    const pubsub = summary.sinks.find((s) => s.sink === 'pubsub')!;
    expect(pubsub.failed).toBeGreaterThan(0);
    expect(pubsub.spoolPath!.startsWith(spoolDir)).toBe(true);
    await expectNothingLost(
      { ...run, stdout: run.stdout.trim().split('\n').map((l) => JSON.stringify((JSON.parse(l) as { finding: unknown }).finding)).join('\n') },
      subscription.name,
      spoolDir,
    );
  });
});

describe('an output that fails mid-run does not touch Pub/Sub delivery', () => {
  it.skipIf(!existsSync('/dev/full'))('--output /dev/full with --topic: every finding still published, the run partial (exit 3)', async () => {
    const { topic, subscription } = await freshTopic(admin, 'dev-full');
    const collector = new Collector(subscription);
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'scan', ...sampleInputs(), '--output', '/dev/full', '--topic', topic, '--spool-dir', join(work.dir, 'spool-full')], {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? '', PUBSUB_EMULATOR_HOST: emulator.host },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('cannot write --output /dev/full (ENOSPC');
    const published = Number(/published (\d+) findings and the scan.completed event/.exec(run.stderr)?.[1]);
    expect(published).toBeGreaterThan(10);
    await collector.waitForKeys(published + 1);
    await collector.close();
  });
});
