import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { decodeFindingMessage, findingMessage } from '../../src/sinks/pubsub-sink.js';
import { sampleInputs } from '../support/cli-harness.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { expectedAttributes, someFindings } from './finding-builder.js';
import { adminClient, Collector, freshTopic, PROJECT, readSpool } from './pubsub-helpers.js';
import { loadTopicSchema, validateJson } from './proto-json.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

let emulator: PubSubEmulator;
let admin: PubSub;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  emulator = await startPubSubEmulator();
  admin = adminClient(emulator.host);
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-cli-'));
});

afterAll(async () => {
  await admin?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the built CLI as a user would, with only the environment given (plus PATH). */
function cronwarden(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const findingsOf = (jsonl: string): Finding[] =>
  jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => FindingSchema.parse(JSON.parse(l)));

describe('cronwarden scan --topic, end to end against the emulator', () => {
  it('publishes one message per non-passing finding, with its attributes, then scan.completed, and exits as without a topic', async () => {
    const { topic, subscription } = await freshTopic(admin, 'cli');
    const collector = new Collector(subscription);
    const spoolPath = join(dir, 'cli.spool.jsonl');
    const args = ['scan', ...sampleInputs(), '--format', 'jsonl'];
    const plain = await cronwarden(args, {});
    const run = await cronwarden([...args, '--topic', topic, '--spool-path', spoolPath], { PUBSUB_EMULATOR_HOST: emulator.host });

    expect(run.code, run.stderr).toBe(plain.code);
    const printed = findingsOf(run.stdout);
    expect(printed.length).toBeGreaterThan(10);
    expect(printed.every((f) => f.status !== 'pass')).toBe(true);
    expect(run.stderr).toContain(`published ${printed.length} findings and the scan.completed event to ${topic}`);
    expect(existsSync(spoolPath)).toBe(false);

    await collector.waitForKeys(printed.length + 1);
    await collector.close();
    const received = collector.messages.filter((m) => m.attributes.eventType === 'finding');
    expect(new Set(received.map((m) => m.attributes.findingId)).size).toBe(printed.length);
    const byId = new Map(received.map((m) => [m.attributes.findingId!, m]));
    for (const f of printed) {
      const m = byId.get(f.findingId)!;
      expect(m.attributes).toEqual(expectedAttributes(f));
      expect(decodeFindingMessage(m.data)).toEqual(f);
    }
    const schema = loadTopicSchema();
    for (const m of collector.messages) expect(validateJson(schema, m.data)).toEqual([]);
    const events = collector.messages.filter((m) => m.attributes.eventType === 'scan.completed');
    expect(events).toHaveLength(1);
    expect(events[0]!.attributes).toMatchObject({ eventType: 'scan.completed', scanId: printed[0]!.scanId, partial: 'false', deliveryPartial: 'false' });
    expect(JSON.parse(events[0]!.data).scanCompleted.delivery).toEqual({ findingsPublished: printed.length, findingsSpooled: 0 });
  });

  it('takes the topic from CRONWARDEN_TOPIC, and passes too with --include-passes', async () => {
    const { topic, subscription } = await freshTopic(admin, 'cli-env');
    const collector = new Collector(subscription);
    const run = await cronwarden(['scan', ...sampleInputs(), '--format', 'jsonl', '--include-passes'], {
      PUBSUB_EMULATOR_HOST: emulator.host,
      CRONWARDEN_TOPIC: topic,
      CRONWARDEN_SPOOL_PATH: join(dir, 'env.spool.jsonl'),
    });
    const printed = findingsOf(run.stdout);
    expect(printed.some((f) => f.status === 'pass')).toBe(true);
    await collector.waitForKeys(printed.length + 1);
    await collector.close();
    expect(collector.keys()).toEqual(new Set([...printed.map((f) => f.findingId), 'scan.completed']));
  });

  it('names a topic that does not exist and exits 2 before scanning', async () => {
    const topic = `projects/${PROJECT}/topics/cli-missing-topic`;
    const spoolPath = join(dir, 'missing.spool.jsonl');
    const run = await cronwarden(['scan', ...sampleInputs(), '--format', 'jsonl', '--topic', topic, '--spool-path', spoolPath], {
      PUBSUB_EMULATOR_HOST: emulator.host,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Pub/Sub topic ${topic} does not exist`);
    expect(run.stdout).toBe('');
    expect(readSpool(spoolPath)).toEqual([]);
  });
});

describe('cronwarden replay-spool, end to end against the emulator', () => {
  it('publishes every spooled message again with its attributes, and exits 0', async () => {
    const { topic, subscription } = await freshTopic(admin, 'replay');
    const collector = new Collector(subscription);
    const findings = someFindings(3, 'scan-replay');
    const spoolPath = join(dir, 'replay.spool.jsonl');
    writeFileSync(
      spoolPath,
      findings
        .map((f) => {
          const m = findingMessage(f);
          return JSON.stringify({
            topic: 'projects/elsewhere/topics/gone',
            attributes: m.attributes,
            data: m.data.toString('utf8'),
            error: { code: 14, status: 'UNAVAILABLE', message: 'connection refused' },
            failedAt: '2026-11-29T03:00:00.000Z',
          });
        })
        .join('\n') + '\n',
    );
    const run = await cronwarden(['replay-spool', spoolPath, '--topic', topic], { PUBSUB_EMULATOR_HOST: emulator.host });
    expect(run.stderr).toContain('3 delivered, 0 failed');
    expect(run.code).toBe(0);
    await collector.waitForKeys(3);
    for (const f of findings) {
      const got = collector.messages.find((m) => m.attributes.findingId === f.findingId)!;
      expect(got.attributes).toEqual(expectedAttributes(f));
      expect(decodeFindingMessage(Buffer.from(got.data))).toEqual(f);
    }
    await collector.close();
  });

  it('refuses a call without a spool file', async () => {
    const run = await cronwarden(['replay-spool'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('replay-spool takes one spool file');
  });

  it('says a spool file that is not there is not found, exit 2', async () => {
    const missing = join(dir, 'never-written.spool.jsonl');
    const run = await cronwarden(['replay-spool', missing], { PUBSUB_EMULATOR_HOST: emulator.host });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`cronwarden: spool file ${missing}: file not found`);
  });
});
