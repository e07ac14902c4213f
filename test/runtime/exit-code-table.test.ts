import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_HELP } from '../../src/cli/help.js';
import { exitCode, main } from '../../src/cli/main.js';
import { formatSummary } from '../../src/cli/summary-text.js';
import { createCloudLogger } from '../../src/log/cloud-logger.js';
import { CLI_EXIT, cloudRunFailureExit, cloudRunScanExit, EXIT_OUTCOMES, type ExitOutcome } from '../../src/runtime/exit-codes.js';
import { reportFailure } from '../../src/runtime/scan-runtime.js';
import type { ScanResult } from '../../src/scan/run-scan.js';
import type { ScanSummary } from '../../src/scan/summary.js';
import type { SinkReport } from '../../src/sinks/sink.js';
import { sampleInputs } from '../support/cli-harness.js';
import { InventoryError } from '../../src/errors.js';
import { scratch } from '../adversarial/hostile-inventory.js';

/**
 * The one exit-code table: EXIT_OUTCOMES in code, the README's "Exit codes" table, and what the
 * CLI does. Each outcome that can be produced here is produced, in both exit modes, and its code
 * and log lines are checked against its row.
 */

const README = readFileSync(join(fileURLToPath(new URL('../..', import.meta.url)), 'README.md'), 'utf8');
const work = scratch('exit-table');
afterAll(() => work.remove());

function readmeRows(): string[][] {
  const section = README.slice(README.indexOf('### Exit codes'), README.indexOf('## Deploy'));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| outcome'))
    .map((l) => l.slice(2, -2).split(' | '));
}

const row = (id: string): ExitOutcome => EXIT_OUTCOMES.find((o) => o.id === id)!;

describe('the exit-code table', () => {
  it('is the README table, row for row', () => {
    expect(readmeRows()).toEqual(
      EXIT_OUTCOMES.map((o) => [o.outcome, String(o.cli), String(o.cloudRun), o.retried ? 'yes' : 'no', `\`${o.text}\`${o.entry ? `; \`${o.entry.event}\` ${o.entry.severity}` : ''}`]),
    );
  });

  it('uses every CLI code, each listed in the help; Cloud Run retries exactly the non-zero codes', () => {
    expect(new Set(EXIT_OUTCOMES.map((o) => o.cli))).toEqual(new Set(Object.values(CLI_EXIT)));
    for (const code of Object.values(CLI_EXIT)) expect(MAIN_HELP).toMatch(new RegExp(`^  ${code}  `, 'm'));
    for (const o of EXIT_OUTCOMES) expect(o.retried, o.id).toBe(o.cloudRun !== 0);
  });
});

interface Run {
  code: number;
  stderr: string;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stdout.resume();
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await main(argv, { stdout: Object.assign(stdout, { isTTY: false }), stderr, env, ...(signal ? { signal } : {}) });
  return { code, stderr: err };
}

const CLOUD_RUN = { CLOUD_RUN_JOB: 'cronwarden-scan', CLOUD_RUN_EXECUTION: 'cronwarden-scan-x', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' };

/** The entry that ends the run in Cloud Logging JSON. */
function lastEntry(stderr: string): Record<string, unknown> {
  const entries = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return entries.findLast((e) => e.event === 'scan.completed' || e.event === 'scan.failed')!;
}

describe('each outcome the CLI can be made to produce here', () => {
  const badLine = work.file('bad.ndjson', 'not json\n');
  const pack = work.file(
    'throws.mjs',
    `export default [{ meta: { id: 'pack-throws', title: 't', severity: 'low', appliesTo: 'all', docs: { description: 'd', rationale: 'r', sources: ['s'], fix: { gcloud: 'g', terraform: 't' } }, messages: { ok: 'ok' }, remediation: { summary: 's', automatic: false } }, evaluate() { throw new Error('boom'); } }];\n`,
  );
  const scenarios: [string, () => string[], AbortSignal?][] = [
    ['ok', () => ['scan', ...sampleInputs()]],
    ['findings', () => ['scan', ...sampleInputs(), '--fail-on', 'high']],
    ['configuration', () => ['scan', ...sampleInputs(), '--fail-on', 'extreme']],
    ['output-unopenable', () => ['scan', ...sampleInputs(), '--output', join(work.dir, 'missing', 'out.jsonl')]],
    ['partial-input', () => ['scan', ...sampleInputs(), '--input', badLine]],
    ['rule-error', () => ['scan', ...sampleInputs(), '--rule-pack', pack]],
    ['output-failed', () => ['scan', ...sampleInputs(), '--output', '/dev/full']],
    ['interrupted', () => ['scan', ...sampleInputs()], AbortSignal.abort('SIGTERM')],
  ];

  // Before, a failing flag beside `--exit-mode cloud-run` exited by the CLI column (2): the mode
  // was known only once every flag had been read.
  it.each(['--exit-mode=cloud-run', '--exit-mode cloud-run'])('a configuration error with %s given as a flag exits by the Cloud Run column', async (flag) => {
    const r = await cli(['scan', ...sampleInputs(), ...flag.split(' '), '--fail-on', 'extreme'], {});
    expect(r.code, r.stderr).toBe(row('configuration').cloudRun);
    expect(r.stderr).toContain(row('configuration').text);
  });

  it.each(scenarios)('%s: the CLI code and text, the Cloud Run code and entry', async (id, argv, signal) => {
    const o = row(id);
    const text = await cli(argv(), {}, signal);
    expect(text.code, text.stderr).toBe(o.cli);
    expect(text.stderr).toContain(o.text);
    const json = await cli(argv(), CLOUD_RUN, signal);
    expect(json.code, json.stderr).toBe(o.cloudRun);
    const entry = lastEntry(json.stderr);
    expect(entry, json.stderr).toMatchObject({ event: o.entry!.event, severity: o.entry!.severity, exitCode: o.cloudRun });
  });
});

describe('outcomes produced against services (proved end to end elsewhere), through the same decisions', () => {
  const summary = (over: Partial<ScanSummary> = {}): ScanSummary => ({
    scanId: 's', version: '0', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, jobsScanned: 3, assetsRead: 9, assetsSkippedByType: {}, rulesRun: ['r'],
    findings: { total: 0, byRule: {}, bySeverity: {}, byStatus: {} }, unreadableRecords: 0, problems: [], coverageGaps: [], partial: false, ...over,
  });
  const result = (s: ScanSummary, sinks: SinkReport[]): ScanResult => ({ summary: s, sinkReports: sinks, interrupted: false }) as unknown as ScanResult;

  async function entryOf(s: ScanSummary, sinks: SinkReport[]): Promise<Record<string, unknown>> {
    let line = '';
    const logger = await createCloudLogger({ level: 'info', write: (l) => void (line = l), labels: {} });
    logger.summary(s, sinks, { exitCode: cloudRunScanExit(result(s, sinks)).code });
    return { ...(JSON.parse(line) as Record<string, unknown>), event: 'scan.completed' };
  }

  it('the summary lists severities most severe first, whatever order the findings came in', () => {
    const bySeverity = { low: { unverifiable: 1 }, critical: { fail: 2 }, high: { fail: 1 } };
    expect(formatSummary(summary({ findings: { total: 4, byRule: {}, bySeverity, byStatus: {} } }), [])).toContain(
      'non-passing by severity: critical 2 fail/0 unverifiable, high 1 fail/0 unverifiable, low 0 fail/1 unverifiable',
    );
  });

  it.each([
    ['transient-gap', summary({ coverageGaps: [{ scope: 'organizations/1', reason: '14 UNAVAILABLE: reset' }], partial: true }), []],
    ['undelivered', summary(), [{ sink: 'pubsub', delivered: 1, failed: 2, spoolPath: 'cronwarden-spool/x.spool.jsonl' }]],
  ] as [string, ScanSummary, SinkReport[]][])('%s (Pub/Sub emulator, Cloud Asset fake)', async (id, s, sinks) => {
    const o = row(id);
    expect(exitCode(result(s, sinks), 'never')).toBe(o.cli);
    expect(cloudRunScanExit(result(s, sinks)).code).toBe(o.cloudRun);
    expect(formatSummary(s, sinks)).toContain(o.text);
    expect(await entryOf(s, sinks)).toMatchObject({ severity: o.entry!.severity });
  });

  it.each([
    ['access-refused', new InventoryError('LIST_FAILED', 'cannot list organizations/1', { cause: Object.assign(new Error('7 PERMISSION_DENIED: caller lacks cloudasset.assets.listResource'), { code: 7 }) })],
    ['internal', new TypeError('x is undefined')],
  ] as [string, Error][])('%s before a result', async (id, err) => {
    const o = row(id);
    const io = (env: NodeJS.ProcessEnv) => {
      const stderr = new PassThrough();
      let text = '';
      stderr.on('data', (b: Buffer) => (text += b.toString()));
      return { io: { stderr, env }, text: () => text };
    };
    const plain = io({});
    expect(await reportFailure(err, plain.io, CLI_EXIT.error)).toBe(o.cli);
    const task = io({ ...CLOUD_RUN, CRONWARDEN_LOG_FORMAT: 'text' });
    expect(await reportFailure(err, task.io, CLI_EXIT.error)).toBe(o.cloudRun);
    expect(`${plain.text()}${task.text()}`).toContain(o.text);
    const json = io(CLOUD_RUN);
    await reportFailure(err, json.io, CLI_EXIT.error);
    expect(cloudRunFailureExit(err).code).toBe(o.cloudRun);
    expect(lastEntry(json.text())).toMatchObject({ event: 'scan.failed', exitCode: o.cloudRun, severity: o.entry!.severity });
  });
});
