import { AssetServiceClient } from '@google-cloud/asset';
import functions from '@google-cloud/functions';
import { Logging } from '@google-cloud/logging';
import { ServicesClient } from '@google-cloud/run';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions, parseHostPort, type GoogleClientOptions } from '../../src/google/client-options.js';
import { parseFault, runFakeGcpCli } from './fake-gcp/cli.js';
import { readSeedDir, startFakeGcp, type FakeGcp } from './fake-gcp/index.js';
import { parseLogFilter } from './fake-gcp/log-filter.js';

const SAMPLE = 'examples/sample-org';
const ORG = 'organizations/123456789012';
const PROD = 'projects/acme-prod/locations/us-central1';
const JOB = `${PROD}/jobs/billing-ok`;
const BILLING = `${PROD}/services/billing`;

let fake: FakeGcp;
let opts: GoogleClientOptions;
/** What the sample organization (`ORG`; the sample's second organization aside) holds, counted from its files, so the tests follow its changes. */
const seeded = { jobs: 0, prodJobs: 0, policies: 0, resources: 0 };
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
const clients: { close(): Promise<void> }[] = [];
function client<T extends { close(): Promise<void> }>(c: T): T {
  clients.push(c);
  return c;
}

beforeAll(async () => {
  // Any attempt to find Google credentials would now fail: the fake must never need them.
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
  fake = await startFakeGcp({ seedDir: SAMPLE });
  opts = googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address });
  const { records } = await readSeedDir(SAMPLE);
  const inOrg = records.filter((r) => r.ancestors?.includes(ORG));
  const distinct = (keep: (r: (typeof records)[number]) => boolean) => new Set(inOrg.filter(keep).map((r) => `${r.assetType} ${r.name}`)).size;
  seeded.jobs = distinct((r) => r.assetType === 'cloudscheduler.googleapis.com/Job');
  seeded.prodJobs = distinct((r) => r.assetType === 'cloudscheduler.googleapis.com/Job' && r.name.includes(`/${PROD}/`));
  seeded.policies = distinct((r) => r.iamPolicy !== undefined);
  seeded.resources = distinct((r) => r.resource !== undefined);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await fake.stop();
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});

async function grpcError(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; details: string };
  }
  throw new Error('expected the call to fail');
}

describe('client options', () => {
  it('are empty in production and point at HOST:PORT without TLS or Google auth otherwise', () => {
    expect(googleClientOptions({})).toEqual({});
    expect(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: '  ' })).toEqual({});
    const o = googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: '127.0.0.1:8085' });
    expect(o).toMatchObject({ apiEndpoint: '127.0.0.1', port: 8085, universeDomain: 'googleapis.com' });
    expect(o.sslCreds?._isSecure()).toBe(false);
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseHostPort('fake-gcp:443')).toEqual({ host: 'fake-gcp', port: 443 });
    for (const bad of ['127.0.0.1', ':80', 'host:0', 'host:70000', 'http://host:80', 'a:b:80']) {
      expect(() => parseHostPort(bad), bad).toThrow(ConfigurationError);
    }
  });
});

describe('fake Cloud Asset API', () => {
  it('pages with tokens and filters by asset type regex and content type', async () => {
    const asset = client(new AssetServiceClient(opts));
    const pages: number[] = [];
    let pageToken = '';
    const names: string[] = [];
    do {
      const [assets, , response] = await asset.listAssets(
        { parent: ORG, assetTypes: ['cloudscheduler.googleapis.com.*'], contentType: 'RESOURCE', pageSize: 10, pageToken },
        { autoPaginate: false },
      );
      pages.push(assets.length);
      names.push(...assets.map((a) => a.name!));
      expect(assets.every((a) => a.assetType === 'cloudscheduler.googleapis.com/Job' && a.resource?.data && !a.iamPolicy)).toBe(true);
      pageToken = response?.nextPageToken ?? '';
    } while (pageToken);
    expect(seeded.jobs).toBeGreaterThan(20);
    expect(pages.slice(0, -1).every((n) => n === 10)).toBe(true);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(seeded.jobs);
    expect(new Set(names).size).toBe(seeded.jobs);

    const [policies] = await asset.listAssets({ parent: ORG, contentType: 'IAM_POLICY', pageSize: 1000 }, { autoPaginate: false });
    expect(policies).toHaveLength(seeded.policies);
    expect(policies.every((a) => a.iamPolicy && !a.resource)).toBe(true);
    expect(policies.find((a) => a.assetType === 'cloudfunctions.googleapis.com/CloudFunction')?.iamPolicy?.bindings?.[0]?.role).toBe('roles/cloudfunctions.invoker');

    const [legacy] = await asset.listAssets({ parent: 'projects/acme-legacy', assetTypes: ['.*Job', '.*Project'], contentType: 'RESOURCE' }, { autoPaginate: false });
    expect(legacy.map((a) => a.assetType).sort()).toEqual(['cloudresourcemanager.googleapis.com/Project', 'cloudscheduler.googleapis.com/Job']);
    expect(legacy[0]!.ancestors).toEqual(['projects/333333333333', ORG]);
    const [names2] = await asset.listAssets({ parent: 'projects/333333333333' }, { autoPaginate: false });
    expect(names2.every((a) => !a.resource && !a.iamPolicy)).toBe(true);
  });

  it('answers like Google to bad requests: scopes it cannot see, stale read times, foreign page tokens, bad regexes', async () => {
    const asset = client(new AssetServiceClient(opts));
    const noRetry = { autoPaginate: false, retry: null };
    expect((await grpcError(asset.listAssets({ parent: 'organizations/999' }, noRetry))).code).toBe(7);
    expect((await grpcError(asset.listAssets({ parent: 'projects/someone-else' }, noRetry))).code).toBe(7);
    const old = Math.floor(Date.now() / 1000) - 40 * 86_400;
    expect((await grpcError(asset.listAssets({ parent: ORG, readTime: { seconds: old } }, noRetry))).code).toBe(3);
    const [, , first] = await asset.listAssets({ parent: ORG, contentType: 'RESOURCE', pageSize: 2 }, noRetry);
    const token = first!.nextPageToken!;
    expect((await grpcError(asset.listAssets({ parent: ORG, contentType: 'IAM_POLICY', pageSize: 2, pageToken: token }, noRetry))).code).toBe(3);
    expect((await grpcError(asset.listAssets({ parent: ORG, assetTypes: ['run.googleapis.com/(Service'] }, noRetry))).code).toBe(3);
    const recent = Math.floor(Date.now() / 1000) - 3600;
    const [ok] = await asset.listAssets({ parent: ORG, contentType: 'RESOURCE', readTime: { seconds: recent } }, noRetry);
    expect(ok.length).toBe(Math.min(100, seeded.resources));
  });
});

describe('fake Cloud Scheduler', () => {
  it('gets, lists and updates jobs; an update shows in the next listing', async () => {
    const scheduler = client(new CloudSchedulerClient(opts));
    const [job] = await scheduler.getJob({ name: JOB });
    expect(job.httpTarget?.oidcToken?.serviceAccountEmail).toBe('scheduler-invoker@acme-prod.iam.gserviceaccount.com');
    expect(job.state).toBe('ENABLED');
    expect((await grpcError(scheduler.getJob({ name: `${PROD}/jobs/nope` }))).code).toBe(5);
    // Google's project number names the same job as its id.
    const [byNumber] = await scheduler.getJob({ name: 'projects/111111111111/locations/us-central1/jobs/billing-ok' });
    expect(byNumber.name).toBe(JOB);

    expect(seeded.prodJobs).toBeGreaterThan(10);
    const [page, next] = await scheduler.listJobs({ parent: PROD, pageSize: 10 }, { autoPaginate: false });
    expect(page).toHaveLength(10);
    const [rest] = await scheduler.listJobs(next!);
    expect(page.length + rest.length).toBe(seeded.prodJobs);
    const [all] = await scheduler.listJobs({ parent: 'projects/acme-data/locations/europe-west1' });
    expect(all.map((j) => j.name)).toEqual([
      'projects/acme-data/locations/europe-west1/jobs/export-custom-role',
      'projects/acme-data/locations/europe-west1/jobs/export-group-not-member',
      'projects/acme-data/locations/europe-west1/jobs/export-group-only',
      'projects/acme-data/locations/europe-west1/jobs/ledger-deterministic-url',
      'projects/acme-data/locations/europe-west1/jobs/ledger-foreign-account',
    ]);

    const audience = 'https://billing-abc123xyz-uc.a.run.app/';
    const [updated] = await scheduler.updateJob({
      job: { name: JOB, httpTarget: { ...job.httpTarget, oidcToken: { serviceAccountEmail: 'other@acme-prod.iam.gserviceaccount.com', audience } }, state: 'PAUSED' },
      updateMask: { paths: ['http_target.oidc_token'] },
    });
    expect(updated.httpTarget?.oidcToken).toEqual({ serviceAccountEmail: 'other@acme-prod.iam.gserviceaccount.com', audience });
    expect(updated.httpTarget?.uri).toBe(job.httpTarget?.uri);
    expect(updated.state).toBe('ENABLED');
    expect(Number(updated.userUpdateTime?.seconds)).toBeGreaterThan(Date.now() / 1000 - 60);

    // The oauth_token/oidc_token oneof: setting one clears the other.
    const [oauth] = await scheduler.updateJob({
      job: { name: JOB, httpTarget: { oauthToken: { serviceAccountEmail: 'other@acme-prod.iam.gserviceaccount.com' } } },
      updateMask: { paths: ['http_target.oauth_token'] },
    });
    expect(oauth.httpTarget?.oauthToken?.serviceAccountEmail).toBe('other@acme-prod.iam.gserviceaccount.com');
    expect(oauth.httpTarget?.oidcToken ?? null).toBeNull();
    expect((await grpcError(scheduler.updateJob({ job: { name: JOB }, updateMask: { paths: ['http_target.nonsense'] } }))).code).toBe(3);
    expect((await grpcError(scheduler.updateJob({ job: { name: `${PROD}/jobs/nope` }, updateMask: { paths: ['schedule'] } }))).code).toBe(5);

    const asset = client(new AssetServiceClient(opts));
    const [listed] = await asset.listAssets({ parent: 'projects/acme-prod', assetTypes: ['cloudscheduler.googleapis.com/Job'], contentType: 'RESOURCE' }, { autoPaginate: false });
    const seen = listed.find((a) => a.name === `//cloudscheduler.googleapis.com/${JOB}`);
    expect(seen?.resource?.data?.fields?.httpTarget?.structValue?.fields?.oauthToken).toBeDefined();

    await scheduler.updateJob({ job: { name: JOB, httpTarget: job.httpTarget }, updateMask: { paths: ['http_target'] } });
    const [restored] = await scheduler.getJob({ name: JOB });
    expect(restored.httpTarget).toEqual(job.httpTarget);
  });
});

describe('fake Cloud Run and Cloud Functions', () => {
  it('gets services in the v2 shape, whichever shape the inventory held', async () => {
    const run = client(new ServicesClient(opts));
    const [v2] = await run.getService({ name: BILLING });
    expect(v2.uri).toBe('https://billing-abc123xyz-uc.a.run.app');
    expect(v2.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    const [knative] = await run.getService({ name: `${PROD}/services/reports` });
    expect(knative.customAudiences).toEqual(['https://reports.acme.example']);
    expect(knative.urls).toContain('https://reports-111111111111.us-central1.run.app');
    expect((await grpcError(run.getService({ name: `${PROD}/services/nope` }))).code).toBe(5);
  });

  it('reads and writes Run IAM policies with etags: a stale etag is ABORTED', async () => {
    const run = client(new ServicesClient(opts));
    const [policy] = await run.getIamPolicy({ resource: BILLING });
    expect(policy.bindings?.map((b) => b.role)).toEqual(['roles/run.invoker']);
    const grant = { role: 'roles/run.invoker', members: ['serviceAccount:new@acme-prod.iam.gserviceaccount.com'] };
    const [written] = await run.setIamPolicy({ resource: BILLING, policy: { ...policy, bindings: [...policy.bindings!, grant] } });
    expect(Buffer.from(written.etag as Uint8Array).equals(Buffer.from(policy.etag as Uint8Array))).toBe(false);
    const stale = await grpcError(run.setIamPolicy({ resource: BILLING, policy }));
    expect(stale.code).toBe(10);
    const [reread] = await run.getIamPolicy({ resource: BILLING });
    expect(reread.bindings).toHaveLength(2);
    // The change is visible to the next inventory listing too.
    const asset = client(new AssetServiceClient(opts));
    const [listed] = await asset.listAssets({ parent: 'projects/acme-prod', assetTypes: ['run.googleapis.com/Service'], contentType: 'IAM_POLICY' }, { autoPaginate: false });
    expect(listed.find((a) => a.name === `//run.googleapis.com/${BILLING}`)?.iamPolicy?.bindings).toHaveLength(2);
    await run.setIamPolicy({ resource: BILLING, policy: { bindings: policy.bindings, etag: reread.etag } });
    expect((await grpcError(run.getIamPolicy({ resource: `${PROD}/services/nope` }))).code).toBe(5);
  });

  it('serves Functions v1 and v2 (v2 IAM through the google.iam.v1 mixin, as a tuple)', async () => {
    // The mixin's declared types want protobuf class instances and a bare policy; at run time it
    // takes plain objects and resolves to a tuple (GCP-FACTS §6), hence the casts.
    const v1 = client(new functions.v1.CloudFunctionsServiceClient(opts));
    const v2 = client(new functions.v2.FunctionServiceClient(opts));
    const [gen1] = await v1.getFunction({ name: `${PROD}/functions/nightly-cleanup` });
    expect(gen1.httpsTrigger?.url).toBe('https://us-central1-acme-prod.cloudfunctions.net/nightly-cleanup');
    const [gen2] = await v2.getFunction({ name: `${PROD}/functions/sync-crm` });
    expect(gen2.environment).toBe('GEN_2');
    expect(gen2.serviceConfig?.uri).toBe('https://sync-crm-ghi789rst-uc.a.run.app');
    expect((await grpcError(v1.getFunction({ name: `${PROD}/functions/sync-crm` }))).code).toBe(5);
    expect((await grpcError(v2.getFunction({ name: `${PROD}/functions/nope` }))).code).toBe(5);

    const [p1] = await v1.getIamPolicy({ resource: gen1.name! });
    expect(p1.bindings?.[0]?.role).toBe('roles/cloudfunctions.invoker');
    const [p2] = (await v2.getIamPolicy({ resource: gen2.name! } as never)) as unknown as [{ bindings: { role: string }[]; etag: Uint8Array }];
    expect(p2.bindings[0]?.role).toBe('roles/cloudfunctions.invoker');
    const [set2] = (await v2.setIamPolicy({ resource: gen2.name!, policy: { bindings: [], etag: p2.etag } } as never)) as unknown as [{ bindings: unknown[] }];
    expect(set2.bindings).toEqual([]);
    // v1 and v2 show one function's one policy: a gen1 function's policy changes through either.
    const [viaV2] = (await v2.getIamPolicy({ resource: gen1.name! } as never)) as unknown as [{ etag: Uint8Array }];
    expect(Buffer.from(viaV2.etag).equals(Buffer.from(p1.etag as Uint8Array))).toBe(true);
    const [viaV1] = await v1.setIamPolicy({ resource: gen1.name!, policy: { bindings: p1.bindings, etag: viaV2.etag } });
    expect(viaV1.bindings).toHaveLength(1);
  });
});

describe('fake Cloud Logging', () => {
  it('stores written entries and lists them by resource name and filter', async () => {
    const logging = new Logging({ projectId: 'acme-prod', ...opts });
    const log = logging.log('cloudscheduler.googleapis.com%2Fexecutions');
    const resource = { type: 'cloud_scheduler_job', labels: { project_id: 'acme-prod', location: 'us-central1', job_id: 'billing-ok' } };
    const finished = (status: number) =>
      log.entry(
        // getEntries adds `timestamp >= 24 hours ago` to a filter without a timestamp, as Google's client does.
        { resource, severity: status === 200 ? 'INFO' : 'ERROR', httpRequest: { status }, timestamp: new Date(Date.now() - 60_000 * (500 - status)) },
        { '@type': 'type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished', jobName: JOB, ...(status === 200 ? {} : { status: 'UNAUTHENTICATED' }) },
      );
    // A resource in the write options keeps the client from probing for the platform it runs on.
    await log.write([finished(200), finished(401), finished(403)], { resource });
    const filter =
      'resource.type="cloud_scheduler_job" log_id("cloudscheduler.googleapis.com/executions") ' +
      'jsonPayload."@type"="type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished" ' +
      '(httpRequest.status=401 OR httpRequest.status=403 OR jsonPayload.status="UNAUTHENTICATED")';
    const [entries] = await logging.getEntries({ resourceNames: ['projects/acme-prod'], filter, orderBy: 'timestamp desc', autoPaginate: false });
    expect(entries.map((e) => (e.metadata.httpRequest as { status: number }).status)).toEqual([403, 401]);
    expect(entries[0]!.data).toMatchObject({ jobName: JOB, status: 'UNAUTHENTICATED' });
    const [elsewhere] = await logging.getEntries({ resourceNames: ['projects/acme-data'], filter, autoPaginate: false });
    expect(elsewhere).toHaveLength(0);
    expect((await grpcError(logging.getEntries({ resourceNames: ['projects/acme-prod'], filter: 'severity>=(', autoPaginate: false }))).code).toBe(3);
  });

  it('reads the filter subset a scanner writes', () => {
    const entry = { logName: 'projects/p/logs/cloudscheduler.googleapis.com%2Fexecutions', severity: 'ERROR', httpRequest: { status: 401 }, timestamp: '2026-11-20T03:00:00Z', jsonPayload: { '@type': 'x', msg: 'Token Expired' } };
    const yes = ['severity>=WARNING', 'httpRequest.status>=400', 'NOT httpRequest.status=200', 'timestamp>="2026-11-19T00:00:00Z"', 'jsonPayload.msg:"expired"', 'log_id("cloudscheduler.googleapis.com/executions")', 'a=1 OR severity=ERROR', '(severity=INFO OR severity=ERROR) AND jsonPayload."@type"="x"'];
    const no = ['severity<ERROR', 'httpRequest.status!=401', 'jsonPayload.missing="y"', 'severity=ERROR -httpRequest.status=401'.replace('-', 'NOT ')];
    for (const f of yes) expect(parseLogFilter(f)(entry), f).toBe(true);
    for (const f of no) expect(parseLogFilter(f)(entry), f).toBe(false);
    expect(() => parseLogFilter('a=')).toThrow();
  });
});

describe('fake server machinery', () => {
  it('counts calls per method, injects latency and errors, and never sees an authorization header', async () => {
    const own = await startFakeGcp({ seedDir: SAMPLE, latencyMs: { 'scheduler.GetJob': 150 } });
    try {
      const o = googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: own.address });
      const scheduler = client(new CloudSchedulerClient(o));
      const run = client(new ServicesClient(o));
      const started = Date.now();
      await scheduler.getJob({ name: JOB });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      own.setFaults([{ method: 'run.GetService', code: 'UNAVAILABLE', calls: [1] }, { method: 'GetIamPolicy', code: 'PERMISSION_DENIED', scope: 'projects/acme-prod' }]);
      // gax retries UNAVAILABLE on GetService by itself: two calls, one answer.
      await run.getService({ name: BILLING });
      expect((await grpcError(run.getIamPolicy({ resource: BILLING }))).code).toBe(7);
      expect(own.counters.snapshot()).toEqual({ 'run.GetIamPolicy': 1, 'run.GetService': 2, 'scheduler.GetJob': 1 });
      expect(own.counters.get('GetIamPolicy')).toBe(1);
      expect(own.counters.total()).toBe(4);
      expect(own.requests.map((r) => r.code)).toEqual([0, 14, 0, 7]);
      expect(own.requests.some((r) => r.authorization)).toBe(false);
    } finally {
      await own.stop();
    }
  });

  it('starts from the command line with a seed, a port and faults', async () => {
    const lines: string[] = [];
    const started = await runFakeGcpCli(['--seed', SAMPLE, '--port', '0', '--fault', 'ListAssets=UNAVAILABLE@0.5'], (l) => lines.push(l));
    try {
      expect(lines[1]).toBe(`CRONWARDEN_GOOGLE_API_ENDPOINT=${started.address}`);
      expect(started.store.size()).toBe(fake.store.size());
    } finally {
      await started.stop();
    }
    expect(parseFault('asset.ListAssets=PERMISSION_DENIED')).toEqual({ method: 'asset.ListAssets', code: 'PERMISSION_DENIED' });
    expect(parseFault('ListAssets=PERMISSION_DENIED@1#projects/acme-data')).toEqual({ method: 'ListAssets', code: 'PERMISSION_DENIED', rate: 1, scope: 'projects/acme-data' });
    await expect(runFakeGcpCli([])).rejects.toThrow(/usage/);
  });
});
