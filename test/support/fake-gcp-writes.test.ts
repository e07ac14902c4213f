import functions from '@google-cloud/functions';
import { ServicesClient } from '@google-cloud/run';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions } from '../../src/google/client-options.js';
import { startFakeGcp, type FakeGcp } from './fake-gcp/index.js';

const PROD = 'projects/acme-prod/locations/us-central1';
const JOB = `${PROD}/jobs/billing-ok`;
const SERVICE = `${PROD}/services/billing`;
const CONDITIONAL = `${PROD}/services/conditional`;
const SA = 'scheduler-invoker@acme-prod.iam.gserviceaccount.com';

let fake: FakeGcp;
let strict: FakeGcp;
const closers: { close(): Promise<void> }[] = [];
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
const opts = (f: FakeGcp) => googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: f.address });
function client<T extends { close(): Promise<void> }>(c: T): T {
  closers.push(c);
  return c;
}

/** A service with a conditional binding and a deleted member, seeded beside the sample organization. */
const seededPolicy = {
  name: `//run.googleapis.com/${CONDITIONAL}`,
  asset_type: 'run.googleapis.com/Service',
  resource: { version: 'v2', data: { name: CONDITIONAL, uri: 'https://conditional-abc-uc.a.run.app' } },
  iam_policy: {
    version: 3,
    etag: 'BwYAAAAAAAA=',
    bindings: [
      { role: 'roles/run.invoker', members: [`serviceAccount:${SA}`], condition: { title: 'weekdays', expression: 'request.time.getDayOfWeek("UTC") < 5' } },
      { role: 'roles/run.viewer', members: ['deleted:serviceAccount:gone@acme-prod.iam.gserviceaccount.com?uid=111222333444555666777'] },
    ],
  },
  ancestors: ['projects/100000000001', 'organizations/123456789012'],
};

beforeAll(async () => {
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
  fake = await startFakeGcp({ seedDir: 'examples/sample-org', records: [seededPolicy] });
  strict = await startFakeGcp({ seedDir: 'examples/sample-org', records: [seededPolicy], strict: true, actAs: [SA] });
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
  await Promise.all([fake.stop(), strict.stop()]);
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});

async function refused(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; details: string };
  }
  throw new Error('expected the call to be refused');
}

describe('fake UpdateJob: the mask', () => {
  it('takes proto field paths and refuses JSON camelCase, oneof names and unknown fields', async () => {
    const s = client(new CloudSchedulerClient(opts(fake)));
    const job = { name: JOB, httpTarget: { oidcToken: { serviceAccountEmail: SA, audience: 'https://billing-abc123xyz-uc.a.run.app' } } };
    for (const [path, why] of [
      ['httpTarget.oidcToken', 'JSON name'],
      ['http_target.oidcToken.audience', 'JSON name'],
      ['target', 'oneof'],
      ['http_target.authorization_header', 'oneof'],
      ['http_target.nonsense', 'not a field'],
      ['*,schedule', 'only path'],
    ] as const) {
      const err = await refused(s.updateJob({ job, updateMask: { paths: path.split(',') } }));
      expect([path, err.code]).toEqual([path, 3]);
      expect(err.details).toContain(why);
    }
    const [ok] = await s.updateJob({ job, updateMask: { paths: ['http_target.oidc_token.audience'] } });
    expect(ok.httpTarget?.oidcToken?.audience).toBe('https://billing-abc123xyz-uc.a.run.app');
  });

  it('merges a sub-message at the end of a path, and replaces the whole job for "*"', async () => {
    const s = client(new CloudSchedulerClient(opts(fake)));
    const [before] = await s.getJob({ name: JOB });
    const [merged] = await s.updateJob({ job: { name: JOB, httpTarget: { oidcToken: { audience: 'https://billing-abc123xyz-uc.a.run.app/' } } }, updateMask: { paths: ['http_target.oidc_token'] } });
    // The account was not in the request: a merge keeps it; a replacement would have dropped it.
    expect(merged.httpTarget?.oidcToken?.serviceAccountEmail).toBe(before.httpTarget?.oidcToken?.serviceAccountEmail);
    expect(merged.httpTarget?.uri).toBe(before.httpTarget?.uri);
    const [replaced] = await s.updateJob({ job: { ...before, description: 'replaced' }, updateMask: { paths: ['*'] } });
    expect(replaced.description).toBe('replaced');
    expect(replaced.httpTarget).toEqual(before.httpTarget);
  });

  it('in strict mode refuses an update without a mask', async () => {
    const s = client(new CloudSchedulerClient(opts(strict)));
    const err = await refused(s.updateJob({ job: { name: JOB, description: 'x' } }));
    expect(err.code).toBe(3);
    expect(err.details).toContain('update_mask is required');
  });
});

describe('fake UpdateJob: the resulting job', () => {
  it('is validated as job.proto and target.proto require, and a refused update changes nothing', async () => {
    const s = client(new CloudSchedulerClient(opts(fake)));
    const [before] = await s.getJob({ name: JOB });
    const cases: [Record<string, unknown>, string[], string][] = [
      [{ schedule: '' }, ['schedule'], 'schedule is required'],
      [{ timeZone: 'Mars/Olympus' }, ['time_zone'], 'tz database'],
      [{ httpTarget: { uri: 'ftp://example.com/x' } }, ['http_target.uri'], 'http:// or https://'],
      [{ httpTarget: { httpMethod: 'GET', body: Buffer.from('x') } }, ['http_target.http_method', 'http_target.body'], 'body is allowed only'],
      [{ attemptDeadline: { seconds: 5 } }, ['attempt_deadline'], '15 seconds and 30 minutes'],
      [{ httpTarget: { oidcToken: { serviceAccountEmail: 'x@other-project.iam.gserviceaccount.com' } } }, ['http_target.oidc_token.service_account_email'], 'same project'],
    ];
    for (const [fields, paths, why] of cases) {
      const err = await refused(s.updateJob({ job: { name: JOB, ...fields }, updateMask: { paths } }));
      expect([paths.join(), err.code, err.details.includes(why)]).toEqual([paths.join(), 3, true]);
    }
    const [after] = await s.getJob({ name: JOB });
    expect(after).toEqual(before);
  });

  it('answers PERMISSION_DENIED naming actAs for an account the caller may not act as', async () => {
    const s = client(new CloudSchedulerClient(opts(strict)));
    const other = 'reports-sa@acme-prod.iam.gserviceaccount.com';
    const err = await refused(s.updateJob({ job: { name: JOB, httpTarget: { oidcToken: { serviceAccountEmail: other } } }, updateMask: { paths: ['http_target.oidc_token.service_account_email'] } }));
    expect(err.code).toBe(7);
    expect(err.details).toContain(`iam.serviceAccounts.actAs" for the resource "projects/-/serviceAccounts/${other}"`);
    // Fields other than the token need no actAs.
    await s.updateJob({ job: { name: JOB, description: 'fine' }, updateMask: { paths: ['description'] } });
  });

  it('can fail an update mid-way, leaving the job UPDATE_FAILED until an update succeeds', async () => {
    const s = client(new CloudSchedulerClient(opts(fake)));
    fake.scheduler.failUpdates(JOB, 1);
    const job = { name: JOB, description: 'after failure' };
    expect((await refused(s.updateJob({ job, updateMask: { paths: ['description'] } }))).code).toBe(4);
    const [stuck] = await s.getJob({ name: JOB });
    expect(stuck.state).toBe('UPDATE_FAILED');
    expect(stuck.description).not.toBe('after failure');
    const [fixed] = await s.updateJob({ job, updateMask: { paths: ['description'] } });
    expect([fixed.state, fixed.description]).toEqual(['ENABLED', 'after failure']);
  });
});

describe('fake IAM policies', () => {
  it('shows conditional bindings only to a version 3 read; others see _withcond_ roles', async () => {
    const run = client(new ServicesClient(opts(fake)));
    const [v3] = await run.getIamPolicy({ resource: CONDITIONAL, options: { requestedPolicyVersion: 3 } });
    expect(v3.version).toBe(3);
    expect(v3.bindings?.find((b) => b.role === 'roles/run.invoker')?.condition?.title).toBe('weekdays');
    const [v1] = await run.getIamPolicy({ resource: CONDITIONAL });
    expect(v1.version).toBe(1);
    expect(v1.bindings?.map((b) => b.role)).toEqual([expect.stringMatching(/^roles\/run\.invoker_withcond_[0-9a-f]+$/), 'roles/run.viewer']);
    expect(v1.bindings?.every((b) => !b.condition)).toBe(true);
    expect(v3.bindings?.find((b) => b.role === 'roles/run.viewer')?.members).toEqual(['deleted:serviceAccount:gone@acme-prod.iam.gserviceaccount.com?uid=111222333444555666777']);
    // Writing back what a version 1 read showed is refused: the condition would be lost.
    expect((await refused(run.setIamPolicy({ resource: CONDITIONAL, policy: v1 }))).details).toContain('_withcond_');
    expect((await refused(run.getIamPolicy({ resource: CONDITIONAL, options: { requestedPolicyVersion: 2 } }))).code).toBe(3);
  });

  it('accepts versions 0, 1 and 3 only, conditions only at 3, and members in a valid format', async () => {
    const run = client(new ServicesClient(opts(fake)));
    const [policy] = await run.getIamPolicy({ resource: CONDITIONAL, options: { requestedPolicyVersion: 3 } });
    const bad: [Record<string, unknown>, string][] = [
      [{ version: 2 }, 'version 2'],
      [{ version: 1 }, 'conditions need policy version 3'],
      [{ bindings: [...policy.bindings!, { role: 'roles/run.invoker', members: ['bob@example.com'] }] }, 'Invalid member'],
      [{ bindings: [...policy.bindings!, { role: 'roles/run.invoker', members: [] }] }, 'no members'],
      [{ bindings: [...policy.bindings!, { role: 'run.invoker', members: ['user:bob@example.com'] }] }, 'Invalid role'],
    ];
    for (const [change, why] of bad) {
      const err = await refused(run.setIamPolicy({ resource: CONDITIONAL, policy: { ...policy, ...change } }));
      expect([why, err.code, err.details.includes(why)]).toEqual([why, 3, true]);
    }
  });

  it('in strict mode refuses a write without an etag; a stale etag is ABORTED', async () => {
    const run = client(new ServicesClient(opts(strict)));
    const [policy] = await run.getIamPolicy({ resource: SERVICE, options: { requestedPolicyVersion: 3 } });
    const err = await refused(run.setIamPolicy({ resource: SERVICE, policy: { ...policy, etag: Buffer.alloc(0) } }));
    expect([err.code, err.details.includes('etag is required')]).toEqual([3, true]);
    await run.setIamPolicy({ resource: SERVICE, policy });
    expect((await refused(run.setIamPolicy({ resource: SERVICE, policy }))).code).toBe(10);
  });

  it('honours update_mask: audit configs stay unless the mask names them', async () => {
    const fns = client(new functions.v1.CloudFunctionsServiceClient(opts(fake)));
    const fn = `${PROD}/functions/nightly-cleanup`;
    const [p0] = await fns.getIamPolicy({ resource: fn, options: { requestedPolicyVersion: 3 } });
    const audit = [{ service: 'allServices', auditLogConfigs: [{ logType: 'ADMIN_READ' as const }] }];
    const [p1] = await fns.setIamPolicy({ resource: fn, policy: { ...p0, auditConfigs: audit }, updateMask: { paths: ['bindings', 'etag', 'audit_configs'] } });
    expect(p1.auditConfigs).toHaveLength(1);
    const [p2] = await fns.setIamPolicy({ resource: fn, policy: { ...p1, auditConfigs: [] } });
    expect(p2.auditConfigs).toHaveLength(1); // default mask: bindings, etag
    expect((await refused(fns.setIamPolicy({ resource: fn, policy: p2, updateMask: { paths: ['bindingz'] } }))).code).toBe(3);
  });
});

describe('fake errors per AIP-211, with a per-caller permission map', () => {
  it('answers PERMISSION_DENIED for what the caller may not read, existing or not; NOT_FOUND only where it may', async () => {
    const f = await startFakeGcp({
      seedDir: 'examples/sample-org',
      permissions: {
        auditor: [{ permission: 'cloudscheduler.jobs.get', resource: 'projects/acme-prod' }, { permission: 'run.services.getIamPolicy', resource: '*' }],
        outsider: [],
      },
    });
    const s = new CloudSchedulerClient(opts(f));
    const run = new ServicesClient(opts(f));
    try {
      f.setCaller('auditor');
      await s.getJob({ name: JOB });
      expect((await refused(s.getJob({ name: `${PROD}/jobs/no-such-job` }))).code).toBe(5);
      const other = 'projects/acme-dev/locations/us-central1/jobs/whatever';
      const denied = await refused(s.getJob({ name: other }));
      expect([denied.code, denied.details]).toEqual([7, `Permission 'cloudscheduler.jobs.get' denied on resource '${other}' (or it may not exist).`]);
      expect((await refused(s.updateJob({ job: { name: JOB, description: 'x' }, updateMask: { paths: ['description'] } }))).code).toBe(7);
      await run.getIamPolicy({ resource: SERVICE });
      expect((await refused(run.setIamPolicy({ resource: SERVICE, policy: { bindings: [] } }))).details).toContain("'run.services.setIamPolicy'");
      f.setCaller('outsider');
      expect((await refused(s.getJob({ name: JOB }))).code).toBe(7);
      expect((await refused(s.getJob({ name: `${PROD}/jobs/no-such-job` }))).code).toBe(7);
      f.setCaller('anyone-else'); // not in the map: may do everything
      await s.getJob({ name: JOB });
    } finally {
      await Promise.all([s.close(), run.close()]);
      await f.stop();
    }
  });
});
