import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, PublishError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log/logger.js';
import { createPubSubSink, decodeFindingMessage, replaySpool } from '../../src/sinks/pubsub-sink.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { aSummary, expectedAttributes, someFindings } from './finding-builder.js';
import { adminClient, Collector, freshTopic, PROJECT, readSpool } from './pubsub-helpers.js';
import { loadTopicSchema, validateJson } from './proto-json.js';

let emulator: PubSubEmulator;
let admin: PubSub;
let dir: string;
const schema = loadTopicSchema();

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  // The sink finds the emulator the way the CLI will: through the environment.
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  admin = adminClient(emulator.host);
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-test-'));
});

afterAll(async () => {
  await admin?.close();
  await emulator?.close();
  delete process.env.PUBSUB_EMULATOR_HOST;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Pub/Sub sink against the emulator', () => {
  it('delivers one message per finding with every attribute, then one scan.completed', async () => {
    const { topic, subscription } = await freshTopic(admin, 'findings');
    const collector = new Collector(subscription);
    const findings = someFindings(2500);
    const summary = aSummary(findings);
    const logger = memoryLogger();
    const spoolPath = join(dir, 'delivered.spool.jsonl');

    const sink = await createPubSubSink({ topic, spoolPath, logger });
    for (const f of findings) await sink.write(f);
    const report = await sink.close(summary);

    expect(report).toMatchObject({ sink: 'pubsub', delivered: findings.length + 1, failed: 0 });
    expect(report.spoolPath).toBeUndefined();
    expect(existsSync(spoolPath)).toBe(false);

    await collector.waitForKeys(findings.length + 1);
    await collector.close();
    const byId = new Map(collector.messages.filter((m) => m.attributes.eventType === 'finding').map((m) => [m.attributes.findingId!, m]));
    expect(byId.size).toBe(findings.length);
    for (const f of findings) {
      const m = byId.get(f.findingId)!;
      expect(m.attributes).toEqual(expectedAttributes(f));
      expect(decodeFindingMessage(m.data)).toEqual(f);
    }
    for (const m of collector.messages) expect(validateJson(schema, m.data)).toEqual([]);

    const events = collector.messages.filter((m) => m.attributes.eventType === 'scan.completed');
    expect(events).toHaveLength(1);
    expect(events[0]!.attributes).toEqual({
      eventType: 'scan.completed',
      schemaVersion: '1',
      scanId: summary.scanId,
      version: summary.version,
      partial: 'true',
      deliveryPartial: 'false',
    });
    const event = JSON.parse(events[0]!.data);
    expect(event).toMatchObject({
      schemaVersion: 1,
      scanId: summary.scanId,
      scanCompleted: {
        version: summary.version,
        durationMs: summary.durationMs,
        findings: { total: findings.length, byStatus: { fail: summary.findings.byStatus.fail, unverifiable: summary.findings.byStatus.unverifiable, pass: 0 } },
        coverageGaps: summary.coverageGaps,
        coverageGapsTotal: 1,
        partial: true,
        delivery: { findingsPublished: findings.length, findingsSpooled: 0 },
      },
    });
    const byRule = event.scanCompleted.findings.byRule as { ruleId: string; fail: number }[];
    expect(byRule.map((r) => r.ruleId)).toEqual(Object.keys(summary.findings.byRule).sort());
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('refuses a topic that does not exist, naming it', async () => {
    const topic = `projects/${PROJECT}/topics/no-such-topic`;
    const attempt = createPubSubSink({ topic, spoolPath: join(dir, 'never.jsonl'), logger: memoryLogger() });
    await expect(attempt).rejects.toThrow(PublishError);
    await expect(attempt).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND', message: expect.stringContaining(topic) });
  });

  it('without the up-front check (publisher-only role), spools everything for a missing topic and says why', async () => {
    const topic = `projects/${PROJECT}/topics/deleted-topic`;
    const spoolPath = join(dir, 'missing.spool.jsonl');
    const logger = memoryLogger();
    const findings = someFindings(30);
    const sink = await createPubSubSink({ topic, spoolPath, logger, checkTopic: false });
    for (const f of findings) await sink.write(f);
    const report = await sink.close(aSummary(findings));

    expect(report).toMatchObject({ delivered: 0, failed: 31, spoolPath });
    expect(report.notes).toContain(`topic ${topic} does not exist`);
    const spooled = readSpool(spoolPath);
    expect(spooled).toHaveLength(31);
    expect(new Set(spooled.map((r) => r.error.status))).toEqual(new Set(['NOT_FOUND']));
    expect(spooled.map((r) => r.attributes.findingId).filter(Boolean).sort()).toEqual(findings.map((f) => f.findingId).sort());
    const warning = logger.lines.find((l) => l.level === 'warn')!;
    expect(warning.message).toContain(`topic ${topic} does not exist`);
    // The log names the failure, never a payload.
    expect(logger.lines.some((l) => l.message.includes(findings[0]!.message))).toBe(false);
  });

  it('replays a spool file unchanged, once the topic is there', async () => {
    const spoolPath = join(dir, 'replay.spool.jsonl');
    const findings = someFindings(40, 'scan-replay');
    const { topic, subscription } = await freshTopic(admin, 'replay');
    // Spool everything by pointing the sink at a topic that does not exist yet.
    const missing = `${topic}-later`;
    const first = await createPubSubSink({ topic: missing, spoolPath, logger: memoryLogger(), checkTopic: false });
    for (const f of findings) await first.write(f);
    expect(await first.close(aSummary(findings))).toMatchObject({ failed: 41 });

    const collector = new Collector(subscription);
    const report = await replaySpool({ spoolPath, topic, logger: memoryLogger() });
    expect(report).toMatchObject({ delivered: 41, failed: 0 });
    await collector.waitForKeys(41);
    await collector.close();
    // Replayed in full: the file is renamed, so replaying again does not publish it twice.
    expect(existsSync(spoolPath)).toBe(false);
    const original = new Map(readSpool(`${spoolPath}.replayed`).map((r) => [r.attributes.findingId ?? r.attributes.eventType, r]));
    for (const m of collector.messages) {
      const r = original.get(m.attributes.findingId ?? m.attributes.eventType!)!;
      expect(m.data).toBe(r.data);
      expect(m.attributes).toEqual(r.attributes);
    }
  });

  it('refuses a malformed topic name before any network call', async () => {
    for (const topic of ['my-topic', 'projects/P/topics/T', 'projects/cronwarden-test/topics/goog-x', 'projects/cronwarden-test/subscriptions/s1']) {
      await expect(createPubSubSink({ topic, spoolPath: join(dir, 'x.jsonl'), logger: memoryLogger() })).rejects.toThrow(ConfigurationError);
    }
  });
});
