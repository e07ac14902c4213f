/**
 * Issue 10, item 1: a record that is in the input but cannot be read (a truncated line, `bindings`
 * as an object, an account without a readable email) is unknown, not absent: the verdicts that
 * depend on it are unverifiable and the summary names the gap. Before, the policy was dropped and
 * the target judged as having none, and working jobs failed `oidc-sa-can-invoke-target` (high).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { salvageIdentity } from '../../src/inventory/asset-record.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { POLICIES_FILE, RESOURCES_FILE, sampleWith, scanFiles, statusByJobRule, type Scanned } from './helpers.js';

const POLICIES = POLICIES_FILE;
const RESOURCES = RESOURCES_FILE;
const INVOKE = 'oidc-sa-can-invoke-target';

let baseline: Scanned;
/** Resource policies (Run services, functions) that grant a job's invoke pass, with those jobs. */
let grantedBy: Map<string, string[]>;

beforeAll(async () => {
  baseline = await scanFiles(SAMPLE_FILES);
  grantedBy = new Map();
  for (const f of baseline.findings) {
    if (f.ruleId !== INVOKE || f.status !== 'pass') continue;
    const grants = (f.evidence as { grants?: { resource: string }[] }).grants ?? [];
    for (const g of grants) {
      if (g.resource.startsWith('//cloudresourcemanager')) continue;
      grantedBy.set(g.resource, [...(grantedBy.get(g.resource) ?? []), f.job.name]);
    }
  }
  expect(grantedBy.size).toBeGreaterThan(0);
});

const lineOf = (lines: string[], assetName: string): number => lines.findIndex((l) => (JSON.parse(l) as { name: string }).name === assetName);

function invokeStatus(findings: readonly Finding[], job: string): Finding | undefined {
  return findings.find((f) => f.job.name === job && f.ruleId === INVOKE);
}

/**
 * No damage may add a pass or a fail that the clean input does not give. One exception, by
 * design: `last-attempt-authorized` reports a 401/403 the job's own record shows, and is silent
 * only while a configuration rule explains it; when that rule becomes unverifiable the observed
 * failure is reported on its own.
 */
function expectOnlyLessConfident(damaged: Scanned): void {
  const before = statusByJobRule(baseline.findings);
  for (const [key, status] of statusByJobRule(damaged.findings)) {
    if (status === 'unverifiable') continue;
    if (key.endsWith(' last-attempt-authorized') && !before.has(key)) continue;
    expect(`${key} ${status}`).toBe(`${key} ${before.get(key)}`);
  }
}

describe('an IAM policy that is there but unreadable', () => {
  it.each([
    ['a truncated line', (l: string) => l.slice(0, Math.floor(l.length * 0.6))],
    ['"bindings" as an object', (l: string) => JSON.stringify({ ...JSON.parse(l), iam_policy: { bindings: { role: 'roles/run.invoker' } } })],
    ['"iam_policy" as a string', (l: string) => JSON.stringify({ ...JSON.parse(l), iam_policy: 'redacted' })],
  ])('%s: the jobs it granted are unverifiable, never fail, and the summary names it', async (_what, damage) => {
    for (const [resource, jobs] of grantedBy) {
      let at = -1;
      const files = sampleWith(POLICIES, (lines) => {
        at = lineOf(lines, resource);
        lines[at] = damage(lines[at]!);
        return lines;
      });
      const damaged = await scanFiles(files);
      for (const job of jobs) {
        const f = invokeStatus(damaged.findings, job)!;
        expect(f.status, `${job} via ${resource}`).toBe('unverifiable');
        expect(f.message).toContain(`${files[1]}:${at + 1}`);
      }
      const gap = damaged.result.summary.coverageGaps.find((g) => g.scope === resource);
      expect(gap?.reason, resource).toContain(`${files[1]}:${at + 1}`);
      expect(damaged.result.summary.partial).toBe(true);
      expectOnlyLessConfident(damaged);
    }
  });

  it('wherever a policy line is cut and whatever non-list "bindings" holds, no new pass or fail appears', async () => {
    const lines = (await import('node:fs')).readFileSync(POLICIES, 'utf8').split('\n').filter(Boolean);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(lines.length - 1),
        fc.oneof(
          fc.double({ min: 0.01, max: 0.99, noNaN: true }).map((cut) => (l: string) => l.slice(0, Math.max(1, Math.floor(l.length * cut)))),
          fc.anything().filter((v) => !Array.isArray(v) && v !== undefined && v !== null).map((bindings) => (l: string) => {
            const r = JSON.parse(l) as { iam_policy: object };
            return JSON.stringify({ ...r, iam_policy: { ...r.iam_policy, bindings } });
          }),
        ),
        async (index, damage) => {
          const files = sampleWith(POLICIES, (ls) => ls.map((l, i) => (i === index ? damage(l) : l)));
          expectOnlyLessConfident(await scanFiles(files));
        },
      ),
      { numRuns: 25, seed: 10_01 },
    );
  });

  it.each([
    ['a list', [{ expression: 'false' }]],
    ['a string', 'request.time < timestamp("2020-01-01T00:00:00Z")'],
    ['true', true],
    ['a number', 0],
  ])('a binding whose condition is %s is not read as unconditional: the jobs it granted are unverifiable', async (_what, condition) => {
    for (const [resource, jobs] of grantedBy) {
      let at = -1;
      const files = sampleWith(POLICIES, (lines) => {
        at = lineOf(lines, resource);
        const r = JSON.parse(lines[at]!) as { iam_policy: { bindings: Record<string, unknown>[] } };
        for (const b of r.iam_policy.bindings) b.condition = condition;
        lines[at] = JSON.stringify(r);
        return lines;
      });
      const damaged = await scanFiles(files);
      for (const job of jobs) {
        // A pass may stand only on another grant, never on the binding whose condition is unreadable.
        const f = invokeStatus(damaged.findings, job)!;
        const grants = (f.evidence as { grants?: { resource: string }[] }).grants ?? [];
        if (f.status === 'pass') expect(grants.map((g) => g.resource), `${job} via ${resource}`).not.toContain(resource);
      }
      expect(jobs.some((job) => invokeStatus(damaged.findings, job)!.status === 'unverifiable')).toBe(true);
      expect(damaged.warnings.some((w) => w.includes(`${files[1]}:${at + 1}`) && w.includes('condition'))).toBe(true);
      expect(damaged.result.summary.partial).toBe(true);
      expectOnlyLessConfident(damaged);
    }
  });

  it('a truncated line still says whose policy it was, as far as it goes', () => {
    const line = '{"name":"//run.googleapis.com/projects/p/locations/l/services/s","asset_type":"run.googleapis.com/Service","iam_policy":{"bindings":[{"role":"roles/run.in';
    expect(salvageIdentity(line)).toEqual({ name: '//run.googleapis.com/projects/p/locations/l/services/s', assetType: 'run.googleapis.com/Service', kind: 'iam-policy' });
    expect(salvageIdentity('{"name":"//x","asset_type":"T","resource":{"data":{"name":"evil","asset_type":"U"}},"update_time":"2026-01-01T00:00:00Z"')).toEqual({
      name: '//x',
      assetType: 'T',
      kind: 'resource',
      updateTime: '2026-01-01T00:00:00Z',
    });
    // Cut before its kind is known: both kinds are then taken as unknown by the model.
    expect(salvageIdentity('{"name":"//x","asset_type":"T",')).toEqual({ name: '//x', assetType: 'T' });
    expect(salvageIdentity('{"name":"//x"')).toBeUndefined();
    expect(salvageIdentity('{"__proto__":1,"name":"//x","asset_type":"T","iam_policy"')).toEqual({ name: '//x', assetType: 'T', kind: 'iam-policy' });
  });
});

describe('a service account or custom role that is there but unreadable', () => {
  it('an account record without a readable email: a job using an account of that project is unverifiable, not "missing"', async () => {
    const SA_RULE = 'token-sa-exists-and-enabled';
    const passes = baseline.findings.filter((f) => f.ruleId === SA_RULE && f.status === 'pass');
    expect(passes.length).toBeGreaterThan(0);
    const job = passes[0]!;
    let damagedName = '';
    const files = sampleWith(RESOURCES, (lines) =>
      lines.map((l) => {
        const r = JSON.parse(l) as { name: string; asset_type: string; resource?: { data?: { email?: unknown } } };
        if (r.asset_type !== 'iam.googleapis.com/ServiceAccount' || !job.message.includes(String(r.resource?.data?.email))) return l;
        damagedName = r.name;
        r.resource!.data!.email = { not: 'a string' };
        return JSON.stringify(r);
      }),
    );
    expect(damagedName).not.toBe('');
    const damaged = await scanFiles(files);
    const f = damaged.findings.find((x) => x.job.name === job.job.name && x.ruleId === SA_RULE)!;
    expect(f.status).toBe('unverifiable');
    expect(f.message).toContain('could not be read');
    expect(damaged.result.summary.coverageGaps.some((g) => g.scope === damagedName)).toBe(true);
    expectOnlyLessConfident(damaged);
  });

  it.each([
    ['"data": null', (r: { resource: Record<string, unknown> }) => void (r.resource.data = null)],
    ['no "data"', (r: { resource: Record<string, unknown> }) => void delete r.resource.data],
    ['"resource": {}', (r: { resource: Record<string, unknown> }) => void (r.resource = {})],
  ])('an account record with %s is there but unknown: its jobs are unverifiable, never "does not exist"', async (_what, damage) => {
    const SA_RULE = 'token-sa-exists-and-enabled';
    const passes = baseline.findings.filter((f) => f.ruleId === SA_RULE && f.status === 'pass');
    let at = -1;
    let email = '';
    const files = sampleWith(RESOURCES, (lines) =>
      lines.map((l, i) => {
        const r = JSON.parse(l) as { name: string; asset_type: string; resource: { data?: { email?: string } } };
        if (at !== -1 || r.asset_type !== 'iam.googleapis.com/ServiceAccount' || !passes.some((f) => f.message.includes(String(r.resource.data?.email)))) return l;
        at = i;
        email = r.resource.data!.email!;
        damage(r as unknown as { resource: Record<string, unknown> });
        return JSON.stringify(r);
      }),
    );
    expect(at).not.toBe(-1);
    const damaged = await scanFiles(files);
    const jobs = passes.filter((f) => f.message.includes(email)).map((f) => f.job.name);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(damaged.findings.find((x) => x.job.name === job && x.ruleId === SA_RULE)?.status, job).toBe('unverifiable');
    expect(damaged.warnings.some((w) => w.includes(`${files[0]}:${at + 1}`) && w.includes('no "resource.data"'))).toBe(true);
    expect(damaged.result.summary.partial).toBe(true);
    expectOnlyLessConfident(damaged);
  });

  it('a custom role record without "resource.data" is named, and the grants through it are not judged as if it were absent', async () => {
    let role = '';
    let at = -1;
    const files = sampleWith(RESOURCES, (lines) =>
      lines.map((l, i) => {
        const r = JSON.parse(l) as { name: string; asset_type: string; resource: Record<string, unknown> };
        if (r.asset_type !== 'iam.googleapis.com/Role') return l;
        role = r.name;
        at = i;
        delete r.resource.data;
        return JSON.stringify(r);
      }),
    );
    if (role === '') return; // the sample has no custom role
    const damaged = await scanFiles(files);
    expect(damaged.warnings.some((w) => w.includes(`${files[0]}:${at + 1}`) && w.includes(role))).toBe(true);
    expect(damaged.result.summary.coverageGaps.some((g) => g.scope === role)).toBe(true);
    expectOnlyLessConfident(damaged);
  });

  it('a custom role record that cannot be read makes the grants through it unverifiable, naming the record', async () => {
    let role = '';
    const files = sampleWith(RESOURCES, (lines) =>
      lines.map((l) => {
        const r = JSON.parse(l) as { name: string; asset_type: string };
        if (r.asset_type !== 'iam.googleapis.com/Role') return l;
        role = r.name;
        return l.slice(0, Math.floor(l.length / 2));
      }),
    );
    const damaged = await scanFiles(files);
    if (role === '') return; // the sample has no custom role
    expect(damaged.result.summary.coverageGaps.some((g) => g.scope === role)).toBe(true);
    expectOnlyLessConfident(damaged);
  });
});
