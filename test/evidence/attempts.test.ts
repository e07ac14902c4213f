import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { AttemptsEvidence } from '../../src/evidence/attempts/attempts-evidence.js';
import { parseWindow, refusedAttemptsFilter } from '../../src/evidence/attempts/filter.js';
import { AttemptCounter } from '../../src/evidence/attempts/history.js';
import { readRefusedAttempts } from '../../src/evidence/attempts/reader.js';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions } from '../../src/google/client-options.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { textLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { readSeedDir, startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';
import { parseLogFilter } from '../support/fake-gcp/log-filter.js';
import { Collect, SAMPLE_NOW, sampleLogEntries } from './sample-evidence.js';

const logger = textLogger('silent', () => undefined);
const WEEK = parseWindow('7d')!;
const SINCE = new Date(SAMPLE_NOW.getTime() - WEEK);
const PROD = 'projects/acme-prod/locations/us-central1/jobs';
const noRetry = { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, multiplier: 1, exhaustedDelayMs: 0, budgetMs: 0 };

let fake: FakeGcp;
beforeAll(async () => {
  fake = await startFakeGcp({ logEntries: sampleLogEntries() });
});
afterAll(async () => {
  await fake.stop();
});
const clientOptions = () => googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address });


async function scanSample(evidence: boolean, includePasses = false) {
  const sink = new Collect();
  const steps = evidence ? [new AttemptsEvidence({ from: 'projects', window: '7d', since: SINCE, logger, clientOptions: clientOptions() })] : [];
  const result = await runScan({ source: new FileAssetSource(SAMPLE_FILES), rules: allRules, sinks: [sink], logger, includePasses, evidence: steps, now: () => SAMPLE_NOW });
  const of = (job: string, rule?: string) => sink.findings.filter((f) => f.job.name === `${PROD}/${job}` && (rule === undefined || f.ruleId === rule));
  return { result, findings: sink.findings, of };
}

describe('the refused-attempts filter', () => {
  it('selects refused AttemptFinished entries of the window, and nothing else', () => {
    const match = parseLogFilter(refusedAttemptsFilter(SINCE));
    const base = sampleLogEntries().find((e) => (e.httpRequest as { status?: number } | undefined)?.status === 403)!;
    expect(match({ ...base, timestamp: '2026-11-29T00:00:00Z' })).toBe(true);
    expect(match({ ...base, timestamp: '2026-11-20T00:00:00Z' })).toBe(false);
    expect(match({ ...base, timestamp: '2026-11-29T00:00:00Z', httpRequest: { status: 500 }, jsonPayload: { ...(base.jsonPayload as object), status: 'INTERNAL' } })).toBe(false);
    // A refusal logged with only the status name still counts.
    expect(match({ ...base, timestamp: '2026-11-29T00:00:00Z', httpRequest: undefined })).toBe(true);
    expect(match({ ...base, timestamp: '2026-11-29T00:00:00Z', jsonPayload: { ...(base.jsonPayload as object), '@type': 'type.googleapis.com/google.cloud.scheduler.logging.AttemptStarted' } })).toBe(false);
  });

  // Before, the window had no end: a refusal stamped days after the scan (a skewed clock, a forged
  // entry) was counted and turned a job fixed since into a high fail naming a date yet to come.
  it('ends the window when the scan began: a later entry is neither read nor counted', () => {
    const until = new Date('2026-11-30T00:00:00Z');
    const match = parseLogFilter(refusedAttemptsFilter(SINCE, until));
    const base = sampleLogEntries().find((e) => (e.httpRequest as { status?: number } | undefined)?.status === 403)!;
    expect(match({ ...base, timestamp: '2026-11-29T00:00:00Z' })).toBe(true);
    expect(match({ ...base, timestamp: '2026-12-10T00:00:00Z' })).toBe(false);
    const counter = new AttemptCounter('7d', SINCE, until);
    const entry = (timestamp: string) => ({ ...base, timestamp, data: base.jsonPayload } as unknown as Parameters<AttemptCounter['add']>[0]);
    expect(counter.add(entry('2026-11-29T00:00:00Z'))).toBe(true);
    expect(counter.add(entry('2026-12-10T00:00:00Z'))).toBe(false);
  });
});

describe('reading refused attempts', () => {
  it('batches 100 projects to a call, asks 1000 entries a page, and filters server-side', async () => {
    fake.counters.reset();
    fake.requests.length = 0;
    const projects = ['acme-prod', ...Array.from({ length: 249 }, (_, i) => `empty-project-${i}`)];
    const read = await readRefusedAttempts({ from: { kind: 'projects', projects }, window: '7d', since: SINCE, logger, clientOptions: clientOptions() });
    expect(read.calls).toBe(3);
    expect(fake.counters.get('ListLogEntries')).toBe(3);
    const reqs = fake.requests.filter((r) => r.method === 'logging.ListLogEntries').map((r) => r.request as { resourceNames: string[]; pageSize: number; filter: string });
    expect(reqs.map((r) => r.resourceNames.length).sort()).toEqual([100, 100, 50]);
    expect(reqs.every((r) => r.pageSize === 1000 && r.filter.includes('AttemptFinished'))).toBe(true);
    expect(read.gaps).toEqual([]);
    // Counted only refused ones, inside the window: billing-ok's refusal of the 20th is older.
    const ok = read.counter.peek(`${PROD}/billing-ok`)!;
    expect(ok).toMatchObject({ permissionDenied: 3, unauthenticated: 0, firstFailureTime: '2026-11-24T03:00:02.000Z', lastFailureTime: '2026-11-26T03:00:02.000Z', lastFailure: '403' });
    expect(read.counter.peek(`${PROD}/billing-no-token`)).toMatchObject({ unauthenticated: 2, permissionDenied: 0 });
  });

  it('reads every page, short or empty, and survives a transient fault', async () => {
    fake.logging.setPaging({ pageCaps: [1, 0] });
    fake.setFaults([{ method: 'ListLogEntries', code: 'UNAVAILABLE', calls: [1] }]);
    fake.counters.reset();
    try {
      const read = await readRefusedAttempts({ from: { kind: 'projects', projects: ['acme-prod'] }, window: '7d', since: SINCE, logger, clientOptions: clientOptions() });
      expect(read.entries).toBe(10);
      expect(read.gaps).toEqual([]);
    } finally {
      fake.logging.setPaging({});
      fake.setFaults([]);
    }
  });

  it('splits a refused batch to name the unreadable project, a gap for this evidence only', async () => {
    fake.setFaults([{ method: 'ListLogEntries', code: 'PERMISSION_DENIED', scope: 'projects/acme-data' }]);
    try {
      const projects = ['acme-prod', 'acme-data', 'acme-legacy', 'labs-tools'];
      const read = await readRefusedAttempts({ from: { kind: 'projects', projects }, window: '7d', since: SINCE, logger, clientOptions: clientOptions(), retry: noRetry });
      expect(read.gaps.map((g) => g.scope)).toEqual(['projects/acme-data']);
      expect(read.gaps[0]!.reason).toMatch(/PERMISSION_DENIED.*last-attempt-authorized judges its jobs from Job.status alone/);
      expect([...(read.covered as Set<string>)].sort()).toEqual(['acme-legacy', 'acme-prod', 'labs-tools']);
      expect(read.counter.peek(`${PROD}/billing-unexplained-403`)?.permissionDenied).toBe(3);
    } finally {
      fake.setFaults([]);
    }
  });

  it('reads one log view fed by an aggregated sink', async () => {
    const view = 'projects/acme-logs/locations/global/buckets/scheduler-executions/views/scanner';
    fake.logging.addView({ name: view, projects: 'all' });
    fake.counters.reset();
    const read = await readRefusedAttempts({ from: { kind: 'view', view }, window: '7d', since: SINCE, logger, clientOptions: clientOptions() });
    expect(fake.counters.get('ListLogEntries')).toBe(1);
    expect(read.covered).toBe('all');
    expect(read.counter.peek(`${PROD}/reports-not-invoker`)?.permissionDenied).toBe(2);
    const missing = await readRefusedAttempts({ from: { kind: 'view', view: `${view}-gone` }, window: '7d', since: SINCE, logger, clientOptions: clientOptions(), retry: noRetry });
    expect(missing.gaps.map((g) => g.scope)).toEqual([`${view}-gone`]);
  });

  // Before, each project of the scan was named a second time, with a false reason ("not in the
  // inventory before its jobs were listed"), when the view itself could not be read.
  it('a view that cannot be read is the one gap of a scan: its projects are not named again', async () => {
    const view = 'projects/acme-logs/locations/global/buckets/scheduler-executions/views/absent';
    const steps = [new AttemptsEvidence({ from: view, window: '7d', since: SINCE, logger, clientOptions: clientOptions(), retry: noRetry })];
    const result = await runScan({ source: new FileAssetSource(SAMPLE_FILES), rules: allRules, sinks: [new Collect()], logger, evidence: steps, now: () => SAMPLE_NOW });
    const gaps = result.summary.coverageGaps.filter((g) => g.reason.includes('execution logs') || g.scope === view);
    expect(gaps.map((g) => g.scope)).toEqual([view]);
    expect(result.summary.evidence?.attempts).toMatchObject({ unreadableScopes: 1 });
  });
});

describe('the sample organization with its execution logs', () => {
  it('tells a job fixed since its refusals from one still refused, and joins refusals to their cause', async () => {
    const { result, of } = await scanSample(true, true);
    const fixed = of('billing-ok', 'last-attempt-authorized')[0]!;
    expect(fixed.status).toBe('pass');
    expect(fixed.message).toMatch(/3 attempt\(s\) in the last 7d were refused .* succeeded: fixed since/);
    expect(fixed.evidence.attempts).toMatchObject({ permissionDenied: 3, unauthenticated: 0, lastAttemptTime: '2026-11-29T03:00:01Z', lastAttemptStatus: 'OK' });

    const alone = of('billing-unexplained-403', 'last-attempt-authorized')[0]!;
    expect(alone).toMatchObject({ status: 'fail', severity: 'high' });
    expect(alone.message).toMatch(/^3 attempt\(s\) in the last 7d were refused \(401: 0, 403: 3; first 2026-11-27T03:00:02.000Z, last 2026-11-29T03:00:02.000Z\); the last attempt ended PERMISSION_DENIED/);
    expect(alone.evidence).toMatchObject({ attempts: { permissionDenied: 3, lastAttemptStatus: 'PERMISSION_DENIED' }, lastAttempt: { code: 'PERMISSION_DENIED' } });

    // Joined to the configuration finding that explains it, as the last attempt's status is.
    expect(of('reports-not-invoker', 'last-attempt-authorized').filter((f) => f.status !== 'pass')).toEqual([]);
    expect(of('reports-not-invoker', 'oidc-sa-can-invoke-target')[0]!.evidence.attempts).toMatchObject({ permissionDenied: 2 });
    expect(of('billing-no-token', 'http-target-uses-oidc')[0]!.evidence.attempts).toMatchObject({ unauthenticated: 2, lastFailure: '401' });
    expect(result.summary.evidence?.attempts).toMatchObject({ refusedAttempts: 10 });
    expect(result.summary.coverageGaps.filter((g) => g.reason.includes('execution logs'))).toEqual([]);
  });

  it('judges as before without the option', async () => {
    const before = await scanSample(false);
    expect(before.of('billing-unexplained-403', 'last-attempt-authorized')[0]!.message).toMatch(/^The last attempt ended PERMISSION_DENIED/);
    expect(before.findings.some((f) => 'attempts' in f.evidence)).toBe(false);
    expect(before.result.summary.evidence).toBeUndefined();
  });

  it('names a project whose logs could not be read in the summary, and judges its jobs from Job.status', async () => {
    fake.setFaults([{ method: 'ListLogEntries', code: 'PERMISSION_DENIED', scope: 'projects/acme-prod' }]);
    try {
      const { result, of } = await scanSample(true);
      expect(result.summary.coverageGaps.filter((g) => g.reason.includes('execution logs')).map((g) => g.scope)).toEqual(['projects/acme-prod']);
      expect(result.summary.partial).toBe(true);
      expect(of('billing-unexplained-403', 'last-attempt-authorized')[0]!.message).toMatch(/^The last attempt ended PERMISSION_DENIED/);
    } finally {
      fake.setFaults([]);
    }
  });

  it('names the project of a job the inventory did not list beforehand as a gap, and judges the job as before', async () => {
    // An export of Scheduler jobs alone, read as the CLI reads files: jobs after the model is built.
    const dir = mkdtempSync(join(tmpdir(), 'cw-jobs-only-'));
    const file = join(dir, 'jobs.ndjson');
    const lines = readFileSync(SAMPLE_FILES[0]!, 'utf8').split('\n').filter((l) => l.includes('"asset_type":"cloudscheduler.googleapis.com/Job"') && l.includes('/acme-prod/'));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const sink = new Collect();
    const steps = [new AttemptsEvidence({ from: 'projects', window: '7d', since: SINCE, logger, clientOptions: clientOptions() })];
    const { summary } = await runScan({ source: new FileAssetSource([file]), rules: allRules, sinks: [sink], logger, evidence: steps, now: () => SAMPLE_NOW });
    expect(summary.jobsScanned).toBe(lines.length);
    expect(summary.coverageGaps.filter((g) => g.reason.includes('execution logs')).map((g) => g.scope)).toEqual(['projects/acme-prod']);
    expect(sink.findings.some((f) => 'attempts' in f.evidence)).toBe(false);
    // Had the jobs been in the model before judging, their project would have been read.
    const early = [new AttemptsEvidence({ from: 'projects', window: '7d', since: SINCE, logger, clientOptions: clientOptions() })];
    const records = (await readSeedDir('examples/sample-org')).records.filter((r) => r.assetType === 'cloudscheduler.googleapis.com/Job' && r.name.includes('/acme-prod/'));
    const eager = { description: 'jobs first', read: async (onRecord: (r: { ok: true; record: (typeof records)[number] }) => void) => {
      for (const record of records) onRecord({ ok: true, record });
      return { records: records.length, problems: [], problemCount: 0, gaps: [] };
    } };
    const second = await runScan({ source: eager, rules: allRules, sinks: [new Collect()], logger, evidence: early, now: () => SAMPLE_NOW });
    expect(second.summary.coverageGaps.filter((g) => g.reason.includes('execution logs'))).toEqual([]);
  });
});
