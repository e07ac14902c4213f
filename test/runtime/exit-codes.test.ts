import { describe, expect, it } from 'vitest';
import { ConfigurationError, InventoryError, RuleContractError } from '../../src/errors.js';
import { cloudRunFailureExit, cloudRunScanExit, CLOUD_RUN_EXIT, exitModeFromEnv, isTransientGap } from '../../src/runtime/exit-codes.js';
import { createProgress } from '../../src/runtime/progress.js';
import type { ScanResult } from '../../src/scan/run-scan.js';
import type { SinkReport } from '../../src/sinks/sink.js';
import { runCli, SAMPLE_FILES } from '../support/cli-harness.js';
import { PassThrough } from 'node:stream';

function result(opts: { interrupted?: boolean; partial?: boolean; gaps?: { scope: string; reason: string }[]; sinks?: SinkReport[]; fail?: number } = {}): ScanResult {
  return {
    interrupted: opts.interrupted ?? false,
    sinkReports: opts.sinks ?? [{ sink: 'jsonl', delivered: 1, failed: 0 }],
    summary: {
      jobsScanned: 10,
      coverageGaps: opts.gaps ?? [],
      partial: opts.partial ?? (opts.gaps?.length ?? 0) > 0,
      findings: { bySeverity: { critical: { fail: opts.fail ?? 0 } } },
    },
  } as unknown as ScanResult;
}

describe('exit codes in a Cloud Run job', () => {
  it.each([
    ['a clean scan', result(), 0, false],
    ['critical findings (a retry finds them again)', result({ fail: 3 }), 0, false],
    ['a permission-denied coverage gap', result({ gaps: [{ scope: 'folders/5', reason: '7 PERMISSION_DENIED: caller lacks cloudasset.assets.listResource' }] }), 0, false],
    ['an IAM policy missing from the inventory', result({ gaps: [{ scope: 'projects/9', reason: 'IAM policy not in the inventory; verdicts that depend on it are unverifiable' }] }), 0, false],
    ['an API unavailable past the retry budget', result({ gaps: [{ scope: 'organizations/1', reason: '14 UNAVAILABLE: connection reset' }] }), 75, true],
    ['a quota exhausted past the retry budget', result({ gaps: [{ scope: 'organizations/1', reason: 'RESOURCE_EXHAUSTED: quota' }] }), 75, true],
    ['findings Pub/Sub could not take (spooled)', result({ sinks: [{ sink: 'pubsub', delivered: 3, failed: 2, spoolPath: '/tmp/s.jsonl' }] }), 75, true],
    ['a stop by SIGTERM', result({ interrupted: true, partial: true }), 143, true],
  ])('%s → %i', (_what, r, code, retried) => {
    const decision = cloudRunScanExit(r, r.interrupted ? 'SIGTERM' : undefined);
    expect(decision.code).toBe(code);
    expect(decision.retried).toBe(retried);
    expect(decision.reason).not.toBe('');
  });

  it('reads an explicit retryable flag or gRPC code on a gap before its text', () => {
    expect(isTransientGap({ scope: 's', reason: 'UNAVAILABLE', retryable: false } as never)).toBe(false);
    expect(isTransientGap({ scope: 's', reason: 'x', code: 'DEADLINE_EXCEEDED' } as never)).toBe(true);
    expect(isTransientGap({ scope: 's', reason: 'x', code: 'NOT_FOUND' } as never)).toBe(false);
  });

  it.each([
    ['a configuration error', new ConfigurationError('BAD_FLAGS', 'unknown flag'), CLOUD_RUN_EXIT.done],
    ['permission denied from an API', new InventoryError('LIST_FAILED', 'denied', { cause: Object.assign(new Error('7 PERMISSION_DENIED'), { code: 7 }) }), CLOUD_RUN_EXIT.done],
    ['unavailable from an API', new InventoryError('LIST_FAILED', 'down', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }), CLOUD_RUN_EXIT.transient],
    ['a broken rule', new RuleContractError('BAD_MESSAGE', 'unknown message id'), CLOUD_RUN_EXIT.internal],
    ['an unexpected exception', new TypeError('x is undefined'), CLOUD_RUN_EXIT.internal],
  ])('%s before a result → %i', (_what, err, code) => {
    expect(cloudRunFailureExit(err).code).toBe(code);
  });

  it('is the mode inside a Cloud Run job unless CRONWARDEN_EXIT_MODE says otherwise', () => {
    expect(exitModeFromEnv({})).toBe('cli');
    expect(exitModeFromEnv({ CLOUD_RUN_JOB: 'j' })).toBe('cloud-run');
    expect(exitModeFromEnv({ CLOUD_RUN_JOB: 'j', CRONWARDEN_EXIT_MODE: 'cli' })).toBe('cli');
    expect(exitModeFromEnv({ CRONWARDEN_EXIT_MODE: 'cloud-run' })).toBe('cloud-run');
  });
});

describe('exit codes through the CLI', () => {
  const inputs = SAMPLE_FILES.flatMap((f) => ['--input', f]);

  it('keeps the ESLint-style codes outside Cloud Run: --fail-on high exits 1 on the sample', async () => {
    expect((await runCli(['scan', ...inputs, '--fail-on', 'high'], {})).code).toBe(1);
  });

  it('exits 0 for the same findings in a Cloud Run job, and says why', async () => {
    const r = await runCli(['scan', ...inputs, '--fail-on', 'high'], { CLOUD_RUN_JOB: 'cronwarden-scan', CRONWARDEN_LOG_FORMAT: 'text' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('exit 0: scan complete');
  });

  it('exits 0 on a configuration error in a Cloud Run job (a retry cannot fix it), logged as CRITICAL', async () => {
    const r = await runCli(['scan', '--bogus'], { CLOUD_RUN_JOB: 'cronwarden-scan' });
    expect(r.code).toBe(0);
    const entry = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(entry).toMatchObject({ severity: 'CRITICAL', event: 'scan.failed', exitCode: 0, retried: false });
    expect((await runCli(['scan', '--bogus'], {})).code).toBe(2);
  });

  it('takes --exit-mode and CRONWARDEN_EXIT_MODE like any setting', async () => {
    expect((await runCli(['scan', ...inputs, '--fail-on', 'high', '--exit-mode', 'cloud-run'], {})).code).toBe(0);
    expect((await runCli(['scan', ...inputs, '--fail-on', 'high'], { CRONWARDEN_EXIT_MODE: 'cloud-run' })).code).toBe(0);
    const bad = await runCli(['scan', ...inputs, '--exit-mode', 'sometimes'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--exit-mode (or CRONWARDEN_EXIT_MODE)');
  });
});

describe('the progress line', () => {
  function terminal(): { stream: PassThrough & { isTTY: boolean }; text: () => string } {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: string[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b.toString()));
    return { stream, text: () => chunks.join('') };
  }

  it('redraws in place at most every interval, keeps log lines above it and is erased at the end', () => {
    const t = terminal();
    let now = 0;
    const p = createProgress(t.stream, { intervalMs: 100, now: () => now });
    p.update(1, 10);
    now = 50;
    p.update(2, 10);
    now = 150;
    p.update(3, 10);
    p.writeAbove('cronwarden warn: something\n');
    p.update(10, 10);
    p.clear();
    p.update(10, 10);
    const text = t.text();
    expect(text.match(/judged \d+ of 10/g)).toEqual(['judged 1 of 10', 'judged 3 of 10', 'judged 3 of 10', 'judged 10 of 10']);
    expect(text).toContain('\r\x1b[2Kcronwarden warn: something\n');
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('draws nothing when stderr is not a terminal', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b.toString()));
    const p = createProgress(stream);
    p.update(1, 2);
    p.writeAbove('line\n');
    p.clear();
    expect(chunks.join('')).toBe('line\n');
  });
});
