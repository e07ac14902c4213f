import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../src/log/logger.js';
import { createPubSubSink } from '../../src/sinks/pubsub-sink.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { aSummary, someFindings } from './finding-builder.js';
import { adminClient, Collector, eventually, freshTopic, readSpool, sleep } from './pubsub-helpers.js';

let emulator: PubSubEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-outage-'));
});

afterAll(async () => {
  await emulator?.close();
  delete process.env.PUBSUB_EMULATOR_HOST;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Pub/Sub sink when the emulator goes away mid-run', () => {
  it('frozen and resumed within the retry budget: retries deliver everything, duplicates keep their findingId', async () => {
    const admin = adminClient(emulator.host);
    const { topic, subscription } = await freshTopic(admin, 'frozen');
    const collector = new Collector(subscription);
    const findings = someFindings(2000, 'scan-frozen');
    const spoolPath = join(dir, 'frozen.spool.jsonl');
    const sink = await createPubSubSink({
      topic,
      spoolPath,
      logger: memoryLogger(),
      // Each attempt gives up after 1 s, so attempts time out and are retried while frozen.
      retry: { initialDelayMs: 100, maxDelayMs: 500, rpcTimeoutMs: 1000, totalTimeoutMs: 30_000 },
    });

    for (const f of findings.slice(0, 500)) await sink.write(f);
    emulator.pause();
    try {
      for (const f of findings.slice(500)) await sink.write(f);
      await sleep(2500);
    } finally {
      emulator.resume();
    }
    const report = await sink.close(aSummary(findings));

    expect(report).toMatchObject({ delivered: findings.length + 1, failed: 0 });
    expect(readSpool(spoolPath)).toEqual([]);
    await collector.waitForKeys(findings.length + 1);
    await collector.close();
    await admin.close();
    // At-least-once: an attempt that timed out on the client may still have been published.
    const distinct = collector.keys();
    for (const f of findings) expect(distinct.has(f.findingId)).toBe(true);
    expect(collector.messages.length).toBeGreaterThanOrEqual(findings.length + 1);
  });

  it('stopped and started again: every finding is delivered or spooled, and the report says which', async () => {
    const findings = someFindings(2500, 'scan-restart');
    const before = findings.slice(0, 1000);
    const during = findings.slice(1000, 1700);
    const after = findings.slice(1700);
    const spoolPath = join(dir, 'restart.spool.jsonl');
    let admin = adminClient(emulator.host);
    const { topic, subscription } = await freshTopic(admin, 'restart');
    let collector = new Collector(subscription);
    const logger = memoryLogger();
    const sink = await createPubSubSink({
      topic,
      spoolPath,
      logger,
      retry: { initialDelayMs: 100, maxDelayMs: 500, rpcTimeoutMs: 1000, totalTimeoutMs: 5000 },
      pauseAfterOutageMs: 300,
      maxReconnectBackoffMs: 200,
    });

    for (const f of before) await sink.write(f);
    await collector.waitForKeys(before.length);
    const receivedBefore = collector.keys();
    await collector.close();
    await admin.close();

    await emulator.stop();
    for (const f of during) await sink.write(f);
    // Their retry budget runs out while the emulator is down: they go to the spool.
    await eventually(() => readSpool(spoolPath).length === during.length, 20_000, 'the findings sent during the outage to be spooled');

    await emulator.start();
    // A restarted emulator has lost its topics: the operator recreates the topic.
    admin = adminClient(emulator.host);
    const [recreated] = await admin.createTopic(topic.split('/').pop()!);
    const [newSubscription] = await recreated.createSubscription(`${recreated.name.split('/').pop()}-sub2`);
    collector = new Collector(newSubscription);
    await sleep(400);

    for (const f of after) await sink.write(f);
    const summary = aSummary(findings);
    const report = await sink.close(summary);

    expect(report.delivered + report.failed).toBe(findings.length + 1);
    expect(report).toMatchObject({ delivered: before.length + after.length + 1, failed: during.length, spoolPath });
    expect(report.notes!.join('\n')).toMatch(/partial delivery to .*: 1801 messages delivered, 700 not/);
    // The notice gives the command that publishes them again, ready to paste.
    expect(report.notes).toContain(`undelivered messages are in ${spoolPath} (JSONL); publish them again with: cronwarden replay-spool ${spoolPath}`);

    const spooled = readSpool(spoolPath);
    expect(spooled.map((r) => r.attributes.findingId).sort()).toEqual(during.map((f) => f.findingId).sort());
    for (const r of spooled) {
      expect(['DEADLINE_EXCEEDED', 'UNAVAILABLE', 'PUBLISHING_PAUSED']).toContain(r.error.status);
    }
    // The topic is recorded once, in the header, not per record.
    expect(JSON.parse(readFileSync(spoolPath, 'utf8').split('\n')[0]!)).toMatchObject({ cronwardenSpool: 1, topic });

    await collector.waitForKeys(after.length + 1);
    const receivedAfter = collector.keys();
    await collector.close();
    await admin.close();
    const spooledIds = new Set(spooled.map((r) => r.attributes.findingId!));
    // Each finding is in exactly one place: received by a subscriber, or in the spool.
    for (const f of findings) {
      const received = receivedBefore.has(f.findingId) || receivedAfter.has(f.findingId);
      expect([f.findingId, received !== spooledIds.has(f.findingId)]).toEqual([f.findingId, true]);
    }
    const event = collector.messages.find((m) => m.attributes.eventType === 'scan.completed')!;
    expect(event.attributes.deliveryPartial).toBe('true');
    expect(JSON.parse(event.data).scanCompleted.delivery).toEqual({ findingsPublished: before.length + after.length, findingsSpooled: during.length });
  });
});
