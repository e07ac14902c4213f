/**
 * Pub/Sub publishing benchmark: N realistic findings published to the emulator through the
 * cronwarden sink (serialising each finding, attributes, in-flight window, accounting, the final
 * scan.completed) against a bare batched loop publishing the very same messages, prebuilt, with
 * the same client settings (`publishMessage` for each, then await them all). One run of each,
 * after a short warm-up of both, each to its own topic with no subscription; each is timed from
 * its first publish until its client is closed (the sink's topic check is not timed).
 *
 *   node dist/bench/pubsub-bench.js [--messages 100000]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Finding } from '../src/findings/schema.js';
import { FileAssetSource } from '../src/inventory/file-source.js';
import { textLogger } from '../src/log/logger.js';
import { runScan } from '../src/scan/run-scan.js';
import type { ScanSummary } from '../src/scan/summary.js';
import { DEFAULT_BATCHING, DEFAULT_RETRY, gaxRetry } from '../src/sinks/pubsub/client.js';
import { findingMessage, type OutgoingMessage } from '../src/sinks/pubsub/message.js';
import { createPubSubSink } from '../src/sinks/pubsub-sink.js';
import type { FindingSink } from '../src/sinks/sink.js';
import { allRules } from '../rules/index.js';
import { startPubSubEmulator } from '../test/support/pubsub-emulator.js';

const PROJECT = 'cronwarden-bench';

export interface PubsubBenchOptions {
  /** Findings to publish (default 100,000). */
  messages?: number;
  log?: (line: string) => void;
}

export interface PubsubBenchRow {
  publisher: 'bare loop' | 'cronwarden sink';
  messages: number;
  seconds: number;
  perSecond: number;
  /** CPU time of this Node process while publishing (the emulator's JVM not included). */
  cpuSeconds: number;
}

export interface PubsubBenchResult {
  rows: PubsubBenchRow[];
  /** Sink throughput / bare throughput; the goal is at least 0.8. */
  ratio: number;
}

export async function benchPubsub(opts: PubsubBenchOptions = {}): Promise<PubsubBenchResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const n = opts.messages ?? 100_000;
  const { findings, summary } = await realisticFindings(n);
  const messages = findings.map(findingMessage);
  const avgBytes = messages.reduce((s, m) => s + m.data.length, 0) / messages.length;
  log(`${n.toLocaleString('en-US')} findings from the sample organization's rule output, ${Math.round(avgBytes)} bytes of data each on average`);

  const emulator = await startPubSubEmulator();
  const spoolDir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-bench-'));
  const previousHost = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  try {
    const { PubSub } = await import('@google-cloud/pubsub');
    const admin = new PubSub({ projectId: PROJECT, emulatorMode: true, universeDomain: 'googleapis.com' });
    const topic = async (id: string): Promise<string> => (await admin.createTopic(id))[0].name;

    type Timing = { seconds: number; cpuSeconds: number };
    const bare = async (name: string, batch: readonly OutgoingMessage[]): Promise<Timing> => {
      const client = new PubSub({ projectId: PROJECT, emulatorMode: true, universeDomain: 'googleapis.com' });
      const t = client.topic(name, { batching: { ...DEFAULT_BATCHING }, gaxOpts: gaxRetry(DEFAULT_RETRY) as never });
      const clock = startClock();
      await Promise.all(batch.map((m) => t.publishMessage(m)));
      // Closing the client is part of a publishing run, as it is of the sink's close().
      await client.close();
      return clock();
    };
    const viaSink = async (name: string, batch: readonly Finding[], spool: string): Promise<Timing> => {
      const sink: FindingSink = await createPubSubSink({ topic: name, spoolPath: join(spoolDir, spool), logger: textLogger('warn') });
      const clock = startClock();
      for (const f of batch) {
        const wait = sink.write(f);
        if (wait) await wait;
      }
      const report = await sink.close(summary);
      const timing = clock();
      if (report.failed > 0) throw new Error(`the sink failed to deliver ${report.failed} messages: ${report.notes?.join('; ')}`);
      return timing;
    };

    const warm = Math.min(20_000, n);
    await bare(await topic('warmup-bare'), messages.slice(0, warm));
    await viaSink(await topic('warmup-sink'), findings.slice(0, warm), 'warmup.jsonl');

    const bareRun = await bare(await topic('bench-bare'), messages);
    const sinkRun = await viaSink(await topic('bench-sink'), findings, 'bench.jsonl');
    await admin.close();

    const rows: PubsubBenchRow[] = [
      { publisher: 'bare loop', messages: n, ...bareRun, perSecond: n / bareRun.seconds },
      { publisher: 'cronwarden sink', messages: n + 1, ...sinkRun, perSecond: (n + 1) / sinkRun.seconds },
    ];
    const result = { rows, ratio: rows[1]!.perSecond / rows[0]!.perSecond };
    log('');
    for (const line of pubsubBenchTable(result)) log(line);
    return result;
  } finally {
    if (previousHost === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = previousHost;
    await emulator.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

export function pubsubBenchTable(result: PubsubBenchResult): string[] {
  const lines = ['| publisher | messages | seconds | msgs/s | ratio to bare | Node CPU s |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of result.rows) {
    const ratio = r.perSecond / result.rows[0]!.perSecond;
    lines.push(
      `| ${r.publisher} | ${r.messages.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ` +
        `${ratio.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    `Batching ${DEFAULT_BATCHING.maxMessages} messages / ${DEFAULT_BATCHING.maxBytes / 1024 / 1024} MiB / ${DEFAULT_BATCHING.maxMilliseconds} ms for both.`,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 1024 / 1024)} MB RAM, Node ${process.version}, emulator and benchmark on the same machine.`,
  );
  return lines;
}

/**
 * The findings a scan of the bundled sample organization produces, repeated with distinct jobs,
 * projects and finding ids until there are `n`: real rule output, realistic sizes.
 */
async function realisticFindings(n: number): Promise<{ findings: Finding[]; summary: ScanSummary }> {
  const root = repoRoot();
  const files = ['resources.export.ndjson', 'iam-policies.export.ndjson', 'serverless.list.json'].map((f) => join(root, 'examples', 'sample-org', f));
  const seeds: Finding[] = [];
  let summary: ScanSummary | undefined;
  await runScan({
    source: new FileAssetSource(files),
    rules: allRules,
    logger: textLogger('silent'),
    sinks: [
      {
        name: 'seeds',
        write: (f) => void seeds.push(f),
        close: async (s) => {
          summary = s;
          return { sink: 'seeds', delivered: seeds.length, failed: 0 };
        },
      },
    ],
  });
  if (seeds.length === 0 || !summary) throw new Error('the sample organization produced no findings to publish');
  const findings: Finding[] = [];
  for (let i = 0; i < n; i++) {
    const seed = seeds[i % seeds.length]!;
    const copy = Math.floor(i / seeds.length);
    const project = `${seed.job.project}-${copy % 1000}`;
    const jobId = `${seed.job.name.split('/jobs/')[1]}-${copy}`;
    findings.push({
      ...seed,
      findingId: createHash('sha256').update(`${seed.findingId}\n${i}`).digest('hex').slice(0, 32),
      job: { ...seed.job, project, name: `projects/${project}/locations/${seed.job.location}/jobs/${jobId}` },
      evidence: structuredClone(seed.evidence),
    });
  }
  return { findings, summary: { ...summary, findings: { ...summary.findings, total: n } } };
}

/** Starts a wall and CPU clock; calling the result reads both, in seconds. */
function startClock(): () => { seconds: number; cpuSeconds: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { seconds: (performance.now() - wall) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cronwarden') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the cronwarden repository root');
    dir = parent;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { messages: { type: 'string' } } });
  const messages = values.messages ? Number(values.messages) : undefined;
  if (messages !== undefined && !(Number.isInteger(messages) && messages > 0)) {
    process.stderr.write(`pubsub-bench: --messages must be a whole positive number, got "${values.messages}"\n`);
    process.exitCode = 2;
  } else {
    benchPubsub(messages ? { messages } : {}).catch((err: unknown) => {
      process.stderr.write(`pubsub-bench: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 2;
    });
  }
}
