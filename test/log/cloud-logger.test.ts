import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ResolvedRecordSchema } from '../../src/lifecycle/resolved-record.js';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { createCloudLogger, findingSeverity, redact, REDACTED, type CloudLogger } from '../../src/log/cloud-logger.js';
import type { LogLevel } from '../../src/log/logger.js';
import type { ScanSummary } from '../../src/scan/summary.js';

const LABELS = { scanId: 'scan-1', job: 'cronwarden-scan', execution: 'cronwarden-scan-x1', task: '2', attempt: '0' };

async function logger(level: LogLevel = 'debug'): Promise<{ log: CloudLogger; lines: () => Record<string, unknown>[]; raw: () => string }> {
  const out: string[] = [];
  const log = await createCloudLogger({ level, write: (l) => void out.push(l), labels: LABELS });
  return { log, raw: () => out.join(''), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const FINDING: Finding = {
  schemaVersion: 1,
  findingId: '0123456789abcdef0123456789abcdef',
  scanId: 'scan-1',
  ruleId: 'http-target-uses-oidc',
  status: 'fail',
  severity: 'critical',
  title: 'HTTP target on Cloud Run or Cloud Functions uses an OIDC token',
  message: 'Job calls projects/p/locations/l/services/s without any token.',
  job: { name: 'projects/p/locations/l/jobs/j', project: 'p', location: 'l', state: 'ENABLED', uri: 'https://s-abc.a.run.app' },
  target: { kind: 'cloud-run', resource: 'projects/p/locations/l/services/s', url: 'https://s-abc.a.run.app' },
  evidence: { state: 'ENABLED', public: false },
  remediation: { summary: 'Set an OIDC token.', automaticFix: false },
  observedAt: '2026-11-29T03:17:00.000Z',
};

describe('the Cloud Logging logger', () => {
  it('writes one JSON line per call, with severity, message, timestamp and the task labels', async () => {
    const { log, lines, raw } = await logger();
    log.info('listing assets', { scope: 'organizations/123' });
    log.warn('slow', { ms: 1200 });
    log.error('failed');
    log.debug('detail');
    expect(raw().split('\n').filter(Boolean)).toHaveLength(4);
    expect(lines().map((l) => l.severity)).toEqual(['INFO', 'WARNING', 'ERROR', 'DEBUG']);
    const [first] = lines();
    expect(first).toMatchObject({ message: 'listing assets', scope: 'organizations/123', logger: 'cronwarden', 'logging.googleapis.com/labels': LABELS });
    expect(first!.timestamp).toEqual({ seconds: expect.any(Number), nanos: expect.any(Number) });
  });

  it('leaves out lines below the level, and drops empty labels', async () => {
    const out: string[] = [];
    const log = await createCloudLogger({ level: 'warn', write: (l) => void out.push(l), labels: { scanId: 's', execution: undefined, task: '' } });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)['logging.googleapis.com/labels']).toEqual({ scanId: 's' });
  });

  it('never lets a field override the severity or the message', async () => {
    const { log, lines } = await logger();
    log.info('real message', { severity: 'EMERGENCY', message: 'spoofed', timestamp: 0 });
    expect(lines()[0]).toMatchObject({ severity: 'INFO', message: 'real message', severity_: 'EMERGENCY', message_: 'spoofed', timestamp_: 0 });
  });

  it('never writes a credential: secret-named fields and token-shaped text are redacted', async () => {
    const { log, raw } = await logger();
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3gifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
    log.error('token refresh failed for ya29.a0AfB_byC-secret-value', {
      accessToken: 'opaque-access-token-value',
      request: { headers: { Authorization: 'Bearer opaque-bearer-value', 'x-goog-user-project': 'p' } },
      credentials: { client_email: 'x@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n' },
      idToken: jwt,
      note: `sent ${jwt}`,
      error: Object.assign(new Error('401 with Bearer opaque-bearer-value'), { code: 16 }),
      oidcToken: { serviceAccountEmail: 'invoker@p.iam.gserviceaccount.com' },
    });
    const text = raw();
    for (const secret of ['ya29.', 'opaque-access-token-value', 'opaque-bearer-value', 'BEGIN PRIVATE KEY', 'MIIEv', jwt]) expect(text).not.toContain(secret);
    expect(text).toContain(REDACTED);
    expect(text).toContain('invoker@p.iam.gserviceaccount.com');
    expect(text).toContain('x-goog-user-project');
    const entry = JSON.parse(text) as { error: { name: string; code: number } };
    expect(entry.error).toMatchObject({ name: 'Error', code: 16 });
  });

  it('redact keeps plain data as it is', () => {
    const data = { jobs: 3, names: ['a', 'b'], nested: { ok: true, when: null } };
    expect(redact(data)).toEqual(data);
  });

  it('writes each finding as an entry whose severity follows the finding, the finding intact inside', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (b: Buffer) => chunks.push(b.toString()));
    const { log } = await logger();
    const sink = log.findingSink(out);
    await sink.write(FINDING);
    await sink.write({ ...FINDING, status: 'unverifiable', severity: 'high' });
    expect(await sink.close({} as ScanSummary)).toEqual({ sink: 'cloud-logging', delivered: 2, failed: 0 });
    const entries = chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as { severity: string; message: string; event: string; finding: unknown; 'logging.googleapis.com/labels': unknown });
    expect(entries.map((e) => e.severity)).toEqual(['CRITICAL', 'WARNING']);
    expect(entries[0]!.message).toBe(`${FINDING.ruleId}: ${FINDING.message}`);
    expect(entries[0]!.event).toBe('finding');
    expect(FindingSchema.parse(entries[0]!.finding)).toEqual(FINDING);
    expect(entries[0]!['logging.googleapis.com/labels']).toEqual(LABELS);
  });

  it('writes a finding.resolved record as a NOTICE entry, the record intact inside', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (b: Buffer) => chunks.push(b.toString()));
    const { log } = await logger();
    const sink = log.findingSink(out);
    const record = {
      recordType: 'finding.resolved' as const,
      schemaVersion: 1 as const,
      lifecycle: 'resolved' as const,
      findingId: FINDING.findingId,
      ruleId: FINDING.ruleId,
      severity: FINDING.severity,
      job: { name: FINDING.job.name, project: FINDING.job.project, location: FINDING.job.location },
      firstSeenAt: '2026-11-01T03:00:00.000Z',
      resolvedAt: '2026-12-01T03:00:00.000Z',
      reason: 'no-longer-raised' as const,
      scanId: 'scan-2',
    };
    await sink.writeResolved!(record);
    const [entry] = chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as { severity: string; event: string; finding: unknown });
    expect(entry).toMatchObject({ severity: 'NOTICE', event: 'finding.resolved' });
    expect(ResolvedRecordSchema.parse(entry!.finding)).toEqual(record);
  });

  it('maps finding severities to Cloud Logging severities', () => {
    expect((['critical', 'high', 'medium', 'low', 'info'] as const).map((severity) => findingSeverity({ status: 'fail', severity }))).toEqual(['CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO']);
    expect(findingSeverity({ status: 'unverifiable', severity: 'critical' })).toBe('WARNING');
    expect(findingSeverity({ status: 'unverifiable', severity: 'low' })).toBe('NOTICE');
    expect(findingSeverity({ status: 'pass', severity: 'critical' })).toBe('INFO');
  });

  it('reports the summary as one entry: WARNING when partial', async () => {
    const { log, lines } = await logger('silent');
    const summary = { scanId: 'scan-1', jobsScanned: 4, findings: { byStatus: { fail: 1 } }, partial: true, shard: { index: 2, count: 3 } } as unknown as ScanSummary;
    log.summary(summary, [{ sink: 'jsonl', delivered: 1, failed: 0 }], { exitCode: 0 });
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ severity: 'WARNING', event: 'scan.completed', exitCode: 0, summary: { shard: { index: 2, count: 3 } } });
    expect(String(lines()[0]!.message)).toContain('(task 3 of 3)');
  });
});

describe('loading @google-cloud/logging', () => {
  const REPO = fileURLToPath(new URL('../..', import.meta.url));
  const loaded = (env: Record<string, string>): boolean => {
    const script = `
      import { createRequire } from 'node:module';
      import { PassThrough } from 'node:stream';
      const { main } = await import(${JSON.stringify(join(REPO, 'dist/src/cli/main.js'))});
      const sink = () => Object.assign(new PassThrough(), { isTTY: false }).resume();
      await main(['scan', '--input', 'examples/sample-org/resources.export.ndjson'], { stdout: sink(), stderr: sink(), env: ${JSON.stringify(env)} });
      const cache = Object.keys(createRequire(import.meta.url).cache);
      process.stdout.write(String(cache.some((k) => k.includes('@google-cloud/logging'))));
    `;
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO }).toString() === 'true';
  };

  it('happens only when the JSON log format is chosen', () => {
    expect(loaded({})).toBe(false);
    expect(loaded({ CRONWARDEN_LOG_FORMAT: 'json' })).toBe(true);
  });
});
