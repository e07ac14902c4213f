import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { ConfigurationError } from '../../src/errors.js';
import type { Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { readCloudRunTask, shardOf, shardOptions } from '../../src/runtime/cloud-run.js';
import { runScan } from '../../src/scan/run-scan.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { runCli, SAMPLE_FILES } from '../support/cli-harness.js';

/** The sample organization, plus 400 synthetic jobs so every shard of 7 has work. */
const WORK = mkdtempSync(join(tmpdir(), 'cronwarden-shards-'));
const SYNTHETIC = join(WORK, 'synthetic-jobs.ndjson');

function syntheticJobs(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `projects/acme-prod/locations/us-central1/jobs/synthetic-${i}`;
    const httpTarget: Record<string, unknown> = { uri: `https://billing-abc123xyz-uc.a.run.app/task/${i}`, httpMethod: 'POST' };
    if (i % 3 === 0) httpTarget.oidcToken = { serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com' };
    if (i % 3 === 1) httpTarget.oauthToken = { serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com' };
    lines.push(JSON.stringify({ name: `//cloudscheduler.googleapis.com/${name}`, asset_type: 'cloudscheduler.googleapis.com/Job', resource: { version: 'v1', data: { name, state: 'ENABLED', httpTarget } } }));
  }
  return `${lines.join('\n')}\n`;
}

async function scanShard(inputs: string[], index: number, count: number): Promise<{ jobs: Set<string>; findings: Finding[]; jobsScanned: number; shard?: { index: number; count: number } }> {
  const findings: Finding[] = [];
  const jobs = new Set<string>();
  const sink: FindingSink = {
    name: 'memory',
    write: (f) => {
      findings.push(f);
      jobs.add(f.job.name);
    },
    close: async () => ({ sink: 'memory', delivered: findings.length, failed: 0 }),
  };
  const options = shardOptions({ taskIndex: index, taskCount: count, attempt: 0 });
  const result = await runScan({ source: new FileAssetSource(inputs), rules: allRules, sinks: [sink], logger: memoryLogger(), includePasses: true, scanId: 'fixed', ...options });
  return { jobs, findings, jobsScanned: result.summary.jobsScanned, ...(result.summary.shard ? { shard: result.summary.shard } : {}) };
}

const key = (f: Finding): string => `${f.findingId} ${f.status}`;

describe('sharding jobs across Cloud Run tasks', () => {
  writeFileSync(SYNTHETIC, syntheticJobs(400));
  afterAll(() => rmSync(WORK, { recursive: true, force: true }));
  const inputs = [...SAMPLE_FILES, SYNTHETIC];

  it.each([1, 2, 3, 4, 5, 6, 7])('%i tasks judge every job exactly once (runScan)', async (count) => {
    const full = await scanShard(inputs, 0, 1);
    const shards = await Promise.all(Array.from({ length: count }, (_, i) => scanShard(inputs, i, count)));
    const seen = new Map<string, number>();
    for (const [i, s] of shards.entries()) {
      for (const job of s.jobs) {
        expect(seen.has(job), `${job} judged by tasks ${seen.get(job)} and ${i}`).toBe(false);
        seen.set(job, i);
      }
      if (count > 1) expect(s.shard).toEqual({ index: i, count });
      if (count > 1) expect(s.jobsScanned, `task ${i} of ${count} has no work`).toBeGreaterThan(0);
    }
    expect(shards.reduce((n, s) => n + s.jobsScanned, 0)).toBe(full.jobsScanned);
    expect(new Set(seen.keys())).toEqual(full.jobs);
    const union = shards.flatMap((s) => s.findings.map(key)).sort();
    expect(union).toEqual(full.findings.map(key).sort());
  });

  it.each([1, 2, 3, 4, 5, 6, 7])('%i tasks judge every job exactly once (the CLI, from CLOUD_RUN_TASK_*)', async (count) => {
    const argv = ['scan', ...inputs.flatMap((f) => ['--input', f]), '--format', 'jsonl'];
    const full = await runCli(argv, {});
    const runs = await Promise.all(
      Array.from({ length: count }, (_, i) => runCli(argv, { CLOUD_RUN_TASK_INDEX: String(i), CLOUD_RUN_TASK_COUNT: String(count), CLOUD_RUN_TASK_ATTEMPT: '0' })),
    );
    const ids = runs.flatMap((r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Finding).findingId));
    expect(new Set(ids).size, 'no finding printed by two tasks').toBe(ids.length);
    const fullIds = full.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Finding).findingId);
    expect(ids.sort()).toEqual(fullIds.sort());
    for (const [i, r] of runs.entries()) {
      expect(r.code).toBe(full.code);
      if (count > 1) expect(r.stderr, 'each task reports its own summary').toContain(`(task ${i + 1} of ${count})`);
    }
  });
});

describe('shardOf', () => {
  it('depends on the job name alone, and stays the same across releases', () => {
    // Golden values: changing the hash would move jobs between shards of one execution if tasks
    // ever ran different builds; change them only together with the function, on purpose.
    // (first 4 bytes of SHA-256, big-endian, modulo the count)
    expect(shardOf('projects/acme-prod/locations/us-central1/jobs/billing-ok', 7)).toBe(0);
    expect([1, 2, 3, 5, 8].map((n) => shardOf('projects/p/locations/l/jobs/j', n))).toEqual([0, 0, 1, 1, 2]);
  });

  it('spreads 20,000 names evenly, within sampling noise, for 2 to 16 tasks', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `projects/p-${i % 37}/locations/europe-west1/jobs/job-${i}`);
    for (let count = 2; count <= 16; count++) {
      const sizes = new Array<number>(count).fill(0);
      for (const n of names) sizes[shardOf(n, count)]!++;
      const mean = names.length / count;
      // Binomial spread: 5 standard deviations is far outside sampling noise.
      const limit = 5 * Math.sqrt(mean * (1 - 1 / count));
      for (const size of sizes) expect(Math.abs(size - mean), `count ${count}: ${sizes.join(',')}`).toBeLessThan(limit);
    }
  });

  it('refuses a task count below 1', () => {
    expect(() => shardOf('x', 0)).toThrow(RangeError);
  });
});

describe('the Cloud Run task environment', () => {
  it('is absent outside Cloud Run', () => {
    expect(readCloudRunTask({})).toBeUndefined();
  });

  it('reads the job, execution, index, count and attempt', () => {
    expect(
      readCloudRunTask({ CLOUD_RUN_JOB: 'cw', CLOUD_RUN_EXECUTION: 'cw-x', CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '3', CLOUD_RUN_TASK_ATTEMPT: '1' }),
    ).toEqual({ job: 'cw', execution: 'cw-x', taskIndex: 2, taskCount: 3, attempt: 1 });
    expect(readCloudRunTask({ CLOUD_RUN_JOB: 'cw' })).toEqual({ job: 'cw', taskIndex: 0, taskCount: 1, attempt: 0 });
  });

  it.each([
    [{ CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '3' }, /CLOUD_RUN_TASK_INDEX: 3 is not below CLOUD_RUN_TASK_COUNT=3/],
    [{ CLOUD_RUN_TASK_INDEX: '1' }, /CLOUD_RUN_TASK_COUNT: is needed/],
    [{ CLOUD_RUN_TASK_COUNT: '0' }, /CLOUD_RUN_TASK_COUNT: the task count must be at least 1/],
    [{ CLOUD_RUN_TASK_INDEX: 'one', CLOUD_RUN_TASK_COUNT: '2' }, /CLOUD_RUN_TASK_INDEX: the task index must be a whole number/],
  ])('refuses %o rather than guess a shard', (env, message) => {
    expect(() => readCloudRunTask(env)).toThrow(ConfigurationError);
    expect(() => readCloudRunTask(env)).toThrow(message);
  });
});
