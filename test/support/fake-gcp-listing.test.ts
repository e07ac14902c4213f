import { AssetServiceClient } from '@google-cloud/asset';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions } from '../../src/google/client-options.js';
import { CaiApiSource } from '../../src/inventory/cai-api-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { startFakeGcp, type FakeGcp } from './fake-gcp/index.js';

const PROJECT = 'projects/acme-prod';
const JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-wrong-audience';
const JOB_TYPE = 'cloudscheduler.googleapis.com/Job';
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
const fakes: FakeGcp[] = [];
const closers: { close(): Promise<void> }[] = [];
let clock = Date.now();

beforeAll(() => {
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
  await Promise.all(fakes.map((f) => f.stop()));
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});

async function fake(options: Parameters<typeof startFakeGcp>[0] = {}): Promise<{ fake: FakeGcp; asset: AssetServiceClient; scheduler: CloudSchedulerClient }> {
  const f = await startFakeGcp({ seedDir: 'examples/sample-org', now: () => new Date(clock), ...options });
  fakes.push(f);
  const opts = googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: f.address });
  const asset = new AssetServiceClient(opts);
  const scheduler = new CloudSchedulerClient(opts);
  closers.push(asset, scheduler);
  return { fake: f, asset, scheduler };
}

async function refused(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; details: string };
  }
  throw new Error('expected the call to be refused');
}

const audienceIn = (assets: { name?: string | null; resource?: { data?: unknown } | null }[]) => {
  const job = assets.find((a) => a.name === `//cloudscheduler.googleapis.com/${JOB}`);
  const fields = (job?.resource?.data as { fields: Record<string, { structValue?: { fields: Record<string, { structValue?: { fields: Record<string, { stringValue?: string }> } }> } }> }).fields;
  return fields.httpTarget?.structValue?.fields.oidcToken?.structValue?.fields.audience?.stringValue;
};
const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: 0 });

describe('fake ListAssets: history and indexing delay', () => {
  it('answers read_time from timestamped history, and lags writes by the indexing delay', async () => {
    clock = Date.now();
    const { asset, scheduler } = await fake({ listing: { indexingDelayMs: { [JOB_TYPE]: 600_000 } } });
    const list = async (readMs?: number) =>
      (await asset.listAssets({ parent: PROJECT, assetTypes: [JOB_TYPE], contentType: 'RESOURCE', pageSize: 1000, ...(readMs ? { readTime: ts(readMs) } : {}) }, { autoPaginate: false }))[0];
    const old = audienceIn(await list());
    const beforeWrite = clock;
    clock += 60_000;
    await scheduler.updateJob({ job: { name: JOB, httpTarget: { oidcToken: { audience: 'https://billing-abc123xyz-uc.a.run.app' } } }, updateMask: { paths: ['http_target.oidc_token.audience'] } });
    const [live] = await scheduler.getJob({ name: JOB });
    expect(live.httpTarget?.oidcToken?.audience).toBe('https://billing-abc123xyz-uc.a.run.app');
    clock += 60_000;
    expect(audienceIn(await list())).toBe(old); // written a minute ago, indexed after ten
    clock += 600_000;
    expect(audienceIn(await list())).toBe('https://billing-abc123xyz-uc.a.run.app');
    expect(audienceIn(await list(beforeWrite))).toBe(old); // as it was then
  });
});

describe('fake ListAssets: requests Google refuses', () => {
  it('refuses unknown asset types, and negative or oversize page sizes', async () => {
    const { asset } = await fake();
    const call = (req: Record<string, unknown>) => asset.listAssets({ parent: PROJECT, contentType: 'RESOURCE', ...req }, { autoPaginate: false });
    const unknown = await refused(call({ assetTypes: ['cloudscheduler.googleapis.com/Jobs'] }));
    expect([unknown.code, unknown.details.includes('not supported')]).toEqual([3, true]);
    expect((await refused(call({ pageSize: -1 }))).code).toBe(3);
    expect((await refused(call({ pageSize: 1001 }))).code).toBe(3);
    const [ok] = await call({ assetTypes: ['cloudscheduler.googleapis.com/.*'], pageSize: 1000 });
    expect(ok.length).toBeGreaterThan(0);
    expect((await call({ assetTypes: ['compute.googleapis.com/Instance'] }))[0]).toEqual([]); // supported, none held
  });

  it('binds page tokens to their request and lets them expire', async () => {
    clock = Date.now();
    const { asset } = await fake({ listing: { pageTokenTtlMs: 3_600_000 } });
    const req = { parent: PROJECT, assetTypes: [JOB_TYPE], contentType: 'RESOURCE' as const, pageSize: 2 };
    const [, , first] = await asset.listAssets(req, { autoPaginate: false });
    const token = first?.nextPageToken;
    expect(token).toBeTruthy();
    expect((await refused(asset.listAssets({ ...req, contentType: 'IAM_POLICY', pageToken: token! }, { autoPaginate: false }))).details).toContain('does not match');
    await asset.listAssets({ ...req, pageToken: token! }, { autoPaginate: false });
    clock += 3_600_001;
    expect((await refused(asset.listAssets({ ...req, pageToken: token! }, { autoPaginate: false }))).details).toContain('expired');
  });
});

describe('fake ListAssets: short and empty pages', () => {
  it('may answer short or empty pages that still carry a token; the scanner reads everything all the same', async () => {
    const { fake: f, asset } = await fake({ listing: { shortPageRate: 0.5, emptyPageRate: 0.3 } });
    const sizes: number[] = [];
    let pageToken = '';
    let total = 0;
    do {
      const [page, , response] = await asset.listAssets({ parent: 'organizations/123456789012', contentType: 'RESOURCE', pageSize: 5, pageToken }, { autoPaginate: false });
      sizes.push(page.length);
      total += page.length;
      pageToken = response?.nextPageToken ?? '';
    } while (pageToken);
    expect(sizes.slice(0, -1).some((n) => n === 0)).toBe(true);
    expect(sizes.slice(0, -1).some((n) => n > 0 && n < 5)).toBe(true);
    const source = new CaiApiSource({ scopes: ['organizations/123456789012'], logger: memoryLogger(), clientOptions: googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: f.address }), pageSize: 5 });
    let records = 0;
    const report = await source.read((r) => {
      if (r.ok && r.record.resource) records++;
    });
    expect(report.gaps).toEqual([]);
    expect(records).toBeGreaterThanOrEqual(total);
  });
});
