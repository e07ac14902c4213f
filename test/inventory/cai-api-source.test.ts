import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { EXIT, main } from '../../src/cli/main.js';
import { AccessError, ConfigurationError } from '../../src/errors.js';
import type { Finding } from '../../src/findings/schema.js';
import { googleClientOptions } from '../../src/google/client-options.js';
import { CaiApiSource, type CaiApiSourceOptions } from '../../src/inventory/cai-api-source.js';
import { assetToJson, structToJson, timestampToJson } from '../../src/inventory/cai/asset-json.js';
import { SlidingWindowLimiter, type Timer } from '../../src/inventory/cai/rate-limiter.js';
import { Retrier, RetriesExhaustedError } from '../../src/inventory/cai/retry.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { ReadStopped, type AssetSource } from '../../src/inventory/source.js';
import type { RecordResult } from '../../src/inventory/asset-record.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan, type ScanResult } from '../../src/scan/run-scan.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const SAMPLE = 'examples/sample-org';
const ORG = 'organizations/123456789012';
const FOLDER = 'folders/345678901234';
/** The sample's second organization: one project, whose internal service a job of the first calls. */
const ORG2 = 'organizations/987654321098';
const JOB = 'cloudscheduler.googleapis.com/Job';

/** Fast retries, so fault tests take milliseconds rather than minutes. */
const QUICK_RETRY = { maxAttempts: 12, initialDelayMs: 1, maxDelayMs: 20, exhaustedDelayMs: 5, budgetMs: 10_000 };

class CollectingSink implements FindingSink {
  readonly name = 'collect';
  readonly findings: Finding[] = [];
  write(f: Finding): void {
    this.findings.push(f);
  }
  async close() {
    return { sink: this.name, delivered: this.findings.length, failed: 0 };
  }
}

async function scan(source: AssetSource): Promise<{ result: ScanResult; findings: Omit<Finding, 'scanId' | 'observedAt'>[] }> {
  const sink = new CollectingSink();
  const result = await runScan({ source, rules: allRules, sinks: [sink], logger: memoryLogger(), includePasses: true });
  const findings = sink.findings
    .map(({ scanId: _s, observedAt: _o, ...rest }) => rest)
    .sort((a, b) => a.job.name.localeCompare(b.job.name) || a.ruleId.localeCompare(b.ruleId) || a.findingId.localeCompare(b.findingId));
  return { result, findings };
}

async function sampleFiles(): Promise<string[]> {
  return (await readdir(SAMPLE)).filter((n) => /\.(ndjson|json)$/.test(n)).map((n) => join(SAMPLE, n));
}

let fake: FakeGcp;
let fileScan: Awaited<ReturnType<typeof scan>>;

function apiSource(options: Partial<CaiApiSourceOptions> = {}): CaiApiSource {
  return new CaiApiSource({
    scopes: [ORG],
    logger: memoryLogger(),
    clientOptions: googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address }),
    ...options,
  });
}

beforeAll(async () => {
  fake = await startFakeGcp({ seedDir: SAMPLE });
  fileScan = await scan(new FileAssetSource(await sampleFiles()));
});
afterAll(async () => {
  await fake.stop();
});

describe('CaiApiSource against the fake Cloud Asset API', () => {
  it('gives the same findings as a scan of the export files (bundled sample organization)', async () => {
    expect(fileScan.findings.length).toBeGreaterThan(20);
    const api = await scan(apiSource({ scopes: [ORG, ORG2] }));
    expect(api.findings).toEqual(fileScan.findings);
    expect(api.result.summary.jobsScanned).toBe(fileScan.result.summary.jobsScanned);
    expect(api.result.summary.findings.byStatus).toEqual(fileScan.result.summary.findings.byStatus);
    expect(api.result.summary.coverageGaps).toEqual(fileScan.result.summary.coverageGaps);
    expect(api.result.summary.partial).toBe(fileScan.result.summary.partial);
    // Jobs are listed once the model is built and judged page by page: none is held.
    expect(api.result.inventory.jobs).toHaveLength(0);
  });

  it('lists an organization in three RESOURCE listings and one IAM_POLICY listing, a project in one of each, pages of 1000, all at one readTime', async () => {
    fake.requests.length = 0;
    const readTime = new Date(Date.now() - 3_600_000);
    const source = apiSource({ readTime, pageSize: 7 });
    await source.read(() => undefined);
    const listings = fake.requests.filter((r) => r.method === 'asset.ListAssets');
    expect(listings.length).toBe(source.stats!.calls);
    expect(listings.length).toBeGreaterThan(2);
    expect(new Set(listings.map((r) => r.request.contentType))).toEqual(new Set(['RESOURCE', 'IAM_POLICY']));
    expect(new Set(listings.map((r) => JSON.stringify(r.request.readTime)))).toEqual(
      new Set([JSON.stringify({ seconds: String(Math.floor(readTime.getTime() / 1000)), nanos: (readTime.getTime() % 1000) * 1e6 })]),
    );
    expect(listings.every((r) => r.request.pageSize === 7 && r.authorization === false)).toBe(true);

    fake.requests.length = 0;
    const defaults = apiSource();
    await defaults.read(() => undefined);
    const calls = fake.requests.filter((r) => r.method === 'asset.ListAssets');
    expect(calls.map((r) => `${String(r.request.contentType)} ${(r.request.assetTypes as string[]).length}`).sort()).toEqual([
      'IAM_POLICY 8',
      'RESOURCE 1',
      'RESOURCE 3',
      'RESOURCE 7',
    ]);
    expect(calls.every((r) => r.request.pageSize === 1000)).toBe(true);
    expect(new Set(calls.map((r) => JSON.stringify(r.request.readTime))).size).toBe(1);

    fake.requests.length = 0;
    await apiSource({ scopes: ['projects/acme-prod'] }).read(() => undefined);
    expect(fake.requests.filter((r) => r.method === 'asset.ListAssets').map((r) => `${String(r.request.contentType)} ${(r.request.assetTypes as string[]).length}`).sort()).toEqual(['IAM_POLICY 8', 'RESOURCE 11']);
    // The default snapshot is a minute back, never in the future of Google's clock.
    expect(Date.parse(defaults.stats!.readTime)).toBeLessThan(Date.now() - 50_000);
  });

  it('passes on an asset seen through overlapping scopes once', async () => {
    const api = await scan(apiSource({ scopes: [ORG, ORG2, FOLDER, 'projects/acme-prod'] }));
    expect(api.findings).toEqual(fileScan.findings);
  });

  it('retries UNAVAILABLE, RESOURCE_EXHAUSTED and a page past its deadline, and judges the same', async () => {
    const faulty = await startFakeGcp({
      seedDir: SAMPLE,
      randomSeed: 7,
      faults: [
        { method: 'ListAssets', code: 'UNAVAILABLE', rate: 0.2 },
        { method: 'ListAssets', code: 'RESOURCE_EXHAUSTED', rate: 0.05 },
        { method: 'ListAssets', calls: [3], delayMs: 2_000 },
      ],
    });
    try {
      const source = new CaiApiSource({
        scopes: [ORG, ORG2],
        logger: memoryLogger(),
        clientOptions: googleClientOptions({ CRONWARDEN_GOOGLE_API_ENDPOINT: faulty.address }),
        pageSize: 5,
        callTimeoutMs: 400,
        retry: QUICK_RETRY,
      });
      const api = await scan(source);
      expect(api.findings).toEqual(fileScan.findings);
      expect(api.result.summary.coverageGaps).toEqual(fileScan.result.summary.coverageGaps);
      const answered = faulty.requests.map((r) => r.code);
      expect(answered).toContain(14);
      expect(answered).toContain(8);
      // The slow page was given up on by the client (the fake saw it cancelled) and asked again.
      expect(answered).toContain(1);
      expect(source.stats!.retries).toBe(faulty.requests.filter((r) => r.code !== 0).length);
      expect(source.stats!.calls).toBe(faulty.counters.get('ListAssets'));
    } finally {
      await faulty.stop();
    }
  });

  it('turns a PERMISSION_DENIED scope into a coverage gap, judges the other scopes, and never retries it', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', scope: 'projects/acme-data', message: 'caller lacks cloudasset.assets.listResource' }]);
    fake.requests.length = 0;
    try {
      const api = await scan(apiSource({ scopes: ['projects/acme-prod', 'projects/acme-data', 'projects/acme-legacy'], retry: QUICK_RETRY }));
      const gap = api.result.summary.coverageGaps.find((g) => g.scope === 'projects/acme-data');
      expect(gap?.reason).toMatch(/PERMISSION_DENIED: caller lacks cloudasset\.assets\.listResource/);
      expect(gap?.reason).toMatch(/nothing in this scope was judged/);
      expect(api.result.summary.partial).toBe(true);
      const judged = new Set(api.findings.map((f) => f.job.project));
      expect(judged).toEqual(new Set(['acme-prod', 'acme-legacy']));
      const expectedJobs = fileScan.findings.filter((f) => f.job.project !== 'acme-data').map((f) => f.job.name);
      expect(new Set(api.findings.map((f) => f.job.name))).toEqual(new Set(expectedJobs));
      const denied = fake.requests.filter((r) => r.request.parent === 'projects/acme-data');
      expect(denied.length).toBeGreaterThanOrEqual(1);
      expect(denied.length).toBeLessThanOrEqual(2);
    } finally {
      fake.setFaults([]);
    }
  });

  it('through the CLI: the denied scope is named in the output and the exit status is "partial"', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', scope: 'projects/acme-data' }]);
    const saved = process.env.CRONWARDEN_GOOGLE_API_ENDPOINT;
    // The CLI builds its clients from the process environment.
    process.env.CRONWARDEN_GOOGLE_API_ENDPOINT = fake.address;
    const text = { out: '', err: '' };
    const sink = (key: 'out' | 'err') => new Writable({ write: (chunk, _enc, done) => ((text[key] += String(chunk)), done()) });
    try {
      const env = { ...process.env, CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address };
      const argv = ['scan', '--project', 'acme-prod', '--project', 'acme-data', '--format', 'jsonl'];
      const code = await main(argv, { stdout: sink('out'), stderr: sink('err'), env });
      expect(code).toBe(EXIT.partial);
      expect(text.err).toMatch(/projects\/acme-data/);
      expect(text.err).toMatch(/PERMISSION_DENIED/);
      const jobs = new Set(text.out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Finding).job.project));
      expect(jobs).toEqual(new Set(['acme-prod']));
    } finally {
      fake.setFaults([]);
      if (saved === undefined) delete process.env.CRONWARDEN_GOOGLE_API_ENDPOINT;
      else process.env.CRONWARDEN_GOOGLE_API_ENDPOINT = saved;
    }
  });

  it('with jobs deferred: lists them after the rest, page by page, and a failure midway leaves a gap for the rest', async () => {
    fake.requests.length = 0;
    const source = apiSource({ pageSize: 4, retry: QUICK_RETRY });
    const first: RecordResult[] = [];
    const report = await source.read((r) => void first.push(r), { deferJobs: true });
    expect(first.some((r) => r.ok && r.record.assetType === JOB)).toBe(false);
    expect(fake.requests.some((r) => (r.request.assetTypes as string[]).includes(JOB))).toBe(false);
    // The second page of the job listing is refused: the first page's 4 jobs are judged, the rest are not.
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', calls: [fake.counters.get('asset.ListAssets') + 2] }]);
    try {
      const jobs: string[] = [];
      const late = await report.deferredJobs!.read(async (r) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (r.ok) jobs.push(r.record.name);
      });
      expect(jobs).toHaveLength(4);
      expect(late).toEqual({ gaps: [{ scope: ORG, reason: expect.stringMatching(/^ListAssets RESOURCE \(jobs\) failed: PERMISSION_DENIED: .*; 4 of its jobs were judged, the rest were not$/) }] });
    } finally {
      fake.setFaults([]);
    }
  });

  it('with jobs deferred: a consumer that stops the read stops the listing', async () => {
    const source = apiSource({ pageSize: 4 });
    const report = await source.read(() => undefined, { deferJobs: true });
    const before = fake.counters.get('asset.ListAssets');
    let seen = 0;
    const read = report.deferredJobs!.read(() => {
      if (++seen === 2) throw new ReadStopped();
    });
    await expect(read).rejects.toBeInstanceOf(ReadStopped);
    expect(seen).toBe(2);
    expect(fake.counters.get('asset.ListAssets') - before).toBe(1);
  });

  it('with jobs deferred, through runScan: a job listing that fails makes the scan partial and names the scope', async () => {
    const dry = apiSource({ pageSize: 4 });
    await dry.read(() => undefined, { deferJobs: true });
    const firstReadCalls = dry.stats!.calls;
    fake.setFaults([{ method: 'ListAssets', code: 'PERMISSION_DENIED', calls: [fake.counters.get('asset.ListAssets') + firstReadCalls + 3] }]);
    try {
      const api = await scan(apiSource({ pageSize: 4, retry: QUICK_RETRY }));
      expect(api.result.summary.jobsScanned).toBe(8);
      expect(api.result.summary.partial).toBe(true);
      expect(api.result.summary.coverageGaps).toEqual([{ scope: ORG, reason: expect.stringContaining('8 of its jobs were judged, the rest were not') }]);
    } finally {
      fake.setFaults([]);
    }
  });

  it('passes on nothing of a scope when one of its listings fails, even after others succeeded', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'INVALID_ARGUMENT', calls: [fake.counters.get('asset.ListAssets') + 2] }]);
    try {
      const records: unknown[] = [];
      const source = apiSource({ retry: QUICK_RETRY });
      // The only scope: nothing at all could be judged, which is an access error rather than a partial result.
      const err = await source.read((r) => records.push(r)).then(() => undefined, (e: unknown) => e);
      expect(records).toHaveLength(0);
      expect(err).toBeInstanceOf(AccessError);
      expect((err as AccessError).transient).toBe(false);
      expect((err as AccessError).message).toMatch(/organizations\/123456789012: ListAssets (RESOURCE|IAM_POLICY) failed: INVALID_ARGUMENT: .*not retryable/);
    } finally {
      fake.setFaults([]);
    }
  });

  it('gives up after the attempts allowed and says so', async () => {
    fake.setFaults([{ method: 'ListAssets', code: 'UNAVAILABLE' }]);
    const before = fake.counters.get('ListAssets');
    try {
      const source = apiSource({ retry: { ...QUICK_RETRY, maxAttempts: 3 } });
      const err = await source.read(() => undefined).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(AccessError);
      expect((err as AccessError).transient).toBe(true);
      expect((err as AccessError).message).toMatch(/UNAVAILABLE: injected UNAVAILABLE \(3 attempts; attempts exhausted\)/);
      // Four listings of three attempts at most, fewer as the first to give up stops the others.
      expect(fake.counters.get('ListAssets') - before).toBeLessThanOrEqual(12);
    } finally {
      fake.setFaults([]);
    }
  });

  it('refuses scopes that are not organizations/N, folders/N or projects/P', () => {
    for (const scopes of [[], ['123'], ['organizations/acme'], ['projects/'], ['folders/1/x']]) {
      expect(() => new CaiApiSource({ scopes, logger: memoryLogger() })).toThrow(ConfigurationError);
    }
    expect(() => new CaiApiSource({ scopes: [ORG], logger: memoryLogger(), pageSize: 5000 })).toThrow(/at most 1000/);
    expect(new CaiApiSource({ scopes: [ORG, ` ${ORG}`, 'projects/acme-prod'], logger: memoryLogger() }).scopes).toEqual([ORG, 'projects/acme-prod']);
  });
});

describe('asset conversion at the edge', () => {
  it('turns Struct data, timestamps and a policy into the JSON an export holds', () => {
    const asset = {
      name: '//run.googleapis.com/projects/p/locations/r/services/s',
      assetType: 'run.googleapis.com/Service',
      resource: {
        version: 'v2',
        parent: '',
        location: 'r',
        discoveryDocumentUri: '',
        data: {
          fields: {
            uri: { kind: 'stringValue', stringValue: 'https://s.run.app' },
            urls: { kind: 'listValue', listValue: { values: [{ kind: 'stringValue', stringValue: 'https://a' }, { kind: 'nullValue', nullValue: 'NULL_VALUE' }] } },
            invokerIamDisabled: { kind: 'boolValue', boolValue: false },
            generation: { kind: 'numberValue', numberValue: 3 },
            template: { kind: 'structValue', structValue: { fields: { serviceAccount: { stringValue: 'sa@p.iam.gserviceaccount.com' } } } },
          },
        },
      },
      iamPolicy: {
        version: 3,
        etag: Buffer.from([7, 6, 36, 231]),
        bindings: [
          { role: 'roles/run.invoker', members: ['allUsers'], condition: null },
          { role: 'roles/run.admin', members: ['user:a@b.c'], condition: { expression: 'request.time < timestamp("2030-01-01T00:00:00Z")', title: 'until 2030', description: '', location: '' } },
        ],
      },
      ancestors: ['projects/1', 'organizations/2'],
      updateTime: { seconds: '1795934890', nanos: 874_000_000 },
    };
    expect(assetToJson(asset as never)).toEqual({
      name: asset.name,
      assetType: asset.assetType,
      resource: {
        version: 'v2',
        location: 'r',
        data: {
          uri: 'https://s.run.app',
          urls: ['https://a', null],
          invokerIamDisabled: false,
          generation: 3,
          template: { serviceAccount: 'sa@p.iam.gserviceaccount.com' },
        },
      },
      iamPolicy: {
        version: 3,
        etag: 'BwYk5w==',
        bindings: [
          { role: 'roles/run.invoker', members: ['allUsers'] },
          { role: 'roles/run.admin', members: ['user:a@b.c'], condition: { expression: 'request.time < timestamp("2030-01-01T00:00:00Z")', title: 'until 2030' } },
        ],
      },
      ancestors: ['projects/1', 'organizations/2'],
      updateTime: '2026-11-29T06:48:10.874Z',
    });
  });

  it('writes timestamps with 0, 3, 6 or 9 fractional digits and drops unset ones', () => {
    expect(timestampToJson({ seconds: '0', nanos: 0 })).toBeUndefined();
    expect(timestampToJson({ seconds: 1_700_000_000, nanos: 0 })).toBe('2023-11-14T22:13:20Z');
    expect(timestampToJson({ seconds: '1700000000', nanos: 1_000 })).toBe('2023-11-14T22:13:20.000001Z');
    expect(timestampToJson({ seconds: '1700000000', nanos: 5 })).toBe('2023-11-14T22:13:20.000000005Z');
    expect(structToJson(null)).toEqual({});
  });
});

function fakeTimer(): Timer & { slept: number[]; advance(ms: number): void } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('rate limit and retries', () => {
  it('lets a burst through up to the per-minute limit, then waits for the window to slide', async () => {
    const timer = fakeTimer();
    const limiter = new SlidingWindowLimiter(3, 60_000, timer);
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(timer.slept).toEqual([]);
    timer.advance(10_000);
    await limiter.acquire();
    expect(timer.slept).toEqual([50_000]);
    expect(timer.now()).toBe(60_000);
    await limiter.acquire();
    await limiter.acquire();
    expect(timer.now()).toBe(60_000);
    // Three calls started at 60 s: the next may start when the first of them leaves the window.
    await limiter.acquire();
    expect(timer.now()).toBe(120_000);
  });

  it('backs off exponentially with jitter, longer after RESOURCE_EXHAUSTED, within attempts and budget', async () => {
    const timer = fakeTimer();
    const retrier = new Retrier({ maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 250, multiplier: 2, exhaustedDelayMs: 1000, budgetMs: 10_000 }, timer, () => 1);
    let calls = 0;
    const err = (code: number) => Object.assign(new Error('x'), { code });
    await expect(retrier.run(async () => { calls++; throw err(14); })).rejects.toThrow(/4 attempts; attempts exhausted/);
    expect(timer.slept).toEqual([100, 200, 250]);
    expect(calls).toBe(4);

    timer.slept.length = 0;
    const result = await retrier.run(async () => {
      if (timer.slept.length < 1) throw err(8);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(timer.slept).toEqual([1000]);

    await expect(retrier.run(async () => { throw err(7); })).rejects.toBeInstanceOf(RetriesExhaustedError);
    const stingy = new Retrier({ maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, exhaustedDelayMs: 100, budgetMs: 250 }, fakeTimer(), () => 1);
    await expect(stingy.run(async () => { throw err(13); })).rejects.toThrow(/retry budget of the scan spent/);
  });
});
