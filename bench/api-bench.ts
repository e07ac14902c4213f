/**
 * Cloud Asset API scan against the runbook baseline, in one run: a synthetic organization
 * (1,000 projects × 3 locations, 10k jobs, 5k targets) served by the fake Google API server, in a
 * worker thread, with 100 ms added to every call. cronwarden runs as the CLI in a new process
 * (`scan --org ID --format jsonl`); the baseline runs here with the same clients and concurrency.
 * API calls are counted by the server, wall time by the clock.
 *
 *   npm run build && node dist/bench/api-bench.js [--projects N] [--jobs N] [--targets N] [--latency-ms N] [--concurrency N]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { googleClientOptions } from '../src/google/client-options.js';
import { readSeedDir } from '../test/support/fake-gcp/index.js';
import { startFakeGcpWorker } from '../test/support/fake-gcp/worker.js';
import { runBaseline } from './api-baseline.js';
import { generateSyntheticOrg } from './synthetic-org.js';

export interface ApiBenchOptions {
  projects?: number;
  locationsPerProject?: number;
  jobs?: number;
  targets?: number;
  latencyMs?: number;
  /** Calls in flight, the same for both (default 8, cronwarden's default). */
  concurrency?: number;
  /** cronwarden scans to take the median of (default 3); the baseline, at 100 s, runs once. */
  cronwardenRuns?: number;
  log?: (line: string) => void;
}

export interface ApiBenchSide {
  calls: number;
  seconds: number;
  jobs: number;
}

export interface ApiBenchResult {
  cronwarden: ApiBenchSide & { findings: number };
  baseline: ApiBenchSide & { policiesRead: number; unresolved: number };
  fewerCalls: number;
  faster: number;
  goals: { fewerCalls: boolean; wall: boolean; faster: boolean };
}

const GOALS = { fewerCalls: 200, wallSeconds: 15, faster: 20 };

/**
 * cronwarden as it runs in production: a fresh process of the CLI, `scan --org ID --format jsonl`,
 * its clients pointed at the fake. Wall time includes the process start; findings are counted
 * from stdout, jobs from the summary on stderr.
 */
async function runCli(org: string, address: string, concurrency: number): Promise<{ seconds: number; jobs: number; findings: number; exitCode: number; stderr: string }> {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'scan', '--org', org.replace(/^organizations\//, ''), '--format', 'jsonl'], {
    env: { ...process.env, CRONWARDEN_GOOGLE_API_ENDPOINT: address, CRONWARDEN_CONCURRENCY: String(concurrency), CRONWARDEN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let findings = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) findings++;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const seconds = (performance.now() - started) / 1000;
  const jobs = Number(/(\d+) jobs scanned/.exec(stderr)?.[1] ?? NaN);
  return { seconds, jobs, findings, exitCode, stderr };
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function benchApi(options: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const projects = options.projects ?? 1000;
  const locationsPerProject = options.locationsPerProject ?? 3;
  const jobs = options.jobs ?? 10_000;
  const targets = options.targets ?? 5000;
  const latencyMs = options.latencyMs ?? 100;
  const concurrency = options.concurrency ?? 8;
  const cronwardenRuns = Math.max(1, options.cronwardenRuns ?? 3);

  const dir = await mkdtemp(join(tmpdir(), 'cronwarden-api-bench-'));
  try {
    log(`generating ${projects} projects × ${locationsPerProject} locations, ${jobs} jobs, ${targets} targets…`);
    await generateSyntheticOrg({ dir, projects, locationsPerProject, jobs, targets, shape: 'export' });
    // Only what the two sides are given is kept: a heap holding the whole seed would slow the scan's garbage collection.
    const { org, projectLocations } = await (async () => {
      const { records } = await readSeedDir(dir);
      const orgAsset = records.find((a) => a.assetType === 'cloudresourcemanager.googleapis.com/Organization')!;
      return { org: orgAsset.name.replace(/^\/\/[^/]+\//, ''), projectLocations: locationsOf(records, locationsPerProject) };
    })();
    // In its own thread, so that the fake's work is not charged to the scan it serves.
    const fake = await startFakeGcpWorker({ seedDir: dir, latencyMs, logRequests: false });
    try {
      const clientOptions = googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address });

      log(`cronwarden: \`scan --org\` in a new process, ListAssets on ${org}, ${latencyMs} ms per call, concurrency ${concurrency}…`);
      const total = async (): Promise<number> => Object.values(await fake.counters()).reduce((a, b) => a + b, 0);
      // A few seconds on two shared cores moves with the neighbours' load: the median of a few runs.
      const runs: (Awaited<ReturnType<typeof runCli>> & { calls: number })[] = [];
      for (let i = 0; i < cronwardenRuns; i++) {
        await fake.resetCounters();
        const cli = await runCli(org, fake.address, concurrency);
        // 0: nothing failed, 1: findings at or above --fail-on; anything else means the scan did not complete.
        if (cli.exitCode !== 0 && cli.exitCode !== 1) throw new Error(`cronwarden exited with ${cli.exitCode}:\n${cli.stderr}`);
        runs.push({ ...cli, calls: await total() });
      }
      const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
      const cronwarden = { calls: median.calls, seconds: median.seconds, jobs: median.jobs, findings: median.findings };

      log(`baseline: ListJobs on ${projectLocations.reduce((n, p) => n + p.locations.length, 0)} project-locations, then getIamPolicy per target…`);
      await fake.resetCounters();
      const started = performance.now();
      const base = await runBaseline({ projects: projectLocations, clientOptions, concurrency });
      const baseline = { calls: await total(), seconds: (performance.now() - started) / 1000, jobs: base.jobs, policiesRead: base.policiesRead, unresolved: base.unresolved };
      const byMethod = await fake.counters();

      const fewerCalls = baseline.calls / cronwarden.calls;
      const faster = baseline.seconds / cronwarden.seconds;
      const result: ApiBenchResult = {
        cronwarden,
        baseline,
        fewerCalls,
        faster,
        goals: { fewerCalls: fewerCalls >= GOALS.fewerCalls, wall: cronwarden.seconds <= GOALS.wallSeconds, faster: faster >= GOALS.faster },
      };
      const ok = (b: boolean): string => (b ? 'met' : '**missed**');
      log('');
      log(`| ${projects.toLocaleString('en-US')} projects × ${locationsPerProject} locations, ${jobs.toLocaleString('en-US')} jobs, ${targets.toLocaleString('en-US')} targets; ${latencyMs} ms per call; concurrency ${concurrency} | API calls | wall (s) | jobs seen |`);
      log('|---|---:|---:|---:|');
      log(`| cronwarden \`scan --org\` (new process, median of ${runs.length}): ListAssets, pages of 1000, then all rules | ${cronwarden.calls.toLocaleString('en-US')} | ${fmt(cronwarden.seconds)} | ${cronwarden.jobs.toLocaleString('en-US')} |`);
      log(`| runbook baseline: ListJobs per project × location, getIamPolicy per target | ${baseline.calls.toLocaleString('en-US')} | ${fmt(baseline.seconds)} | ${baseline.jobs.toLocaleString('en-US')} |`);
      log(`| **ratio** | **${fmt(fewerCalls, 0)}× fewer calls** (goal ≥ ${GOALS.fewerCalls}×: ${ok(result.goals.fewerCalls)}) | **${fmt(faster, 0)}× faster** (goal ≥ ${GOALS.faster}×: ${ok(result.goals.faster)}; cronwarden ≤ ${GOALS.wallSeconds} s: ${ok(result.goals.wall)}) | |`);
      log('');
      log(`baseline calls by method: ${Object.entries(byMethod).map(([m, n]) => `${m} ${n.toLocaleString('en-US')}`).join(', ')}; ${baseline.policiesRead.toLocaleString('en-US')} policies read, ${baseline.unresolved} targets not found`);
      log(`cronwarden: ${cronwarden.findings.toLocaleString('en-US')} findings (passes not emitted); wall of each run: ${runs.map((r) => fmt(r.seconds)).join(', ')} s (median shown); calls of each run: ${runs.map((r) => r.calls).join(', ')}`);
      log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`);
      return result;
    } finally {
      await fake.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Scheduler locations a project uses, as a runbook would list them: where its jobs and services are. */
function locationsOf(assets: readonly { assetType: string; resource?: { location?: string; data?: Record<string, unknown> } }[], perProject: number): { id: string; locations: string[] }[] {
  const byProject = new Map<string, Set<string>>();
  for (const a of assets) {
    if (a.assetType === 'cloudresourcemanager.googleapis.com/Project') {
      const id = String(a.resource?.data?.projectId ?? '');
      if (id && !byProject.has(id)) byProject.set(id, new Set());
    }
  }
  for (const a of assets) {
    const name = String(a.resource?.data?.name ?? '');
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(name);
    if (m && byProject.has(m[1]!)) byProject.get(m[1]!)!.add(m[2]!);
  }
  return [...byProject].map(([id, set]) => ({ id, locations: [...set].sort().slice(0, perProject) }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      projects: { type: 'string' },
      jobs: { type: 'string' },
      targets: { type: 'string' },
      'latency-ms': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const opts: ApiBenchOptions = {};
  if (values.projects) opts.projects = num(values.projects)!;
  if (values.jobs) opts.jobs = num(values.jobs)!;
  if (values.targets) opts.targets = num(values.targets)!;
  if (values['latency-ms']) opts.latencyMs = num(values['latency-ms'])!;
  if (values.concurrency) opts.concurrency = num(values.concurrency)!;
  benchApi(opts).catch((err: unknown) => {
    process.stderr.write(`api-bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}
