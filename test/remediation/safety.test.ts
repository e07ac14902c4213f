import { ServicesClient } from '@google-cloud/run';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { planFromScan } from '../../src/cli/fix-command.js';
import { googleClientOptions, GOOGLE_API_ENDPOINT_ENV } from '../../src/google/client-options.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { executeItems, planItems, undoItems } from '../../src/remediation/execute.js';
import { googleRemediationApis, type RemediationApis } from '../../src/remediation/google-apis.js';
import { PlanSchema, type Plan } from '../../src/remediation/plan-schema.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

const FAST = { attempts: 4, baseMs: 5, maxMs: 20 };
let plan: Plan;
let fake: FakeGcp;
let apis: RemediationApis;
const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;

beforeAll(async () => {
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/credentials.json';
  plan = (await planFromScan({ source: new FileAssetSource(SAMPLE_FILES), rules: allRules, logger: memoryLogger(), fix: { invokerAccounts: [] } })).plan;
});
afterAll(() => {
  if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
});
beforeEach(async () => {
  fake = await startFakeGcp({ seedDir: 'examples/sample-org', strict: true });
  apis = await googleRemediationApis(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address }));
});
afterEach(async () => {
  await apis.close();
  await fake.stop();
});

const only = (pred: (e: Plan['changes'][number]) => boolean): Plan => ({ ...plan, changes: plan.changes.filter(pred) });
const run = (p: Plan, extra: Partial<Parameters<typeof executeItems>[1]> = {}) =>
  executeItems(planItems(p, allRules), { apis, maxChanges: 100, actor: 'test', retry: FAST, ...extra });

describe('no lost IAM edits', () => {
  it('a second writer lands between our read and write: we re-read, retry, and both bindings survive', async () => {
    const p = only((e) => e.change.kind === 'iam-member' && e.change.api === 'run');
    const target = p.changes[0]!.change as Extract<Plan['changes'][number]['change'], { kind: 'iam-member' }>;
    const p1 = { ...p, changes: p.changes.filter((e) => (e.change as typeof target).resource === target.resource) };
    const other = new ServicesClient(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address }));
    let raced = false;
    const racing: RemediationApis = {
      ...apis,
      getPolicy: async (api, resource) => {
        const policy = await apis.getPolicy(api, resource);
        if (!raced) {
          raced = true;
          // The other writer does a proper read-modify-write of its own, after our read.
          const [theirs] = await other.getIamPolicy({ resource, options: { requestedPolicyVersion: 3 } });
          theirs.bindings = [...(theirs.bindings ?? []), { role: 'roles/run.developer', members: ['user:alice@example.com'] }];
          await other.setIamPolicy({ resource, policy: theirs });
        }
        return policy;
      },
    };
    const result = await executeItems(planItems(p1, allRules), { apis: racing, maxChanges: 100, actor: 'test', retry: FAST });
    await other.close();
    expect(result.records.map((r) => r.result)).toEqual(p1.changes.map(() => 'applied'));
    expect(result.records[0]!.attempts).toBe(2);
    const [final] = await new ServicesClient(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address })).getIamPolicy({ resource: target.resource, options: { requestedPolicyVersion: 3 } });
    const members = (role: string) => (final.bindings ?? []).filter((b) => b.role === role).flatMap((b) => b.members ?? []);
    expect(members('roles/run.developer')).toContain('user:alice@example.com');
    expect(members('roles/run.invoker')).toContain(target.member);
    expect(fake.counters.get('run.SetIamPolicy')).toBe(3); // theirs, our refused one, our retry
  });

  it('gives up after a bounded number of conflicts and says so', async () => {
    const p = only((e) => e.change.kind === 'iam-member' && e.change.api === 'run');
    fake.addFault({ method: 'run.SetIamPolicy', code: 'ABORTED', message: 'There were concurrent policy changes.' });
    const result = await run(p);
    expect(result.records.every((r) => r.result === 'failed' && r.reason.includes('kept conflicting'))).toBe(true);
    const resources = new Set(p.changes.map((e) => (e.change as { resource: string }).resource)).size;
    expect(fake.counters.get('run.SetIamPolicy')).toBe(resources * FAST.attempts);
  });

  it('keeps conditional bindings, deleted members and audit configs it did not touch', async () => {
    const p = only((e) => e.change.kind === 'iam-member' && e.change.api === 'run');
    const target = p.changes[0]!.change as { resource: string; member: string };
    const svc = fake.store.find(target.resource, ['run.googleapis.com/Service'])[0]!;
    const extra = [
      { role: 'roles/run.invoker', members: ['serviceAccount:batch@acme-prod.iam.gserviceaccount.com'], condition: { title: 'office hours', expression: 'request.time.getHours("Europe/Berlin") < 18' } },
      { role: 'roles/run.viewer', members: ['deleted:serviceAccount:gone@acme-prod.iam.gserviceaccount.com?uid=123456789'] },
    ];
    svc.iamPolicy = { ...svc.iamPolicy, version: 3, bindings: [...(svc.iamPolicy?.bindings ?? []), ...extra], auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }] } as typeof svc.iamPolicy;
    fake.store.touch(svc, new Date());
    const before = structuredClone(svc.iamPolicy!.bindings!);
    const result = await run({ ...p, changes: p.changes.filter((e) => (e.change as { resource: string }).resource === target.resource) });
    expect(result.records[0]!.result).toBe('applied');
    const after = svc.iamPolicy as { version: number; bindings: unknown[]; auditConfigs: unknown[] };
    expect(after.version).toBe(3);
    for (const b of before) {
      if ((b as { condition?: unknown }).condition || b.role !== 'roles/run.invoker') expect(after.bindings).toContainEqual(expect.objectContaining(b));
    }
    expect(after.auditConfigs).toEqual([{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }]);
  });
});

describe('job updates', () => {
  it('sends an update mask of snake_case token paths only', async () => {
    const p = only((e) => e.change.kind === 'job-token');
    await run(p);
    const masks = fake.requests.filter((r) => r.method === 'scheduler.UpdateJob').map((r) => (r.request.updateMask as { paths: string[] }).paths);
    expect(masks.length).toBe(p.changes.length);
    for (const paths of masks) for (const path of paths) expect(path).toMatch(/^http_target\.(oidc_token|oauth_token)(\.(service_account_email|audience|scope))?$/);
  });

  it('retries a job left UPDATE_FAILED, as the API asks', async () => {
    const entry = plan.changes.find((e) => e.ruleId === 'oidc-audience-matches-target')!;
    fake.scheduler.failUpdates(entry.job, 2);
    const result = await run({ ...plan, changes: [entry] });
    expect(result.records[0]).toMatchObject({ result: 'applied', attempts: 3 });
    const job = fake.store.find(entry.job, ['cloudscheduler.googleapis.com/Job'])[0]!;
    expect((job.resource!.data as { state: string }).state).toBe('ENABLED');
  });

  it('reports a job that stays UPDATE_FAILED, and stops starting changes', async () => {
    const [first, ...rest] = plan.changes.filter((e) => e.change.kind === 'job-token');
    fake.scheduler.failUpdates(first!.job, 99);
    const result = await run({ ...plan, changes: [first!, ...rest] }, { concurrency: 1 });
    const failed = result.records.find((r) => r.entryId === first!.entryId)!;
    expect(failed.result).toBe('failed');
    expect(failed.reason).toContain('left UPDATE_FAILED');
    expect(result.stopped).toBeDefined();
    expect(result.records.filter((r) => r.result === 'applied')).toEqual([]);
    expect(fake.counters.get('scheduler.UpdateJob')).toBe(FAST.attempts);
  });

  it('names the missing permission and the role on PERMISSION_DENIED (actAs)', async () => {
    await fake.stop();
    fake = await startFakeGcp({ seedDir: 'examples/sample-org', strict: true, actAs: [] });
    await apis.close();
    apis = await googleRemediationApis(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address }));
    const entry = plan.changes.find((e) => e.ruleId === 'http-target-uses-oidc')!;
    const result = await run({ ...plan, changes: [entry] });
    expect(result.records[0]!.result).toBe('failed');
    expect(result.records[0]!.reason).toMatch(/iam\.serviceAccounts\.actAs on scheduler-invoker@acme-prod\.iam\.gserviceaccount\.com \(roles\/iam\.serviceAccountUser/);
    expect(result.stopped).toBeUndefined(); // a permission error concerns that change only
  });
});

describe('caps and scope', () => {
  it('holds --max-changes across conflict retries: a retried write re-uses its slot', async () => {
    const p = only((e) => e.change.kind === 'iam-member');
    fake.addFault({ method: 'SetIamPolicy', code: 'ABORTED', times: 2 });
    const result = await run(p, { maxChanges: 1, concurrency: 1 });
    expect(result.changesStarted).toBe(1);
    expect(result.records.filter((r) => r.result === 'applied')).toHaveLength(1);
    expect(result.records.filter((r) => r.reason.includes('--max-changes 1 reached'))).toHaveLength(p.changes.length - 1);
  });

  it('stops starting changes at the first unexpected error class', async () => {
    const p = only((e) => e.change.kind === 'job-token');
    fake.addFault({ method: 'scheduler.UpdateJob', code: 'INVALID_ARGUMENT', calls: [1] });
    const result = await run(p, { concurrency: 1 });
    expect(result.stopped).toContain('INVALID_ARGUMENT');
    expect(result.records.filter((r) => r.result === 'applied')).toEqual([]);
    expect(result.records.filter((r) => r.reason.startsWith('not started'))).toHaveLength(p.changes.length - 1);
    expect(fake.counters.get('scheduler.UpdateJob')).toBe(1);
  });
});

describe('permission errors', () => {
  it('name the missing permission and the role that holds it, for IAM writes too', async () => {
    await fake.stop();
    fake = await startFakeGcp({
      seedDir: 'examples/sample-org',
      strict: true,
      permissions: { remediator: [{ permission: 'run.services.getIamPolicy', resource: '*' }, { permission: 'cloudscheduler.jobs.*', resource: '*' }] },
    });
    fake.setCaller('remediator');
    await apis.close();
    apis = await googleRemediationApis(googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address }));
    const entry = plan.changes.find((e) => e.change.kind === 'iam-member' && e.change.api === 'run')!;
    const result = await run({ ...plan, changes: [entry] });
    expect(result.records[0]!.result).toBe('failed');
    expect(result.records[0]!.reason).toContain('needs run.services.setIamPolicy on the service (roles/run.admin');
  });
});

/**
 * A plan and a records file are files anyone with access could edit. Before, apply made whatever
 * change an entry held once its rule still failed (an edited member got roles/run.invoker, an
 * edited account and audience were written to the job), undo made whatever a record described
 * (roles/run.admin for allUsers), and a retried UpdateJob overwrote a token changed meanwhile.
 */
describe('edited plans and records, and concurrent job edits', () => {
  type IamChange = Extract<Plan['changes'][number]['change'], { kind: 'iam-member' }>;
  type TokenChange = Extract<Plan['changes'][number]['change'], { kind: 'job-token' }>;

  it('an entry whose member was edited is not the rule\'s fix: skipped, no policy written', async () => {
    const entry = plan.changes.find((e) => e.change.kind === 'iam-member')!;
    const edited = { ...entry, change: { ...(entry.change as IamChange), member: 'serviceAccount:attacker@evil-project.iam.gserviceaccount.com' } };
    const result = await run({ ...plan, changes: [edited] });
    expect(result.records[0]).toMatchObject({ result: 'skipped' });
    expect(result.records[0]!.reason).toContain("is not the fix rule");
    expect(fake.counters.get('run.SetIamPolicy') ?? 0).toBe(0);
  });

  it('an entry whose account and audience were edited is not the rule\'s fix: skipped, no job written', async () => {
    const entry = plan.changes.find((e) => e.ruleId === 'oidc-audience-matches-target' && e.change.kind === 'job-token')!;
    const change = entry.change as TokenChange;
    const edited = { ...entry, change: { ...change, after: { type: 'oidc' as const, serviceAccountEmail: 'archiver@acme-prod.iam.gserviceaccount.com', audience: 'https://evil.example' } } };
    const result = await run({ ...plan, changes: [edited] });
    expect(result.records[0]).toMatchObject({ result: 'skipped' });
    expect(fake.counters.get('scheduler.UpdateJob') ?? 0).toBe(0);
    // The plan as written still applies: the check refuses edits, not the rule's own fix.
    expect((await run({ ...plan, changes: [entry] })).records[0]).toMatchObject({ result: 'applied' });
  });

  it('an entry whose rule is not loaded is not made', async () => {
    const entry = plan.changes[0]!;
    const result = await executeItems(planItems({ ...plan, changes: [entry] }, allRules.filter((r) => r.meta.id !== entry.ruleId)), { apis, maxChanges: 100, actor: 'test', retry: FAST });
    expect(result.records[0]).toMatchObject({ result: 'skipped' });
    expect(result.records[0]!.reason).toContain(`rule ${entry.ruleId} is not loaded`);
  });

  it('a duplicated entry is refused with the plan', () => {
    expect(PlanSchema.safeParse({ ...plan, changes: [plan.changes[0], plan.changes[0]] }).success).toBe(false);
    expect(PlanSchema.safeParse(plan).success).toBe(true);
  });

  it('UpdateJob answers ABORTED after another client changed the token: not sent again over it', async () => {
    const entry = plan.changes.find((e) => e.ruleId === 'oidc-audience-matches-target' && e.change.kind === 'job-token')!;
    const theirs = { type: 'oidc' as const, serviceAccountEmail: 'scheduler-invoker@acme-prod.iam.gserviceaccount.com', audience: 'https://someone-else.example' };
    let calls = 0;
    const racing: RemediationApis = {
      ...apis,
      updateJob: async (job, paths) => {
        if (calls++ === 0) {
          const live = await apis.getJob(entry.job);
          await apis.updateJob({ ...live, httpTarget: { ...(live.httpTarget as object), oidcToken: { serviceAccountEmail: theirs.serviceAccountEmail, audience: theirs.audience } } }, ['http_target.oidc_token.audience']);
          throw Object.assign(new Error('10 ABORTED: concurrent modification'), { code: 10 });
        }
        return apis.updateJob(job, paths);
      },
    };
    const result = await executeItems(planItems({ ...plan, changes: [entry] }, allRules), { apis: racing, maxChanges: 100, actor: 'test', retry: FAST });
    expect(result.records[0]).toMatchObject({ result: 'skipped', change: { before: theirs } });
    expect(calls).toBe(1);
    const job = await apis.getJob(entry.job);
    expect((job.httpTarget as { oidcToken: { audience: string } }).oidcToken.audience).toBe(theirs.audience);
  });

  it('undo reverses only what apply makes: an edited record (allUsers, roles/run.admin) is refused by name', async () => {
    const applied = await run(only((e) => e.change.kind === 'iam-member'));
    const record = applied.records.find((r) => r.result === 'applied' && r.change.kind === 'iam-member')!;
    const change = record.change as IamChange;
    const forged = { ...record, change: { ...change, role: 'roles/run.admin', member: 'allUsers', before: { memberPresent: true }, after: { memberPresent: false } } };
    const before = fake.counters.get('run.SetIamPolicy') ?? 0;
    const undone = await executeItems(undoItems([forged as typeof record]), { apis, maxChanges: 100, actor: 'test', retry: FAST });
    expect(undone.records[0]).toMatchObject({ result: 'skipped' });
    expect(undone.records[0]!.reason).toContain('not one fix apply makes');
    expect(fake.counters.get('run.SetIamPolicy') ?? 0).toBe(before);
    // The record as apply wrote it is undone.
    expect((await executeItems(undoItems([record]), { apis, maxChanges: 100, actor: 'test', retry: FAST })).records[0]).toMatchObject({ result: 'applied' });
  });
});
