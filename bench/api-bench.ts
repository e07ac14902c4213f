/**
 * Cloud Asset API scan against the runbook baseline, in one run: a synthetic organization
 * (1,000 projects × 3 locations, 10k jobs, 5k targets) served by the fake Google API server with
 * 100 ms added to every call; API calls counted by the server, wall time by the clock.
 *
 *   npm run build && node dist/bench/api-bench.js [--projects N] [--jobs N] [--targets N] [--latency-ms N] [--concurrency N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { allRules } from '../rules/index.js';
import { googleClientOptions } from '../src/google/client-options.js';
import { CaiApiSource } from '../src/inventory/cai-api-source.js';
import { textLogger } from '../src/log/logger.js';
import { runScan } from '../src/scan/run-scan.js';
import type { FindingSink } from '../src/sinks/sink.js';
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

class CountingSink implements FindingSink {
  readonly name = 'count';
  count = 0;
  write(): void {
    this.count++;
  }
  async close() {
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
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

      log(`cronwarden: ListAssets on ${org}, ${latencyMs} ms per call, concurrency ${concurrency}…`);
      await fake.resetCounters();
      const sink = new CountingSink();
      let started = performance.now();
      const scan = await runScan({
        source: new CaiApiSource({ scopes: [org], logger: textLogger('warn'), concurrency, clientOptions }),
        rules: allRules,
        sinks: [sink],
        logger: textLogger('warn'),
      });
      let seconds = (performance.now() - started) / 1000;
      const total = async (): Promise<number> => Object.values(await fake.counters()).reduce((a, b) => a + b, 0);
      const cronwarden = { calls: await total(), seconds, jobs: scan.summary.jobsScanned, findings: sink.count };
      if (scan.summary.coverageGaps.length > 0) log(`  coverage gaps: ${JSON.stringify(scan.summary.coverageGaps.slice(0, 3))}`);

      log(`baseline: ListJobs on ${projectLocations.reduce((n, p) => n + p.locations.length, 0)} project-locations, then getIamPolicy per target…`);
      await fake.resetCounters();
      started = performance.now();
      const base = await runBaseline({ projects: projectLocations, clientOptions, concurrency });
      seconds = (performance.now() - started) / 1000;
      const baseline = { calls: await total(), seconds, jobs: base.jobs, policiesRead: base.policiesRead, unresolved: base.unresolved };
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
      log(`| cronwarden: ListAssets (RESOURCE + IAM_POLICY, pages of 1000), then all rules | ${cronwarden.calls.toLocaleString('en-US')} | ${fmt(cronwarden.seconds)} | ${cronwarden.jobs.toLocaleString('en-US')} |`);
      log(`| runbook baseline: ListJobs per project × location, getIamPolicy per target | ${baseline.calls.toLocaleString('en-US')} | ${fmt(baseline.seconds)} | ${baseline.jobs.toLocaleString('en-US')} |`);
      log(`| **ratio** | **${fmt(fewerCalls, 0)}× fewer calls** (goal ≥ ${GOALS.fewerCalls}×: ${ok(result.goals.fewerCalls)}) | **${fmt(faster, 0)}× faster** (goal ≥ ${GOALS.faster}×: ${ok(result.goals.faster)}; cronwarden ≤ ${GOALS.wallSeconds} s: ${ok(result.goals.wall)}) | |`);
      log('');
      log(`baseline calls by method: ${Object.entries(byMethod).map(([m, n]) => `${m} ${n.toLocaleString('en-US')}`).join(', ')}; ${baseline.policiesRead.toLocaleString('en-US')} policies read, ${baseline.unresolved} targets not found`);
      log(`cronwarden: ${cronwarden.findings.toLocaleString('en-US')} findings (passes not emitted)`);
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
