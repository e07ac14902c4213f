import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { FirestoreStateStore } from '../../src/lifecycle/firestore-store.js';
import { ResolvedRecordSchema, type ResolvedRecord } from '../../src/lifecycle/resolved-record.js';
import { bucketOf, emptyChanges } from '../../src/lifecycle/state.js';
import { decodeMessage } from '../../src/sinks/pubsub-sink.js';
import { startFirestoreEmulator, type FirestoreEmulator } from '../support/firestore-emulator.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { adminClient, Collector, eventually, freshTopic, PROJECT } from '../sinks/pubsub-helpers.js';
import { loadTopicSchema, validateJson } from '../sinks/proto-json.js';
import { byLifecycle, cronwarden, keysOf, parseJsonl, writeExceptions, writeSample } from './changed-sample.js';

let firestore: FirestoreEmulator;
let pubsub: PubSubEmulator;
let admin: PubSub;
let dir: string;
let collections = 0;

beforeAll(async () => {
  [firestore, pubsub] = await Promise.all([startFirestoreEmulator(), startPubSubEmulator()]);
  admin = adminClient(pubsub.host);
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-firestore-'));
  process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await Promise.all([firestore?.close(), pubsub?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const freshState = (): string => `firestore://${PROJECT}/(default)/state-${process.pid}-${++collections}`;
const env = (): Record<string, string> => ({ FIRESTORE_EMULATOR_HOST: firestore.host, PUBSUB_EMULATOR_HOST: pubsub.host });

describe('the Firestore state store (emulator)', () => {
  it('two tasks writing the same bucket at once keep both their entries: a lost race reads the bucket again', { timeout: 120_000 }, async () => {
    const location = { project: PROJECT, database: '(default)', collection: `merge-${process.pid}` };
    const a = new FirestoreStateStore(location);
    const b = new FirestoreStateStore(location);
    // Two jobs in one bucket, owned by different tasks.
    const jobs: string[] = [];
    for (let i = 0; jobs.length < 2; i++) {
      const name = `projects/acme-prod/locations/us-central1/jobs/j${i}`;
      if (jobs.length === 0 || bucketOf(name) === bucketOf(jobs[0]!)) jobs.push(name);
    }
    const entry = (jobName: string) => ({ ruleId: 'http-target-uses-oidc', severity: 'high' as const, firstSeenAt: '2026-11-01T00:00:00.000Z', jobName, reported: true });
    const ca = emptyChanges();
    ca.upsertOpen.set('a'.repeat(32), entry(jobs[0]!));
    const cb = emptyChanges();
    cb.upsertOpen.set('b'.repeat(32), entry(jobs[1]!));
    const [wa, wb] = await Promise.all([a.save(ca), b.save(cb)]);
    expect([wa.documentsWritten, wb.documentsWritten]).toEqual([1, 1]);
    // Neither read the bucket before: one created it, the other lost the race and read it once.
    expect(wa.documentsRead + wb.documentsRead).toBe(1);
    const loaded = await a.load();
    expect([...loaded.open.keys()].sort()).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(loaded.stats.documentsRead).toBe(1);
    // A removal touches only its own field.
    const rm = emptyChanges();
    rm.removeOpen.set('a'.repeat(32), bucketOf(jobs[0]!));
    await b.save(rm);
    expect([...(await a.load()).open.keys()]).toEqual(['b'.repeat(32)]);
    // Nothing to change: nothing written.
    expect(await a.save(emptyChanges())).toEqual({ documentsRead: 0, documentsWritten: 0 });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('two scans of the sample organization with Firestore (emulator), through the CLI and on Pub/Sub (emulator)', () => {
  it('one job fixed, one broken, one excepted: exactly the expected events in the output and on the topic', async () => {
    const state = freshState();
    const { topic, subscription } = await freshTopic(admin, 'lifecycle');
    const collector = new Collector(subscription);
    mkdirSync(join(dir, 'e2e1'));
    mkdirSync(join(dir, 'e2e2'));
    const first = await cronwarden(['scan', ...writeSample(join(dir, 'e2e1')), '--state', state, '--topic', topic, '--format', 'jsonl', '--spool-path', join(dir, 'e2e.spool')], env());
    expect(first.code, first.stderr).toBe(0);
    expect(parseJsonl(first.stdout).findings.every((f) => f.lifecycle === 'new')).toBe(true);
    await collector.waitForKeys(37);
    const firstMessages = collector.messages.splice(0);
    expect(firstMessages.filter((m) => m.attributes.lifecycle === 'new')).toHaveLength(36);

    const second = await cronwarden(
      ['scan', ...writeSample(join(dir, 'e2e2'), { fix: true, break: true }), '--state', state, '--topic', topic, '--exceptions', writeExceptions(dir), '--format', 'jsonl'],
      env(),
    );
    expect(second.code, second.stderr).toBe(0);
    const out = parseJsonl(second.stdout);
    expect(byLifecycle(out.findings, 'new')).toEqual(['billing-ok http-target-uses-oidc']);
    expect(byLifecycle(out.findings, 'open')).toHaveLength(35);
    expect(keysOf(out.resolved)).toEqual(['billing-no-token http-target-uses-oidc']);
    expect(keysOf(out.findings.filter((f) => f.suppression))).toEqual(['billing-oauth http-target-uses-oidc']);

    // 36 findings, 1 resolution, 1 scan.completed: 37 distinct finding ids plus the event, of this
    // scan (a late redelivery of the first scan's messages is not counted).
    const scanId = out.findings[0]!.scanId;
    const ofScan = () => collector.messages.filter((m) => m.attributes.scanId === scanId);
    await eventually(() => new Set(ofScan().map((m) => m.attributes.findingId ?? m.attributes.eventType)).size >= 38, 30_000, "the second scan's 38 messages");
    const messages = [...new Map(ofScan().map((m) => [m.attributes.findingId ?? m.attributes.eventType, m])).values()];
    await collector.close();
    const schema = loadTopicSchema();
    for (const m of messages) expect(validateJson(schema, m.data)).toEqual([]);
    const findings = messages.filter((m) => m.attributes.eventType === 'finding');
    const resolved = messages.filter((m) => m.attributes.eventType === 'finding.resolved');
    expect(findings).toHaveLength(36);
    expect(findings.filter((m) => m.attributes.lifecycle === 'new').map((m) => m.attributes.jobId)).toEqual(['billing-ok']);
    expect(findings.filter((m) => m.attributes.lifecycle === 'open')).toHaveLength(35);
    expect(findings.filter((m) => m.attributes.suppressed === 'true').map((m) => m.attributes.jobId)).toEqual(['billing-oauth']);
    expect(findings.filter((m) => 'suppressed' in m.attributes)).toHaveLength(1);
    expect(resolved).toHaveLength(1);
    const record = decodeMessage(resolved[0]!.data) as ResolvedRecord;
    expect(ResolvedRecordSchema.parse(record)).toEqual(out.resolved[0]);
    expect(resolved[0]!.attributes).toEqual({
      eventType: 'finding.resolved',
      schemaVersion: '1',
      findingId: record.findingId,
      scanId: record.scanId,
      ruleId: 'http-target-uses-oidc',
      severity: 'high',
      projectId: 'acme-prod',
      location: 'us-central1',
      jobId: 'billing-no-token',
      lifecycle: 'resolved',
    });
    const decoded = findings.map((m) => decodeMessage(m.data) as Finding);
    for (const f of decoded) FindingSchema.parse(f);
    const completed = JSON.parse(messages.find((m) => m.attributes.eventType === 'scan.completed')!.data) as { scanCompleted: Record<string, unknown> };
    expect(completed.scanCompleted.lifecycle).toEqual({ new: 1, open: 35, reopened: 0, resolved: 1, unknown: 0 });
    expect(completed.scanCompleted.exceptions).toMatchObject({ suppressed: 1, expired: [], stale: [] });
  }, 120_000);

  it('parallel tasks write their own shares; changing the task count between scans neither loses nor duplicates an event', async () => {
    const state = freshState();
    mkdirSync(join(dir, 'tasks1'));
    mkdirSync(join(dir, 'tasks2'));
    const inputs1 = writeSample(join(dir, 'tasks1'));
    const inputs2 = writeSample(join(dir, 'tasks2'), { fix: true, break: true });
    const tasks = (inputs: string[], count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          cronwarden(['scan', ...inputs, '--state', state, '--format', 'jsonl'], { ...env(), CLOUD_RUN_TASK_INDEX: String(i), CLOUD_RUN_TASK_COUNT: String(count) }),
        ),
      );
    const union = (runs: { code: number | null; stdout: string; stderr: string }[]) => {
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const parsed = runs.map((r) => parseJsonl(r.stdout));
      return { findings: parsed.flatMap((p) => p.findings), resolved: parsed.flatMap((p) => p.resolved) };
    };
    const first = union(await tasks(inputs1, 2));
    expect(first.findings).toHaveLength(36);
    expect(byLifecycle(first.findings, 'new')).toHaveLength(36);

    const second = union(await tasks(inputs2, 3));
    expect(second.findings).toHaveLength(36);
    expect(byLifecycle(second.findings, 'new')).toEqual(['billing-ok http-target-uses-oidc']);
    expect(byLifecycle(second.findings, 'open')).toHaveLength(35);
    expect(keysOf(second.resolved)).toEqual(['billing-no-token http-target-uses-oidc']);

    const third = union(await tasks(inputs2, 1));
    expect(byLifecycle(third.findings, 'open')).toHaveLength(36);
    expect(third.resolved).toEqual([]);
  }, 120_000);

  it('a state that cannot be reached: findings emitted with lifecycle unknown, exit 3', async () => {
    mkdirSync(join(dir, 'down'));
    // A port nobody listens on: the client fails to connect.
    const run = await cronwarden(['scan', ...writeSample(join(dir, 'down')), '--state', freshState(), '--format', 'jsonl'], { FIRESTORE_EMULATOR_HOST: '127.0.0.1:9' });
    expect(run.code).toBe(3);
    const { findings } = parseJsonl(run.stdout);
    expect(findings).toHaveLength(36);
    expect(findings.every((f) => f.lifecycle === 'unknown')).toBe(true);
    expect(run.stderr).toMatch(/STATE PROBLEM: cannot read Firestore/);
  }, 180_000);
});

// Read with the client the store uses, so the layout is what the documentation says.
describe('the Firestore layout', () => {
  it('one document per job-hash bucket, its open findings packed into one string field', async () => {
    const state = freshState();
    mkdirSync(join(dir, 'layout'));
    const run = await cronwarden(['scan', ...writeSample(join(dir, 'layout')), '--state', state, '--format', 'jsonl'], env());
    expect(run.code, run.stderr).toBe(0);
    const db = new Firestore({ projectId: PROJECT });
    const docs = (await db.collection(state.split('/').pop()!).get()).docs;
    const open = docs.flatMap((d) => Object.keys((JSON.parse(d.get('state') as string) as { open?: object }).open ?? {}));
    expect(open).toHaveLength(36);
    for (const d of docs) expect(d.id).toMatch(/^bucket-\d{3}$/);
    await db.terminate();
  });
});
