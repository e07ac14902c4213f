import { AccessError, ConfigurationError, CredentialsError, CronwardenError } from '../errors.js';
import type { ScanResult } from '../scan/run-scan.js';
import type { CoverageGap } from '../inventory/source.js';
import { isStopSignal, signalExitCode } from './signals.js';

/** Exit codes of the `cli` mode: the README's "Exit codes" table, column CLI. */
export const CLI_EXIT = {
  /** Scan complete; no `fail` finding at or above `--fail-on`. */
  ok: 0,
  /** `fail` findings at or above `--fail-on`. */
  findings: 1,
  /** Usage, configuration, credentials or access error, or an output that cannot be opened: nothing trustworthy was produced. */
  error: 2,
  /** Partial: unreadable input, a coverage gap, undelivered findings, an interrupted run, an output that failed mid-run, a rule error. Outranks 1. */
  partial: 3,
  /** The inventory holds no Scheduler job at all: never mistaken for a clean scan. */
  emptyInventory: 4,
  /** Remediation: at least one change failed. */
  remediationFailed: 5,
} as const;

/** What the logs say for an outcome: a phrase of the text summary or error, and the Cloud Logging entry. */
export interface ExitOutcome {
  id: string;
  /** As the README's table words it. */
  outcome: string;
  cli: number;
  cloudRun: number;
  /** Whether Cloud Run retries the task (any non-zero exit). */
  retried: boolean;
  /** Text on stderr (`--log-format text`) that names this outcome. */
  text: string;
  /** The `event` and severity of the entry that ends a scan in Cloud Logging JSON (other commands log their own). */
  entry?: { event: 'scan.completed' | 'scan.failed'; severity: 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL' };
}

/**
 * The one exit-code table. README.md's "Exit codes" table is this, row for row, and
 * test/runtime/exit-code-table.test.ts runs each outcome it can and holds code, logs and README to it.
 */
export const EXIT_OUTCOMES: readonly ExitOutcome[] = [
  { id: 'ok', outcome: 'scan complete; no `fail` finding at or above `--fail-on`', cli: 0, cloudRun: 0, retried: false, text: 'jobs scanned', entry: { event: 'scan.completed', severity: 'INFO' } },
  { id: 'findings', outcome: '`fail` findings at or above `--fail-on` (in a Cloud Run task `--fail-on` does not apply)', cli: 1, cloudRun: 0, retried: false, text: 'non-passing by severity', entry: { event: 'scan.completed', severity: 'INFO' } },
  { id: 'configuration', outcome: 'usage or configuration error: bad flag, variable, rule pack, spool directory', cli: 2, cloudRun: 0, retried: false, text: 'invalid configuration', entry: { event: 'scan.failed', severity: 'CRITICAL' } },
  { id: 'output-unopenable', outcome: '`--output` cannot be opened (missing directory, a directory, no permission): found before anything is read', cli: 2, cloudRun: 0, retried: false, text: 'cannot be opened for writing', entry: { event: 'scan.failed', severity: 'CRITICAL' } },
  { id: 'access-refused', outcome: 'credentials or access refused for good by a Google API before a result (PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND…)', cli: 2, cloudRun: 0, retried: false, text: 'refused', entry: { event: 'scan.failed', severity: 'CRITICAL' } },
  { id: 'credentials', outcome: 'no usable credentials: none found, the file missing or unreadable, the login expired; the message names the command that fixes it (75 in a task when the token service is only unreachable)', cli: 2, cloudRun: 0, retried: false, text: 'application-default login', entry: { event: 'scan.failed', severity: 'CRITICAL' } },
  { id: 'access-every-scope', outcome: 'every scope refused before anything was judged: an access error naming `roles/cloudasset.viewer` on each scope (75 in a task when every scope was only unreachable)', cli: 2, cloudRun: 0, retried: false, text: 'no scope could be listed', entry: { event: 'scan.failed', severity: 'CRITICAL' } },
  { id: 'internal', outcome: 'an unexpected (internal) error', cli: 2, cloudRun: 70, retried: true, text: 'internal error', entry: { event: 'scan.failed', severity: 'ERROR' } },
  { id: 'partial-input', outcome: 'partial: unreadable input, or a permanent coverage gap (a policy not in the inventory, PERMISSION_DENIED on a scope)', cli: 3, cloudRun: 0, retried: false, text: 'PARTIAL', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'rule-error', outcome: 'partial: a rule threw or returned a result outside the contract', cli: 3, cloudRun: 0, retried: false, text: 'RULE ERROR', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'transient-gap', outcome: 'partial: a scope unreadable for a transient reason (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED…) past the retries', cli: 3, cloudRun: 75, retried: true, text: 'COVERAGE GAPS', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'undelivered', outcome: 'partial: findings Pub/Sub did not take (spooled)', cli: 3, cloudRun: 75, retried: true, text: 'UNDELIVERED via pubsub', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'output-failed', outcome: 'partial: the output failed mid-run (ENOSPC…); other sinks went on', cli: 3, cloudRun: 75, retried: true, text: 'cannot write', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'interrupted', outcome: 'partial: stopped by SIGTERM (SIGINT: 130 in a task) before every job was judged; unacknowledged findings spooled', cli: 3, cloudRun: 143, retried: true, text: 'INTERRUPTED by SIGTERM', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'state-problem', outcome: 'partial: the finding state (`--state`) could not be read or written; every finding is still reported (lifecycle `unknown` or not saved)', cli: 3, cloudRun: 0, retried: false, text: 'STATE PROBLEM', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'empty-inventory', outcome: 'empty inventory: no Scheduler job at all was found', cli: 4, cloudRun: 0, retried: false, text: 'no Scheduler job', entry: { event: 'scan.completed', severity: 'WARNING' } },
  { id: 'remediation-failed', outcome: 'remediation: at least one change failed (fix apply/undo)', cli: 5, cloudRun: 0, retried: false, text: 'failed' },
];

/**
 * `cli`: the ESLint-style codes for people and CI ({@link CLI_EXIT}).
 * `cloud-run`: Cloud Run retries a task on any non-zero exit, so only what a retry can fix
 * exits non-zero; everything else exits 0 and is reported in the logs and the summary.
 */
export type ExitMode = 'cli' | 'cloud-run';
export const EXIT_MODES = ['cli', 'cloud-run'] as const;

export const EXIT_MODE_ENV = 'CRONWARDEN_EXIT_MODE';

/**
 * `cli` exit code when the input held no Scheduler job at all (an empty file, `[]`, an export
 * without the Job asset type, a scope with none): not clean, since nothing was checked, and not
 * a finding, so `--fail-on` cannot mistake it for either. Partial (3) outranks it.
 */
export const CLI_EXIT_EMPTY_INVENTORY = 4;

/** Whether a finished scan found no Scheduler job record at all. */
export function isEmptyInventory(result: ScanResult): boolean {
  return result.summary.jobsFound === 0;
}

/** `cli` mode: `fix apply`, `fix undo` or unattended remediation where at least one change failed. */
export const REMEDIATION_FAILED_EXIT = 5;

/** Exit codes of the `cloud-run` mode. Every non-zero one makes Cloud Run retry the task. */
export const CLOUD_RUN_EXIT = {
  /** Done, including findings, permanent coverage gaps and configuration errors (all logged). */
  done: 0,
  /** EX_SOFTWARE: an unexpected error; its cause is unknown, so a retry may fix it. */
  internal: 70,
  /** EX_TEMPFAIL: a transient failure (API unavailable past the retry budget, undelivered findings). */
  transient: 75,
  /** 128 + 15: stopped by SIGTERM (task timeout, execution cancelled) before judging every job. */
  sigterm: 143,
} as const;

/** `cloud-run` when asked for, or by default inside a Cloud Run job; `cli` otherwise. */
export function exitModeFromEnv(env: NodeJS.ProcessEnv): ExitMode {
  const raw = env[EXIT_MODE_ENV]?.trim().toLowerCase();
  if (raw === 'cli' || raw === 'cloud-run') return raw;
  return env.CLOUD_RUN_JOB ? 'cloud-run' : 'cli';
}

/** gRPC codes a later attempt can succeed after (the conventional retryable set, plus quota). */
const TRANSIENT_CODES = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'INTERNAL'] as const;
const TRANSIENT_PATTERN = new RegExp(`\\b(${TRANSIENT_CODES.join('|')})\\b`);

/**
 * Whether a coverage gap may close on a retry. A source can say so with `retryable` or name
 * the gRPC `code`; otherwise the code name in the reason decides (gRPC errors read
 * "14 UNAVAILABLE: ..."). PERMISSION_DENIED, NOT_FOUND or a policy missing from the inventory
 * stay the same on every attempt.
 */
export function isTransientGap(gap: CoverageGap): boolean {
  const extra = gap as CoverageGap & { retryable?: unknown; code?: unknown };
  if (typeof extra.retryable === 'boolean') return extra.retryable;
  if (typeof extra.code === 'string') return (TRANSIENT_CODES as readonly string[]).includes(extra.code);
  return TRANSIENT_PATTERN.test(gap.reason);
}

export interface ExitDecision {
  code: number;
  /** Whether Cloud Run will retry the task because of this code. */
  retried: boolean;
  reason: string;
}

/** The `cloud-run` exit code of a finished (or interrupted) scan. */
export function cloudRunScanExit(result: ScanResult, stopReason?: unknown): ExitDecision {
  if (result.interrupted) {
    const code = isStopSignal(stopReason) ? signalExitCode(stopReason) : CLOUD_RUN_EXIT.sigterm;
    return { code, retried: true, reason: `interrupted by ${isStopSignal(stopReason) ? stopReason : 'a stop request'} after ${result.summary.jobsScanned} jobs` };
  }
  const undelivered = result.sinkReports.filter((r) => r.failed > 0);
  if (undelivered.length > 0) {
    const what = undelivered.map((r) => `${r.failed} via ${r.sink}`).join(', ');
    return { code: CLOUD_RUN_EXIT.transient, retried: true, reason: `findings not delivered (${what}); a retry scans and publishes again` };
  }
  const transient = result.summary.coverageGaps.filter(isTransientGap);
  if (transient.length > 0) {
    return { code: CLOUD_RUN_EXIT.transient, retried: true, reason: `${transient.length} scope(s) unreadable for a transient reason, e.g. ${transient[0]!.scope}: ${transient[0]!.reason}` };
  }
  const permanent = result.summary.partial ? ' (partial: the coverage gaps and unreadable records in the summary repeat on a retry)' : '';
  // No job at all is a permanent outcome (a retry reads the same inventory): logged, not retried.
  const empty = isEmptyInventory(result) ? ' (EMPTY INVENTORY: no Scheduler job was found, nothing was judged)' : '';
  return { code: CLOUD_RUN_EXIT.done, retried: false, reason: `scan complete${permanent}${empty}` };
}

const GRPC_TRANSIENT = new Set([4, 8, 10, 13, 14]);
const GRPC_PERMANENT = new Set([3, 5, 7, 9, 11, 12, 16]);

/** The numeric gRPC status code on an error or anywhere along its `cause` chain. */
function grpcCodeOf(err: unknown): number | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16) return code;
  }
  return undefined;
}

/** The `cloud-run` exit code of a run that threw before or during the scan. */
export function cloudRunFailureExit(err: unknown): ExitDecision {
  if (err instanceof AccessError) {
    return err.transient
      ? { code: CLOUD_RUN_EXIT.transient, retried: true, reason: 'no scope could be listed for a transient reason; a retry may succeed' }
      : { code: CLOUD_RUN_EXIT.done, retried: false, reason: 'access error: no scope could be listed, and a retry would fail the same way' };
  }
  if (err instanceof CredentialsError) {
    return err.transient
      ? { code: CLOUD_RUN_EXIT.transient, retried: true, reason: 'credentials: no access token could be had for now; a retry may succeed' }
      : { code: CLOUD_RUN_EXIT.done, retried: false, reason: 'credentials error: nothing was scanned, and a retry would fail the same way' };
  }
  if (err instanceof ConfigurationError) {
    return { code: CLOUD_RUN_EXIT.done, retried: false, reason: 'configuration error: nothing was scanned, and a retry would fail the same way' };
  }
  const grpc = grpcCodeOf(err);
  if (grpc !== undefined && GRPC_TRANSIENT.has(grpc)) {
    return { code: CLOUD_RUN_EXIT.transient, retried: true, reason: `transient Google API error (gRPC code ${grpc}): a retry may succeed` };
  }
  if (grpc !== undefined && GRPC_PERMANENT.has(grpc)) {
    return { code: CLOUD_RUN_EXIT.done, retried: false, reason: `Google API refused the request (gRPC code ${grpc}): a retry would fail the same way` };
  }
  const kind = err instanceof CronwardenError ? `${err.name} ${err.code}` : 'internal error';
  return { code: CLOUD_RUN_EXIT.internal, retried: true, reason: `${kind} of unknown cause: a retry may succeed` };
}
