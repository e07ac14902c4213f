import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { textLogger } from '../../src/log/logger.js';
import { runParallelFileScan } from '../../src/scan/parallel-scan.js';
import type { ScanResult } from '../../src/scan/run-scan.js';
import { shardOf } from '../../src/runtime/cloud-run.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { SAMPLE_FILES, runCli, sampleInputs } from '../support/cli-harness.js';

function collecting(): { sink: FindingSink; findings: Finding[]; closes: number[] } {
  const findings: Finding[] = [];
  const closes: number[] = [];
  return {
    findings,
    closes,
    sink: {
      name: 'collect',
      write: (f) => void findings.push(f),
      close: async (summary) => {
        closes.push(summary.jobsScanned);
        return { sink: 'collect', delivered: findings.length, failed: 0 };
      },
    },
  };
}

async function scan(threads: number, extra: { shard?: { index: number; count: number } } = {}): Promise<{ result: ScanResult; findings: Finding[]; closes: number[] }> {
  const c = collecting();
  const shard = extra.shard;
  const result = await runParallelFileScan({
    files: SAMPLE_FILES,
    threads,
    sinks: [c.sink],
    logger: textLogger('silent'),
    includePasses: true,
    scanId: 'scan-parallel',
    observedAt: '2026-11-29T00:00:00.000Z',
    ...(shard ? { shard, jobFilter: (name: string) => shardOf(name, shard.count) === shard.index } : {}),
  });
  return { result, findings: c.findings, closes: c.closes };
}

const ids = (fs: Finding[]): string[] => fs.map((f) => `${f.findingId} ${f.status}`).sort();

describe('parallel file scan', () => {
  it('gives the same findings and counts on 1, 2 and 3 threads, and closes each sink once with the merged summary', async () => {
    const one = await scan(1);
    for (const threads of [2, 3]) {
      const many = await scan(threads);
      expect(ids(many.findings)).toEqual(ids(one.findings));
      expect(many.findings.every((f) => f.scanId === 'scan-parallel' && f.observedAt === '2026-11-29T00:00:00.000Z')).toBe(true);
      const { durationMs: _a, ...a } = many.result.summary;
      const { durationMs: _b, ...b } = one.result.summary;
      expect(a).toEqual(b);
      expect(many.closes).toEqual([one.result.summary.jobsScanned]);
    }
  });

  it('splits each Cloud Run task’s share again between threads: the union of tasks × threads is one full run', async () => {
    const full = await scan(1);
    const union: Finding[] = [];
    for (let index = 0; index < 3; index++) union.push(...(await scan(2, { shard: { index, count: 3 } })).findings);
    expect(ids(union)).toEqual(ids(full.findings));
  });

  it('is chosen by --threads in the CLI, with the same output as one thread', async () => {
    const one = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--threads', '1']);
    const two = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--threads', '2']);
    expect(two.code).toBe(one.code);
    const lines = (t: string): string[] => t.trim().split('\n').map((l) => (JSON.parse(l) as Finding).findingId).sort();
    expect(lines(two.stdout)).toEqual(lines(one.stdout));
    expect((await runCli(['scan', ...sampleInputs(), '--threads', '0'])).code).toBe(2);
  });
});
