import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Finding } from '../findings/schema.js';
import { FileAssetSource } from '../inventory/file-source.js';
import type { FindingSink, SinkReport } from '../sinks/sink.js';
import { allRules } from '../../rules/index.js';
import { runScan, type ScanOptions, type ScanResult } from './run-scan.js';
import type { ScanSummary } from './summary.js';
import { threadOf } from './thread-share.js';

export interface WorkerInput {
  files: string[];
  index: number;
  threads: number;
  scanId: string;
  observedAt: string;
  includePasses: boolean;
  shard?: { index: number; count: number };
}

export type WorkerMessage =
  | { type: 'findings'; findings: Finding[] }
  | { type: 'done'; summary: ScanSummary; interrupted: boolean };

export type ParallelFileScanOptions = Omit<ScanOptions, 'source' | 'rules'> & { files: string[]; threads: number };

/** Below this much input a second thread costs more (start-up, a second model) than it saves. */
const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

/** `auto`: two threads for large file inputs where two cores are available, else one. */
export async function chooseThreads(setting: number | 'auto', files: readonly string[]): Promise<number> {
  if (setting !== 'auto') return setting;
  if (availableParallelism() < 2) return 1;
  let bytes = 0;
  for (const f of files) bytes += await stat(f).then((s) => s.size, () => 0);
  return bytes >= PARALLEL_MIN_BYTES ? 2 : 1;
}

/**
 * A file scan on several threads. Every thread reads all files and builds the model (a verdict
 * may need any policy), but keeps and judges only its share of the jobs, chosen by a hash of the
 * job name. The main thread is thread 0; it relays the others' findings to the sinks, merges the
 * summaries and closes the sinks once. Uses the built-in rule registry.
 */
export async function runParallelFileScan(opts: ParallelFileScanOptions): Promise<ScanResult> {
  const { files, threads, sinks, ...rest } = opts;
  const rules = allRules;
  if (threads <= 1) return runScan({ ...rest, sinks, rules, source: new FileAssetSource(files) });

  const now = opts.now ?? (() => new Date());
  const started = now();
  const scanId = opts.scanId ?? randomUUID();
  const observedAt = opts.observedAt ?? started.toISOString();
  const includePasses = opts.includePasses ?? false;

  // Findings from other threads reach the sinks through one chain, in arrival order.
  let relay: Promise<void> = Promise.resolve();
  const relayFindings = (findings: Finding[]): void => {
    relay = relay.then(async () => {
      for (const f of findings) {
        for (const sink of sinks) {
          const pending = sink.write(f);
          if (pending) await pending;
        }
      }
    });
  };

  const workers = Array.from({ length: threads - 1 }, (_, i) => {
    const input: WorkerInput = { files, index: i + 1, threads, scanId, observedAt, includePasses, ...(opts.shard ? { shard: opts.shard } : {}) };
    const worker = new Worker(workerUrl(), { workerData: input });
    const done = new Promise<{ summary: ScanSummary; interrupted: boolean }>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'findings') relayFindings(m.findings);
        else resolve({ summary: m.summary, interrupted: m.interrupted });
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`scan thread ${i + 1} exited with code ${code} before reporting`)));
    });
    return { worker, done };
  });

  // Sinks are closed once, below, with the merged summary.
  const deferred: FindingSink[] = sinks.map((sink) => ({
    name: sink.name,
    write: (f) => sink.write(f),
    close: async (): Promise<SinkReport> => ({ sink: sink.name, delivered: 0, failed: 0 }),
  }));
  const keep = opts.jobFilter;
  let stopSent = false;
  const shouldStop = (): boolean => {
    const stop = opts.shouldStop?.() ?? false;
    if (stop && !stopSent) {
      stopSent = true;
      for (const w of workers) w.worker.postMessage({ type: 'stop' });
    }
    return stop;
  };
  try {
    const main = await runScan({
      ...rest,
      sinks: deferred,
      rules,
      source: new FileAssetSource(files),
      scanId,
      observedAt,
      jobFilter: (name) => threadOf(name, threads) === 0 && (!keep || keep(name)),
      shouldStop,
    });
    const others = await Promise.all(workers.map((w) => w.done));
    await relay;
    const summary = mergeSummaries(main.summary, others.map((o) => o.summary));
    summary.durationMs = now().getTime() - started.getTime();
    const sinkReports: SinkReport[] = [];
    for (const sink of sinks) sinkReports.push(await sink.close(summary));
    return { summary, sinkReports, inventory: main.inventory, interrupted: main.interrupted || others.some((o) => o.interrupted) };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/**
 * Thread 0's summary plus the others' judging. Input problems, assets and skipped types are the
 * main thread's alone: every thread reads the same input.
 */
export function mergeSummaries(main: ScanSummary, others: readonly ScanSummary[]): ScanSummary {
  const merged: ScanSummary = structuredClone(main);
  const gaps = new Map(merged.coverageGaps.map((g) => [`${g.scope}\n${g.reason}`, g]));
  for (const s of others) {
    merged.jobsScanned += s.jobsScanned;
    merged.findings.total += s.findings.total;
    for (const [rule, counts] of Object.entries(s.findings.byRule)) {
      const into = (merged.findings.byRule[rule] ??= {});
      for (const [status, n] of Object.entries(counts)) into[status as keyof typeof into] = (into[status as keyof typeof into] ?? 0) + (n ?? 0);
    }
    for (const [status, n] of Object.entries(s.findings.byStatus)) {
      const k = status as keyof typeof merged.findings.byStatus;
      merged.findings.byStatus[k] = (merged.findings.byStatus[k] ?? 0) + (n ?? 0);
    }
    for (const [sev, counts] of Object.entries(s.findings.bySeverity)) {
      const into = (merged.findings.bySeverity[sev as keyof typeof merged.findings.bySeverity] ??= {});
      for (const [status, n] of Object.entries(counts ?? {})) into[status as 'fail' | 'unverifiable'] = (into[status as 'fail' | 'unverifiable'] ?? 0) + (n ?? 0);
    }
    for (const g of s.coverageGaps) gaps.set(`${g.scope}\n${g.reason}`, g);
    merged.partial ||= s.partial;
  }
  merged.coverageGaps = [...gaps.values()];
  return merged;
}

/** The compiled worker beside this module; under the test runner (TypeScript sources), the built one. */
function workerUrl(): URL {
  const here = new URL('./scan-worker.js', import.meta.url);
  if (import.meta.url.endsWith('.js') && existsSync(here)) return here;
  return new URL('../../dist/src/scan/scan-worker.js', import.meta.url);
}

