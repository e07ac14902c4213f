/**
 * Issue 10, item 2: two records of one (asset type, name, content kind). The newest
 * `update_time` wins; on a tie or a missing time the first read wins, and a warning names both.
 * The other is counted and reported, and a job is judged once. Before, both copies of a job were
 * judged (a stale one gave a false fail) and the last policy read won.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { JobNameCounter } from '../../src/inventory/file-source.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { POLICIES_FILE, RESOURCES_FILE, SERVERLESS_FILE, scanFiles, tempDir, type Scanned } from './helpers.js';

const JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-ok';
const JOB_ASSET = `//cloudscheduler.googleapis.com/${JOB}`;
const INVOKE = 'oidc-sa-can-invoke-target';
type Rec = Record<string, unknown> & { name: string; update_time?: string };

const lines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '');
const jobLine = (): Rec => JSON.parse(lines(RESOURCES_FILE).find((l) => l.includes(`"name":"${JOB_ASSET}"`))!) as Rec;

/** A copy of the job whose token names an account that does not exist: it fails where the original passes. */
function brokenCopy(updateTime: string | undefined): Rec {
  const r = structuredClone(jobLine());
  const http = ((r.resource as { data: { httpTarget: { oidcToken: { serviceAccountEmail: string } } } }).data.httpTarget);
  http.oidcToken.serviceAccountEmail = 'ghost@acme-prod.iam.gserviceaccount.com';
  if (updateTime === undefined) delete r.update_time;
  else r.update_time = updateTime;
  return r;
}

/** The sample, with `before` records in a file read first and `after` records in a file read last. */
function sampleAnd(before: Rec[], after: Rec[], shape: 'export' | 'list' = 'export'): string[] {
  const dir = tempDir();
  const write = (name: string, recs: Rec[]): string => {
    const path = join(dir, name);
    if (shape === 'export') writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    else writeFileSync(path, JSON.stringify(recs.map(toListShape), null, 2));
    return path;
  };
  return [...(before.length ? [write('first.json', before)] : []), ...SAMPLE_FILES, ...(after.length ? [write('last.json', after)] : [])];
}

/** `gcloud asset list --format=json`: camelCase envelope keys. */
function toListShape(r: Rec): Rec {
  const out: Rec = { name: r.name };
  for (const [k, v] of Object.entries(r)) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  return out;
}

const ofJob = (s: Scanned): Finding[] => s.findings.filter((f) => f.job.name === JOB);
const verdict = (s: Scanned, rule = INVOKE): string | undefined => ofJob(s).find((f) => f.ruleId === rule)?.status;

let baseline: Scanned;
beforeAll(async () => {
  baseline = await scanFiles(SAMPLE_FILES);
  expect(verdict(baseline)).toBe('pass');
  expect(jobLine().update_time).toBeDefined();
});

/** Each rule judged the job once: the same rules as the clean scan, one finding each. */
function expectJudgedOnce(s: Scanned): void {
  const rules = ofJob(s).map((f) => f.ruleId).sort();
  expect(rules).toEqual(ofJob(baseline).map((f) => f.ruleId).sort());
  expect(s.result.summary.jobsScanned).toBe(baseline.result.summary.jobsScanned);
}

describe('duplicate job records', () => {
  const original = (): string => jobLine().update_time!;

  it.each([
    ['a stale copy read after the original', 'after'],
    ['a stale copy read before the original', 'before'],
  ] as const)('%s: the newer (original) is judged, once; the copy is counted and named', async (_what, where) => {
    const stale = brokenCopy('2020-01-01T00:00:00Z');
    const files = where === 'after' ? sampleAnd([], [stale]) : sampleAnd([stale], []);
    const s = await scanFiles(files);
    expect(verdict(s)).toBe('pass');
    expectJudgedOnce(s);
    expect(s.result.summary.duplicateRecords).toBe(1);
    const d = s.result.summary.duplicates![0]!;
    expect(d).toMatchObject({ name: JOB_ASSET, kind: 'resource', why: 'newer' });
    expect(d.kept).toContain('resources.export.ndjson:');
    expect(d.dropped).toContain(where === 'after' ? 'last.json:1' : 'first.json:1');
    expect(s.warnings.some((w) => w.includes(d.kept) && w.includes(d.dropped))).toBe(true);
  });

  it('a newer copy wins wherever it is read', async () => {
    for (const files of [sampleAnd([], [brokenCopy('2030-01-01T00:00:00Z')]), sampleAnd([brokenCopy('2030-01-01T00:00:00Z')], [])]) {
      const s = await scanFiles(files);
      expect(verdict(s, 'token-sa-exists-and-enabled')).not.toBe('pass');
      expectJudgedOnce(s);
      expect(s.result.summary.duplicateRecords).toBe(1);
    }
  });

  it.each([
    ['the same update_time', (): string | undefined => jobLine().update_time],
    ['no update_time', (): string | undefined => undefined],
  ])('%s: the first read wins, and the warning names both', async (_what, time) => {
    const s = await scanFiles(sampleAnd([brokenCopy(time())], []));
    expect(verdict(s, 'token-sa-exists-and-enabled')).not.toBe('pass'); // the copy, read first
    expectJudgedOnce(s);
    const d = s.result.summary.duplicates![0]!;
    expect(d.why).toBe('first-read');
    expect(d.kept).toContain('first.json:1');
    expect(s.warnings.some((w) => w.includes('first.json:1') && w.includes('resources.export.ndjson:') && w.includes('same or missing update_time'))).toBe(true);
  });

  it('a time written with another precision or offset is compared as a time', async () => {
    // 2026-11-20T03:00:00.000000Z is the original; +01:00 an hour later is the same instant.
    expect(original()).toBe('2026-11-20T03:00:00.000000Z');
    const s = await scanFiles(sampleAnd([], [brokenCopy('2026-11-20T04:00:00+01:00')]));
    expect(s.result.summary.duplicates![0]!.why).toBe('first-read');
    expect(verdict(s)).toBe('pass');
    const later = await scanFiles(sampleAnd([], [brokenCopy('2026-11-20T03:00:00.000001Z')]));
    expect(later.result.summary.duplicates![0]!.why).toBe('newer');
    expect(verdict(later, 'token-sa-exists-and-enabled')).not.toBe('pass');
  });

  it('in any order, shape and number of copies, the job is judged once, as its newest record says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 2000, max: 2100 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('export' as const, 'list' as const),
        async (years, readFirst, shape) => {
          const copies = years.map((y) => brokenCopy(`${y}-06-01T00:00:00Z`));
          const before = copies.filter((_c, i) => readFirst[i]);
          const after = copies.filter((_c, i) => !readFirst[i]);
          const s = await scanFiles(sampleAnd(before, after, shape));
          expectJudgedOnce(s);
          expect(s.result.summary.duplicateRecords).toBe(copies.length);
          const newestIsCopy = Math.max(...years) > 2026;
          expect(verdict(s, 'token-sa-exists-and-enabled') === 'pass').toBe(!newestIsCopy);
        },
      ),
      { numRuns: 30, seed: 10_02 },
    );
  });
});

describe('duplicate IAM-policy and resource records', () => {
  it('the newer of two policies of a service is used, in either order', async () => {
    const grant = baseline.findings.find((f) => f.job.name === JOB && f.ruleId === INVOKE)!;
    const resource = (grant.evidence as { grants: { resource: string }[] }).grants[0]!.resource;
    const policyLine = JSON.parse(lines(POLICIES_FILE).find((l) => l.includes(`"name":"${resource}"`))!) as Rec;
    const empty = (t: string): Rec => ({ ...structuredClone(policyLine), iam_policy: { bindings: [] }, update_time: t });
    // An older empty policy, read last: before, the last read won and the job failed.
    const older = await scanFiles(sampleAnd([], [empty('2001-01-01T00:00:00Z')]));
    expect(verdict(older)).toBe('pass');
    expect(older.result.summary.duplicates).toEqual([expect.objectContaining({ name: resource, kind: 'iam-policy', why: 'newer' })]);
    // A newer empty policy, read first: it wins.
    const newer = await scanFiles(sampleAnd([empty('2030-01-01T00:00:00Z')], []));
    expect(verdict(newer)).not.toBe('pass');
  });

  it('a gen1 function listed as both CloudFunction and Function is not a duplicate', async () => {
    const listed = JSON.parse(readFileSync(SERVERLESS_FILE, 'utf8')) as { name: string; assetType: string }[];
    const fn = '//cloudfunctions.googleapis.com/projects/acme-prod/locations/us-central1/functions/nightly-cleanup';
    expect(listed.filter((a) => a.name === fn).map((a) => a.assetType).sort()).toEqual([
      'cloudfunctions.googleapis.com/CloudFunction',
      'cloudfunctions.googleapis.com/Function',
    ]);
    expect(baseline.result.summary.duplicateRecords).toBe(0);
    expect(baseline.warnings.filter((w) => w.startsWith('duplicate'))).toEqual([]);
  });
});

describe('the job-name counter that tells which jobs to hold', () => {
  it('finds every repeated name among many (no false "no"), through table growth', () => {
    const counter = new JobNameCounter();
    const name = (i: number): string => `//cloudscheduler.googleapis.com/projects/p-${i % 977}/locations/l/jobs/job-${i}`;
    for (let i = 0; i < 200_000; i++) counter.note(name(i));
    for (const i of [0, 5, 199_999, 123_456]) counter.note(name(i));
    counter.note('ünïcode/jobs/é');
    counter.note('ünïcode/jobs/é');
    for (const i of [0, 5, 199_999, 123_456]) expect(counter.mayRepeat(name(i))).toBe(true);
    expect(counter.mayRepeat('ünïcode/jobs/é')).toBe(true);
    let falseYes = 0;
    for (let i = 1; i < 200_000; i += 7) if (i !== 5 && i !== 123_456 && counter.mayRepeat(name(i))) falseYes++;
    expect(falseYes).toBe(0);
  });
});
