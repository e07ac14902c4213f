import { describe, expect, it } from 'vitest';
import type { AssetRecord, IamPolicyJson } from '../../src/inventory/asset-record.js';
import { InventoryBuilder, type Inventory } from '../../src/model/inventory.js';
import {
  parseCustomRole, parseFunction, parseJob, parsePolicy, parseRunService, parseServiceAccount, type Parsed,
} from '../../src/model/parse-assets.js';

const ANCESTORS = ['projects/111111111111', 'folders/345678901234', 'organizations/123456789012'];
const PARENT = '//cloudresourcemanager.googleapis.com/projects/111111111111';

function record(name: string, assetType: string, version: string, data: Record<string, unknown>): AssetRecord {
  return { name, assetType, resource: { version, parent: PARENT, location: 'us-central1', data }, ancestors: ANCESTORS, updateTime: '2026-11-20T03:00:00.000000Z', origin: 'sample.ndjson:7' };
}

function jobRecord(id: string, target: Record<string, unknown>, extra: Record<string, unknown> = {}): AssetRecord {
  const name = `projects/acme-prod/locations/us-central1/jobs/${id}`;
  return record(`//cloudscheduler.googleapis.com/${name}`, 'cloudscheduler.googleapis.com/Job', 'v1', {
    name,
    schedule: '0 3 * * *',
    timeZone: 'Etc/UTC',
    state: 'ENABLED',
    userUpdateTime: '2026-10-01T09:00:00Z',
    scheduleTime: '2026-11-30T03:00:00Z',
    attemptDeadline: '180s',
    retryConfig: { maxRetryDuration: '0s', minBackoffDuration: '5s', maxBackoffDuration: '3600s', maxDoublings: 5 },
    ...target,
    ...extra,
  });
}

const RUN_HASH = 'https://reports-def456uvw-uc.a.run.app';
const RUN_DET = 'https://reports-111111111111.us-central1.run.app';

const knativeService = (annotations: Record<string, string>, status: Record<string, unknown> = { url: RUN_HASH, address: { url: RUN_HASH } }): AssetRecord =>
  record('//run.googleapis.com/projects/acme-prod/locations/us-central1/services/reports', 'run.googleapis.com/Service', 'v1', {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'reports', namespace: '111111111111', annotations, labels: { 'cloud.googleapis.com/location': 'us-central1' } },
    spec: { template: { spec: { containers: [{ image: 'us-central1-docker.pkg.dev/acme-prod/apps/reports:latest' }] } } },
    status,
  });

const v2Service = (data: Record<string, unknown>): AssetRecord =>
  record('//run.googleapis.com/projects/acme-prod/locations/us-central1/services/billing', 'run.googleapis.com/Service', 'v2', {
    name: 'projects/acme-prod/locations/us-central1/services/billing',
    uid: '8efdd10756595e9a58dc3d7fee6f53ee',
    launchStage: 'GA',
    template: { serviceAccount: '111111111111-compute@developer.gserviceaccount.com', containers: [{ image: 'us-central1-docker.pkg.dev/acme-prod/apps/billing:latest' }] },
    ...data,
  });

const FN = '//cloudfunctions.googleapis.com/projects/acme-prod/locations/us-central1/functions/nightly-cleanup';
const FN_URL = 'https://us-central1-acme-prod.cloudfunctions.net/nightly-cleanup';
const gen1CloudFunction = (): AssetRecord =>
  record(FN, 'cloudfunctions.googleapis.com/CloudFunction', 'v1', {
    name: 'projects/acme-prod/locations/us-central1/functions/nightly-cleanup',
    httpsTrigger: { url: FN_URL, securityLevel: 'SECURE_ALWAYS' },
    runtime: 'python312',
    entryPoint: 'cleanup',
    status: 'ACTIVE',
    ingressSettings: 'ALLOW_INTERNAL_ONLY',
    serviceAccountEmail: 'acme-prod@appspot.gserviceaccount.com',
  });
const gen1Function = (): AssetRecord =>
  record(FN, 'cloudfunctions.googleapis.com/Function', 'v2', {
    name: 'projects/acme-prod/locations/us-central1/functions/nightly-cleanup',
    environment: 'GEN_1',
    url: FN_URL,
    state: 'ACTIVE',
    buildConfig: { runtime: 'python312', entryPoint: 'cleanup' },
    serviceConfig: { ingressSettings: 'ALLOW_ALL' },
  });
const gen2Function = (data: Record<string, unknown> = {}): AssetRecord =>
  record('//cloudfunctions.googleapis.com/projects/acme-prod/locations/us-central1/functions/sync-crm', 'cloudfunctions.googleapis.com/Function', 'v2', {
    name: 'projects/acme-prod/locations/us-central1/functions/sync-crm',
    environment: 'GEN_2',
    url: 'https://us-central1-acme-prod.cloudfunctions.net/sync-crm',
    state: 'ACTIVE',
    buildConfig: { runtime: 'nodejs22', entryPoint: 'syncCrm' },
    serviceConfig: {
      service: 'projects/acme-prod/locations/us-central1/services/sync-crm',
      uri: 'https://sync-crm-ghi789rst-uc.a.run.app',
      ingressSettings: 'ALLOW_INTERNAL_AND_GCLB',
      serviceAccountEmail: '111111111111-compute@developer.gserviceaccount.com',
    },
    ...data,
  });

function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`expected a value, got: ${parsed.reason}`);
  return parsed.value;
}
function reason<T>(parsed: Parsed<T>): string {
  if (parsed.ok) throw new Error('expected a failure');
  return parsed.reason;
}

function build(records: AssetRecord[]): { inventory: Inventory; problems: string[] } {
  const problems: string[] = [];
  const builder = new InventoryBuilder((p) => problems.push(`${p.origin}: ${p.message}`));
  for (const r of records) builder.add(r);
  return { inventory: builder.finish(), problems };
}

describe('parseJob', () => {
  it('reads an HTTP job with an OIDC token', () => {
    const job = value(parseJob(jobRecord('billing-ok', {
      httpTarget: {
        uri: 'https://billing-abc123xyz-uc.a.run.app/run',
        httpMethod: 'POST',
        headers: { 'Content-Type': 'application/json' },
        oidcToken: { serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com', audience: 'https://billing-abc123xyz-uc.a.run.app' },
      },
    })));
    expect(job).toEqual({
      name: 'projects/acme-prod/locations/us-central1/jobs/billing-ok',
      projectId: 'acme-prod',
      location: 'us-central1',
      jobId: 'billing-ok',
      state: 'ENABLED',
      http: {
        uri: 'https://billing-abc123xyz-uc.a.run.app/run',
        httpMethod: 'POST',
        oidcToken: { serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com', audience: 'https://billing-abc123xyz-uc.a.run.app' },
      },
      ancestors: ANCESTORS,
      updateTime: '2026-11-20T03:00:00.000000Z',
      source: { assetName: '//cloudscheduler.googleapis.com/projects/acme-prod/locations/us-central1/jobs/billing-ok', origin: 'sample.ndjson:7' },
    });
  });

  it('reads an OIDC token without an audience, and an OAuth token with its scope', () => {
    const oidc = value(parseJob(jobRecord('a', { httpTarget: { uri: 'https://x-uc.a.run.app', oidcToken: { serviceAccountEmail: 'sa@acme-prod.iam.gserviceaccount.com' } } })));
    expect(oidc.http!.oidcToken).toEqual({ serviceAccountEmail: 'sa@acme-prod.iam.gserviceaccount.com' });
    const oauth = value(parseJob(jobRecord('b', {
      httpTarget: {
        uri: 'https://run.googleapis.com/v2/projects/acme-prod/locations/us-central1/jobs/etl:run',
        oauthToken: { serviceAccountEmail: 'sa@acme-prod.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/cloud-platform' },
      },
    })));
    expect(oauth.http).toEqual({
      uri: 'https://run.googleapis.com/v2/projects/acme-prod/locations/us-central1/jobs/etl:run',
      oauthToken: { serviceAccountEmail: 'sa@acme-prod.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/cloud-platform' },
    });
  });

  it('reads Pub/Sub and App Engine targets', () => {
    expect(value(parseJob(jobRecord('topic-tick', { pubsubTarget: { topicName: 'projects/acme-prod/topics/ticks', data: 'dGljaw==' } }))).pubsubTopic).toBe(
      'projects/acme-prod/topics/ticks',
    );
    const gae = value(parseJob(jobRecord('gae', { appEngineHttpTarget: { httpMethod: 'POST', relativeUri: '/tasks/cleanup', appEngineRouting: { service: 'worker', version: 'v3' } } })));
    expect(gae.appEngine).toEqual({ relativeUri: '/tasks/cleanup', service: 'worker' });
    expect(gae.http).toBeUndefined();
  });

  it.each([
    [16, 16],
    ['UNAUTHENTICATED', 16],
    [7, 7],
    ['PERMISSION_DENIED', 7],
    ['13', 13],
  ])('reads the last attempt’s status code %j', (code, expected) => {
    const job = value(parseJob(jobRecord('s', { httpTarget: { uri: 'https://x-uc.a.run.app' } }, { status: { code, message: 'refused' }, lastAttemptTime: '2026-11-29T03:00:01Z' })));
    expect(job.lastAttempt).toEqual({ code: expected, message: 'refused', time: '2026-11-29T03:00:01Z' });
  });

  it.each([{ code: 0 }, { code: 'OK' }, {}, { code: 'NOT_A_CODE' }])('keeps no last attempt for status %j', (status) => {
    expect(value(parseJob(jobRecord('s', { httpTarget: { uri: 'https://x-uc.a.run.app' } }, { status }))).lastAttempt).toBeUndefined();
  });

  it('defaults the state and takes the name from the asset when data has none', () => {
    const r = jobRecord('n', { httpTarget: { uri: 'https://x-uc.a.run.app' } });
    delete r.resource!.data!.name;
    delete r.resource!.data!.state;
    const job = value(parseJob(r));
    expect(job.name).toBe('projects/acme-prod/locations/us-central1/jobs/n');
    expect(job.state).toBe('STATE_UNSPECIFIED');
  });

  it('refuses an HTTP target without a URI, naming the job', () => {
    const r = jobRecord('no-uri', { httpTarget: { httpMethod: 'POST', oidcToken: { serviceAccountEmail: 'sa@acme-prod.iam.gserviceaccount.com' } } });
    expect(reason(parseJob(r))).toContain('projects/acme-prod/locations/us-central1/jobs/no-uri');
    const { inventory, problems } = build([r]);
    expect(inventory.jobs).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/^sample\.ndjson:7: .*jobs\/no-uri.*without a URI/)]);
  });

  it('refuses a token without an account, a job without a target, and a bad name', () => {
    expect(reason(parseJob(jobRecord('t', { httpTarget: { uri: 'https://x-uc.a.run.app', oidcToken: { audience: 'https://x' } } })))).toContain('oidcToken has no serviceAccountEmail');
    expect(reason(parseJob(jobRecord('t', { httpTarget: { uri: 'https://x.googleapis.com', oauthToken: {} } })))).toContain('oauthToken has no serviceAccountEmail');
    expect(reason(parseJob(jobRecord('none', {})))).toContain('jobs/none has no target');
    const bad = jobRecord('x', { httpTarget: { uri: 'https://x-uc.a.run.app' } });
    bad.resource!.data!.name = 'jobs/x';
    expect(reason(parseJob(bad))).toContain('"jobs/x"');
  });
});

describe('parseRunService', () => {
  it('reads the v1 Knative shape: status.url, urls, custom audiences and ingress annotations', () => {
    const s = value(parseRunService(knativeService({
      'run.googleapis.com/ingress': 'internal',
      'run.googleapis.com/urls': JSON.stringify([RUN_DET, RUN_HASH]),
      'run.googleapis.com/custom-audiences': JSON.stringify(['https://reports.acme.example']),
    })));
    expect(s).toMatchObject({
      name: 'projects/acme-prod/locations/us-central1/services/reports',
      project: 'acme-prod',
      region: 'us-central1',
      serviceName: 'reports',
      urls: [RUN_HASH, RUN_DET],
      customAudiences: ['https://reports.acme.example'],
      invokerIamDisabled: false,
      ingress: 'internal',
      ancestors: ANCESTORS,
    });
  });

  it('reads a v1 record with only status.url (older exports), or only status.address.url', () => {
    expect(value(parseRunService(knativeService({}))).urls).toEqual([RUN_HASH]);
    expect(value(parseRunService(knativeService({}, { address: { url: RUN_HASH } }))).urls).toEqual([RUN_HASH]);
    expect(value(parseRunService(knativeService({}, {}))).urls).toEqual([]);
  });

  it('reads the v1 invoker-iam-disabled annotation and ignores a malformed JSON annotation', () => {
    const s = value(parseRunService(knativeService({ 'run.googleapis.com/invoker-iam-disabled': 'true', 'run.googleapis.com/custom-audiences': '[not json' })));
    expect(s.invokerIamDisabled).toBe(true);
    expect(s.customAudiences).toEqual([]);
  });

  it('reads the v2 shape: uri, urls, customAudiences, ingress, invokerIamDisabled', () => {
    const s = value(parseRunService(v2Service({
      uri: 'https://billing-abc123xyz-uc.a.run.app',
      urls: ['https://billing-111111111111.us-central1.run.app', 'https://billing-abc123xyz-uc.a.run.app'],
      customAudiences: ['https://billing.acme.example'],
      ingress: 'INGRESS_TRAFFIC_ALL',
      invokerIamDisabled: true,
    })));
    expect(s).toMatchObject({
      name: 'projects/acme-prod/locations/us-central1/services/billing',
      serviceName: 'billing',
      urls: ['https://billing-abc123xyz-uc.a.run.app', 'https://billing-111111111111.us-central1.run.app'],
      customAudiences: ['https://billing.acme.example'],
      ingress: 'INGRESS_TRAFFIC_ALL',
      invokerIamDisabled: true,
    });
  });

  it('reads a v2 record with no URL (default URL disabled)', () => {
    const s = value(parseRunService(v2Service({ defaultUriDisabled: true })));
    expect(s.urls).toEqual([]);
    expect(s.invokerIamDisabled).toBe(false);
  });

  it('refuses a record whose name carries no project, region and service', () => {
    const r = v2Service({});
    r.name = '//run.googleapis.com/services/billing';
    r.resource!.data!.name = 'billing';
    expect(reason(parseRunService(r))).toContain('//run.googleapis.com/services/billing');
  });
});

describe('parseFunction', () => {
  it('reads a 1st gen CloudFunction record', () => {
    expect(value(parseFunction(gen1CloudFunction(), 'v1'))).toMatchObject({
      name: 'projects/acme-prod/locations/us-central1/functions/nightly-cleanup',
      functionName: 'nightly-cleanup',
      generation: 'GEN_1',
      url: FN_URL,
      ingress: 'ALLOW_INTERNAL_ONLY',
    });
  });

  it('reads a 1st gen function from its Function (v2 API) record', () => {
    const f = value(parseFunction(gen1Function(), 'v2'));
    expect(f).toMatchObject({ generation: 'GEN_1', url: FN_URL });
    expect(f.runUri).toBeUndefined();
  });

  it('reads a 2nd gen Function record with its Run service', () => {
    expect(value(parseFunction(gen2Function(), 'v2'))).toMatchObject({
      name: 'projects/acme-prod/locations/us-central1/functions/sync-crm',
      generation: 'GEN_2',
      url: 'https://us-central1-acme-prod.cloudfunctions.net/sync-crm',
      runUri: 'https://sync-crm-ghi789rst-uc.a.run.app',
      runServiceName: 'projects/acme-prod/locations/us-central1/services/sync-crm',
      ingress: 'ALLOW_INTERNAL_AND_GCLB',
    });
  });

  it('tells a 2nd gen function by its Run service when environment is absent', () => {
    const r = gen2Function();
    delete r.resource!.data!.environment;
    expect(value(parseFunction(r, 'v2')).generation).toBe('GEN_2');
  });

  it.each([
    ['CloudFunction first', () => [gen1CloudFunction(), gen1Function()]],
    ['Function first', () => [gen1Function(), gen1CloudFunction()]],
  ])('merges the CloudFunction and Function records of a 1st gen function (%s)', (_, records) => {
    const { inventory, problems } = build(records());
    expect(problems).toEqual([]);
    expect(inventory.functions).toHaveLength(1);
    expect(inventory.functions[0]).toMatchObject({ generation: 'GEN_1', url: FN_URL, ancestors: ANCESTORS });
    expect(inventory.functionByUrl(`${FN_URL}?dry_run=false`)?.name).toBe('projects/acme-prod/locations/us-central1/functions/nightly-cleanup');
  });

  it('keeps the URL of the record that has one', () => {
    const noUrl = gen1Function();
    delete noUrl.resource!.data!.url;
    const { inventory } = build([gen1CloudFunction(), noUrl]);
    expect(inventory.functions[0]!.url).toBe(FN_URL);
  });
});

describe('parseServiceAccount', () => {
  const sa = (data: Record<string, unknown>): AssetRecord =>
    record('//iam.googleapis.com/projects/acme-prod/serviceAccounts/734814516435594985449', 'iam.googleapis.com/ServiceAccount', 'v1', {
      name: 'projects/acme-prod/serviceAccounts/old-sa@acme-prod.iam.gserviceaccount.com',
      projectId: 'acme-prod',
      uniqueId: '734814516435594985449',
      oauth2ClientId: '734814516435594985449',
      displayName: 'old-sa',
      ...data,
    });

  it('reads the email (lower-cased), project and disabled flag', () => {
    expect(value(parseServiceAccount(sa({ email: 'Old-SA@acme-prod.iam.gserviceaccount.com', disabled: true })))).toEqual({
      email: 'old-sa@acme-prod.iam.gserviceaccount.com',
      projectId: 'acme-prod',
      disabled: true,
      source: { assetName: '//iam.googleapis.com/projects/acme-prod/serviceAccounts/734814516435594985449', origin: 'sample.ndjson:7' },
    });
    expect(value(parseServiceAccount(sa({ email: 'a@acme-prod.iam.gserviceaccount.com' }))).disabled).toBe(false);
  });

  it('refuses an account without an email', () => {
    expect(reason(parseServiceAccount(sa({})))).toContain('no email');
  });

  it('is found by email in any case once indexed', () => {
    const { inventory } = build([sa({ email: 'old-sa@acme-prod.iam.gserviceaccount.com' })]);
    expect(inventory.serviceAccount('OLD-SA@acme-prod.iam.gserviceaccount.com')?.projectId).toBe('acme-prod');
    expect(inventory.coversServiceAccountsOf('acme-prod')).toBe(true);
    expect(inventory.coversServiceAccountsOf('acme-data')).toBe(false);
  });
});

describe('parseCustomRole', () => {
  const role = (name: string, data: Record<string, unknown>): AssetRecord =>
    record(`//iam.googleapis.com/${name}`, 'iam.googleapis.com/Role', 'v1', { name, title: 'Scheduler invoker', stage: 'GA', etag: 'BwYkRole=', ...data });

  it('reads organization and project roles with their permissions', () => {
    const r = value(parseCustomRole(role('organizations/123456789012/roles/schedulerInvoker', { includedPermissions: ['run.routes.invoke', 'run.services.get'] })));
    expect(r.name).toBe('organizations/123456789012/roles/schedulerInvoker');
    expect([...r.permissions]).toEqual(['run.routes.invoke', 'run.services.get']);
    expect(r.deleted).toBe(false);
    expect(value(parseCustomRole(role('projects/acme-prod/roles/x', { deleted: true }))).deleted).toBe(true);
    expect(value(parseCustomRole(role('projects/acme-prod/roles/x', {}))).permissions.size).toBe(0);
  });

  it('refuses a predefined role name', () => {
    expect(reason(parseCustomRole(role('roles/run.invoker', {})))).toContain('not a custom role name');
  });
});

describe('parsePolicy', () => {
  const ASSET = '//cloudresourcemanager.googleapis.com/projects/111111111111';

  it('reads bindings and conditions', () => {
    const policy: IamPolicyJson = {
      version: 3,
      etag: 'BwYk2x=',
      bindings: [
        { role: 'roles/owner', members: ['user:platform-lead@acme.example'] },
        { role: 'roles/run.invoker', members: ['serviceAccount:a@acme-prod.iam.gserviceaccount.com'], condition: { title: 'weekdays', expression: 'request.time.getDayOfWeek() < 5' } },
        { role: 'roles/run.invoker', members: ['group:g@acme.example'], condition: { expression: 'resource.name.startsWith("x")' } },
      ],
    };
    const p = value(parsePolicy(policy, 'iam.ndjson:3', ASSET));
    expect(p).toEqual({
      bindings: [
        { role: 'roles/owner', members: ['user:platform-lead@acme.example'] },
        { role: 'roles/run.invoker', members: ['serviceAccount:a@acme-prod.iam.gserviceaccount.com'], condition: 'weekdays' },
        { role: 'roles/run.invoker', members: ['group:g@acme.example'], condition: 'resource.name.startsWith("x")' },
      ],
      origin: 'iam.ndjson:3',
      skippedBindings: 0,
    });
  });

  it('reads an empty policy', () => {
    expect(value(parsePolicy({ etag: 'ACAB' }, 'iam.ndjson:4', ASSET)).bindings).toEqual([]);
  });

  it('drops a malformed binding with a warning naming the asset and the binding index', () => {
    const policy = {
      bindings: [
        { role: 'roles/owner', members: ['user:platform-lead@acme.example'] },
        { role: 'roles/run.invoker', members: 'serviceAccount:a@acme-prod.iam.gserviceaccount.com' },
        { members: ['user:x@acme.example'] },
      ],
    } as unknown as IamPolicyJson;
    const parsed = parsePolicy(policy, 'iam.ndjson:5', ASSET);
    expect(parsed.ok && parsed.warnings).toEqual([
      `IAM policy of ${ASSET}: binding 1 is malformed (needs a role and a list of members); skipped`,
      `IAM policy of ${ASSET}: binding 2 is malformed (needs a role and a list of members); skipped`,
    ]);
    expect(value(parsed)).toMatchObject({ bindings: [{ role: 'roles/owner' }], skippedBindings: 2 });
  });

  it('reports the warning through the builder and keeps the rest of the policy', () => {
    const r: AssetRecord = {
      name: ASSET,
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      iamPolicy: { bindings: [{ role: 'roles/editor', members: ['serviceAccount:a@acme-prod.iam.gserviceaccount.com'] }, null] } as unknown as IamPolicyJson,
      origin: 'iam.ndjson:6',
    };
    const { inventory, problems } = build([r]);
    expect(problems).toEqual([`iam.ndjson:6: IAM policy of ${ASSET}: binding 1 is malformed (needs a role and a list of members); skipped`]);
    expect(inventory.policy(ASSET)).toMatchObject({ bindings: [{ role: 'roles/editor' }], skippedBindings: 1 });
  });

  it('refuses bindings that are not a list', () => {
    expect(reason(parsePolicy({ bindings: {} } as unknown as IamPolicyJson, 'iam.ndjson:7', ASSET))).toContain(ASSET);
  });
});

describe('projects', () => {
  const projectRecord = (data: Record<string, unknown>, name = '//cloudresourcemanager.googleapis.com/projects/111111111111'): AssetRecord => ({
    name,
    assetType: 'cloudresourcemanager.googleapis.com/Project',
    resource: {
      version: 'v1',
      parent: '//cloudresourcemanager.googleapis.com/folders/345678901234',
      data: { lifecycleState: 'ACTIVE', name: 'acme-prod', createTime: '2021-03-02T10:00:00Z', parent: { type: 'folder', id: '345678901234' }, ...data },
    },
    ancestors: ANCESTORS,
    origin: 'resources.ndjson:3',
  });

  it('maps the project id to the number and back', () => {
    const { inventory, problems } = build([projectRecord({ projectNumber: '111111111111', projectId: 'acme-prod' })]);
    expect(problems).toEqual([]);
    expect(inventory.projectNumber('acme-prod')).toBe('111111111111');
    expect(inventory.projectNumber('111111111111')).toBe('111111111111');
    expect(inventory.projectId('111111111111')).toBe('acme-prod');
    expect(inventory.projectId('acme-prod')).toBe('acme-prod');
    expect(inventory.projectNumber('acme-data')).toBeUndefined();
    expect(inventory.projectNumber('222222222222')).toBeUndefined();
    expect(inventory.projectId('222222222222')).toBeUndefined();
  });

  it('accepts a numeric projectNumber, or takes the number from the asset name', () => {
    expect(build([projectRecord({ projectNumber: 111111111111, projectId: 'acme-prod' })]).inventory.projectNumber('acme-prod')).toBe('111111111111');
    expect(build([projectRecord({ projectId: 'acme-prod' })]).inventory.projectNumber('acme-prod')).toBe('111111111111');
  });

  it('reports a project asset without a number', () => {
    const { problems } = build([projectRecord({ projectId: 'acme-prod' }, '//cloudresourcemanager.googleapis.com/projects/acme-prod')]);
    expect(problems).toEqual(['resources.ndjson:3: //cloudresourcemanager.googleapis.com/projects/acme-prod: project asset has no project number']);
  });

  it('resolves a service named by project id through the project number', () => {
    const { inventory } = build([
      projectRecord({ projectNumber: '111111111111', projectId: 'acme-prod' }),
      knativeService({}),
    ]);
    expect(inventory.runServiceByKey('111111111111', 'us-central1', 'reports')?.name).toBe('projects/acme-prod/locations/us-central1/services/reports');
    expect(inventory.runServiceByKey('acme-prod', 'us-central1', 'reports')?.name).toBe('projects/acme-prod/locations/us-central1/services/reports');
  });
});
