/**
 * Issue 10, item 13: records with `__proto__`, `constructor` and other keys JavaScript objects
 * inherit. The file path and the API path (the real Cloud Asset client against the fake) read
 * the same hostile corpus, and both judge it exactly as the clean organization.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ServicesClient } from '@google-cloud/run';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/findings/schema.js';
import { googleClientOptions } from '../../src/google/client-options.js';
import { CaiApiSource } from '../../src/inventory/cai-api-source.js';
import { structToJson } from '../../src/inventory/cai/asset-json.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import type { AssetSource } from '../../src/inventory/source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';
import { structFromJson, structToJson as fakeStructToJson } from '../support/fake-gcp/proto-json.js';
import { HOSTILE_KEYS, SAMPLE, hostileObject, sampleResources, sampleServerless, withHostileKeys } from './corpus.js';

const ORGS = ['organizations/123456789012', 'organizations/987654321098'];

async function verdicts(source: AssetSource): Promise<string[]> {
  const findings: Finding[] = [];
  const sink: FindingSink = { name: 'collect', write: (f) => void findings.push(f), close: async () => ({ sink: 'collect', delivered: findings.length, failed: 0 }) };
  const result = await runScan({ source, rules: allRules, sinks: [sink], logger: memoryLogger(), includePasses: true });
  expect(result.summary.unreadableRecords, JSON.stringify(result.summary.problems)).toBe(0);
  return findings.map((f) => `${f.job.name} ${f.ruleId} ${f.status} ${f.message}`).sort();
}

/** The sample's files other than its resources and serverless listing: the IAM policies. */
const otherSampleFiles = (): string[] =>
  readdirSync(SAMPLE)
    .filter((n) => /\.(ndjson|json)$/.test(n) && n !== 'resources.export.ndjson' && n !== 'serverless.list.json')
    .map((n) => join(SAMPLE, n));

let fake: FakeGcp;
let hostileFile: string;
let hostileListing: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-hostile-'));
  hostileFile = join(dir, 'resources.export.ndjson');
  const hostile = withHostileKeys(sampleResources());
  // Written by hand so the keys stay own properties in the file, as `JSON.stringify` keeps them.
  writeFileSync(hostileFile, hostile.map((r) => JSON.stringify(r)).join('\n') + '\n');
  hostileListing = join(dir, 'serverless.list.json');
  writeFileSync(hostileListing, JSON.stringify(withHostileKeys(sampleServerless()), null, 2));
  // The fake seeded with the hostile records in place of the clean ones.
  const seedDir = mkdtempSync(join(tmpdir(), 'cw-hostile-seed-'));
  writeFileSync(join(seedDir, 'resources.export.ndjson'), hostile.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(seedDir, 'serverless.list.json'), readFileSync(hostileListing, 'utf8'));
  for (const p of otherSampleFiles()) writeFileSync(join(seedDir, basename(p)), readFileSync(p, 'utf8'));
  fake = await startFakeGcp({ seedDir });
});
afterAll(async () => {
  await fake?.stop();
});

describe('hostile keys (__proto__, constructor, …) in records', () => {
  it('the corpus really carries them as own keys', () => {
    const hostile = withHostileKeys(sampleResources());
    const job = hostile.find((r) => r.asset_type === 'cloudscheduler.googleapis.com/Job')!;
    const data = (job.resource as { data: Record<string, unknown> }).data;
    for (const k of HOSTILE_KEYS) expect(Object.hasOwn(data.labels as object, k), k).toBe(true);
    expect(Object.getPrototypeOf(data.labels)).toBe(Object.prototype);
  });

  it('are kept as plain keys by the fake’s Struct conversion and the product’s, both ways', () => {
    const input = hostileObject({ inner: hostileObject(2) });
    const back = fakeStructToJson(structFromJson(input));
    expect(JSON.stringify(back)).toBe(JSON.stringify(input));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    const product = structToJson(structFromJson(input) as never);
    expect(JSON.stringify(product)).toBe(JSON.stringify(input));
    expect(Object.getPrototypeOf(product)).toBe(Object.prototype);
  });

  it('the file path and the API path judge the hostile corpus as the clean organization', async () => {
    const files = [hostileFile, hostileListing, ...otherSampleFiles()];
    const clean = await verdicts(new FileAssetSource([join(SAMPLE, 'resources.export.ndjson'), join(SAMPLE, 'serverless.list.json'), ...otherSampleFiles()]));
    expect(clean.length).toBeGreaterThan(20);
    expect(await verdicts(new FileAssetSource(files))).toEqual(clean);
    const api = new CaiApiSource({ scopes: ORGS, logger: memoryLogger(), clientOptions: googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address }) });
    expect(await verdicts(api)).toEqual(clean);
  });
});

describe('the fake’s other APIs on hostile records (the real clients)', () => {
  const JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-ok';

  it('Scheduler GetJob, UpdateJob and ListJobs answer for a job whose data has `constructor` and `__proto__` keys', async () => {
    const opts = googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address });
    const scheduler = new CloudSchedulerClient(opts);
    try {
      const [job] = await scheduler.getJob({ name: JOB });
      expect(job.httpTarget?.oidcToken?.serviceAccountEmail).toBe('scheduler-invoker@acme-prod.iam.gserviceaccount.com');
      // Headers are a proto map: the hostile keys come back as plain keys.
      expect(Object.keys(job.httpTarget?.headers ?? {})).toEqual(expect.arrayContaining(['constructor', 'toString']));
      const [listed] = await scheduler.listJobs({ parent: 'projects/acme-prod/locations/us-central1' }, { autoPaginate: false });
      expect(listed.length).toBeGreaterThan(0);
      // A mask path naming an inherited member is an unknown field, as Google answers it, not a crash.
      const bad = await scheduler.updateJob({ job: { name: JOB }, updateMask: { paths: ['constructor'] } }).then(() => undefined, (e: { code?: number }) => e);
      expect(bad?.code).toBe(3);
      const [updated] = await scheduler.updateJob({ job: { name: JOB, description: 'x' }, updateMask: { paths: ['description'] } });
      expect(updated.description).toBe('x');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      await scheduler.close();
    }
  });

  it('Cloud Run GetService answers for a service whose annotations and labels have hostile keys', async () => {
    const opts = googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address });
    const run = new ServicesClient(opts);
    try {
      // Both shapes: a v2 service and a Knative (v1) one, whose annotations carry the hostile keys.
      for (const name of ['projects/acme-prod/locations/us-central1/services/billing', 'projects/acme-prod/locations/us-central1/services/reports']) {
        const [service] = await run.getService({ name });
        expect(service.name).toBe(name);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      await run.close();
    }
  });
});
