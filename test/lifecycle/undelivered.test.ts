import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { startLifecycle } from '../../src/lifecycle/start.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import { createPubSubSink, decodeMessage, replaySpool } from '../../src/sinks/pubsub-sink.js';
import type { ResolvedRecord } from '../../src/lifecycle/resolved-record.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { adminClient, Collector, eventually, freshTopic, PROJECT, readSpool } from '../sinks/pubsub-helpers.js';
import { writeSample } from './changed-sample.js';

let emulator: PubSubEmulator;
let admin: PubSub;
let dir: string;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  admin = adminClient(emulator.host);
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-undelivered-'));
}, 90_000);

afterAll(async () => {
  await admin?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const inputsOf = (flags: string[]): string[] => flags.filter((_, i) => i % 2 === 1);

/** One scan of `inputs` with the file store and the real Pub/Sub sink; returns what the sink was given. */
async function scan(inputs: string[], state: string, topic: string, spoolPath: string) {
  const logger = memoryLogger();
  const lifecycle = await startLifecycle({ kind: 'file', path: state }, { logger });
  const sink = await createPubSubSink({ topic, spoolPath, logger, checkTopic: false, apiEndpoint: emulator.host, retry: { totalTimeoutMs: 2_000, rpcTimeoutMs: 1_000 } });
  const findings: Finding[] = [];
  const resolved: ResolvedRecord[] = [];
  const capture = {
    name: 'capture',
    write: (f: Finding) => void findings.push(f),
    writeResolved: (r: ResolvedRecord) => void resolved.push(r),
    close: async () => ({ sink: 'capture', delivered: 0, failed: 0 }),
  };
  const result = await runScan({ source: new FileAssetSource(inputs), rules: allRules, sinks: [sink, capture], logger, lifecycle: lifecycle.run });
  await lifecycle.close();
  return { result, findings, resolved };
}

describe('no alert is lost to the state', () => {
  it('a new finding whose message was not delivered is new again next time; an undelivered resolution is resolved again; replay-spool re-sends both kinds', async () => {
    const state = join(dir, 'state.json');
    // One spool file per run (created O_EXCL): each scan gets its own name.
    let runs = 0;
    const spoolPath = (): string => join(dir, `spool-${++runs}.jsonl`);
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const before = inputsOf(writeSample(join(dir, 'a')));
    const after = inputsOf(writeSample(join(dir, 'b'), { fix: true }));
    const missing = `projects/${PROJECT}/topics/not-there-${process.pid}`;

    const first = await scan(before, state, missing, spoolPath());
    expect(first.result.sinkReports[0]).toMatchObject({ delivered: 0, failed: 37 });
    expect(first.findings.every((f) => f.lifecycle === 'new')).toBe(true);

    const { topic, subscription } = await freshTopic(admin, 'undelivered');
    const second = await scan(before, state, topic, spoolPath());
    expect(second.result.sinkReports[0]).toMatchObject({ failed: 0 });
    expect(second.findings.filter((f) => f.lifecycle === 'new')).toHaveLength(36);

    const third = await scan(before, state, topic, spoolPath());
    expect(third.findings.filter((f) => f.lifecycle === 'new')).toHaveLength(0);

    // The fix is judged while the topic is missing: the resolution is spooled, and said again.
    const fourth = await scan(after, state, missing, spoolPath());
    expect(fourth.resolved).toHaveLength(1);
    const fifth = await scan(after, state, topic, spoolPath());
    expect(fifth.resolved.map((r) => r.findingId)).toEqual(fourth.resolved.map((r) => r.findingId));
    const sixth = await scan(after, state, topic, spoolPath());
    expect(sixth.resolved).toEqual([]);

    // The spool holds findings, resolutions and events; replay-spool publishes them all unchanged.
    const spoolFiles = readdirSync(dir).filter((n) => /^spool-\d+\.jsonl$/.test(n)).map((n) => join(dir, n));
    const spooled = spoolFiles.flatMap((f) => readSpool(f));
    expect(spooled.filter((r) => r.attributes.eventType === 'finding.resolved')).toHaveLength(1);
    const collector = new Collector(subscription);
    let delivered = 0;
    for (const file of spoolFiles) {
      const report = await replaySpool({ spoolPath: file, topic, logger: memoryLogger(), apiEndpoint: emulator.host });
      expect(report).toMatchObject({ failed: 0 });
      delivered += report.delivered;
    }
    expect(delivered).toBe(spooled.length);
    // The subscription also holds the later scans' messages (the fifth resolved the same finding
    // again): wait for each spooled message by its scan and finding.
    const key = (a: Record<string, string>) => `${a.scanId} ${a.findingId ?? a.eventType}`;
    const wanted = new Set(spooled.map((r) => key(r.attributes)));
    await eventually(() => [...wanted].every((k) => collector.messages.some((m) => key(m.attributes) === k)), 30_000, 'every replayed message');
    await collector.close();
    const resolutions = collector.messages.filter((m) => m.attributes.eventType === 'finding.resolved').map((m) => decodeMessage(m.data));
    expect(resolutions).toContainEqual(fourth.resolved[0]);
  }, 120_000);
});
