/**
 * One thread of a parallel file scan (see parallel-scan.ts): reads the same files, keeps and
 * judges only its share of the jobs, and sends its findings and summary to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FileAssetSource } from '../inventory/file-source.js';
import { textLogger } from '../log/logger.js';
import type { Finding } from '../findings/schema.js';
import { allRules } from '../../rules/index.js';
import { runScan } from './run-scan.js';
import { threadOf } from './thread-share.js';
import { shardOf } from '../runtime/cloud-run.js';
import type { WorkerInput, WorkerMessage } from './parallel-scan.js';

const input = workerData as WorkerInput;
const port = parentPort!;
let stop = false;
port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop = true;
});

const BATCH = 500;
let batch: Finding[] = [];
const post = (message: WorkerMessage): void => port.postMessage(message);
const flush = (): void => {
  if (batch.length === 0) return;
  post({ type: 'findings', findings: batch });
  batch = [];
};

const { shard } = input;
const result = await runScan({
  source: new FileAssetSource(input.files),
  rules: allRules,
  // The main thread reads the same input and reports its problems; reporting them twice would mislead.
  logger: textLogger('silent'),
  includePasses: input.includePasses,
  scanId: input.scanId,
  observedAt: input.observedAt,
  jobFilter: (name) => threadOf(name, input.threads) === input.index && (!shard || shardOf(name, shard.count) === shard.index),
  shouldStop: () => stop,
  sinks: [
    {
      name: 'thread-relay',
      write(finding) {
        batch.push(finding);
        if (batch.length >= BATCH) flush();
      },
      async close() {
        flush();
        return { sink: 'thread-relay', delivered: 0, failed: 0 };
      },
    },
  ],
});
post({ type: 'done', summary: result.summary, interrupted: result.interrupted });
