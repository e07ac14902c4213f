import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV } from '../../src/google/client-options.js';
import type { Plan } from '../../src/remediation/plan-schema.js';
import { ChangeRecordSchema } from '../../src/remediation/record.js';
import { runCli } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { adminClient, Collector, freshTopic } from '../sinks/pubsub-helpers.js';
import { loadTopicSchema, validateJson } from '../sinks/proto-json.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-records-'));
let fake: FakeGcp;
let emulator: PubSubEmulator;
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;

beforeAll(async () => {
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
  [fake, emulator] = await Promise.all([startFakeGcp({ seedDir: 'examples/sample-org', strict: true }), startPubSubEmulator()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([fake?.stop(), emulator?.close()]);
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});

describe('change records', () => {
  it('go to the output, to Cloud Logging as structured entries, and to Pub/Sub as remediation.* events the topic schema accepts', async () => {
    const env = { [GOOGLE_API_ENDPOINT_ENV]: fake.address, PUBSUB_EMULATOR_HOST: emulator.host };
    const planPath = join(dir, 'plan.json');
    expect((await runCli(['fix', 'plan', '--org', '123456789012', '--output', planPath, '--log-level', 'warn'], env)).code).toBe(0);
    // Approval is what is left in the file: keep the job-token changes only, so the refused
    // job update below is among the first three changes whatever the sample's policies need.
    const planned = JSON.parse(readFileSync(planPath, 'utf8')) as Plan;
    const plan = { ...planned, changes: planned.changes.filter((c) => c.change.kind === 'job-token') };
    writeFileSync(planPath, JSON.stringify(plan, null, 2));
    const admin = adminClient(emulator.host);
    const { topic, subscription } = await freshTopic(admin, 'remediation');
    const collector = new Collector(subscription);
    const recordsPath = join(dir, 'records.jsonl');
    // The first job update is refused: one change fails; the cap of 3 leaves the rest skipped.
    fake.addFault({ method: 'scheduler.UpdateJob', code: 'PERMISSION_DENIED', calls: [1], message: 'The caller does not have permission' });
    const r = await runCli(['fix', 'apply', planPath, '--yes', '--max-changes', '3', '--fix-concurrency', '1', '--topic', topic, '--log-format', 'json', '--output', recordsPath], env);
    expect(r.code, r.stderr).toBe(5);
    const records = readFileSync(recordsPath, 'utf8').trim().split('\n').map((l) => ChangeRecordSchema.parse(JSON.parse(l)));
    expect(records).toHaveLength(plan.changes.length);
    expect(new Set(records.map((x) => x.result))).toEqual(new Set(['applied', 'skipped', 'failed']));
    for (const rec of records) {
      expect(rec).toMatchObject({ planId: plan.planId, scanId: plan.scanId, action: 'apply' });
      expect(rec.terraform.length).toBeGreaterThan(10);
      expect(rec.actor).toMatch(/@/);
    }

    const entries = r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => String(e.event ?? '').startsWith('remediation.'));
    expect(entries).toHaveLength(records.length);
    const failedEntry = entries.find((e) => e.event === 'remediation.failed')!;
    expect(failedEntry.severity).toBe('ERROR');
    expect((failedEntry.record as { reason: string }).reason).toContain('cloudscheduler.jobs.update');

    await collector.waitForKeys(records.length);
    await collector.close();
    const schema = loadTopicSchema();
    for (const m of collector.messages) {
      expect(validateJson(schema, m.data)).toEqual([]);
      const rec = records.find((x) => x.entryId === m.attributes.entryId)!;
      expect(m.attributes.eventType).toBe(`remediation.${rec.result}`);
      expect(JSON.parse(m.data).remediationRecord.result).toBe(rec.result);
    }
    await admin.close();
  });
});
