import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { CronwardenError } from '../errors.js';
import { createCloudLogger, isCloudLogger } from '../log/cloud-logger.js';
import { terminalText, textLogger, type Logger, type LogLevel } from '../log/logger.js';
import type { ScanOptions, ScanResult } from '../scan/run-scan.js';
import { formatSummary } from '../cli/summary-text.js';
import { readCloudRunTask, shardOptions, type CloudRunTask } from './cloud-run.js';
import { cloudRunFailureExit, cloudRunScanExit, exitModeFromEnv, type ExitMode } from './exit-codes.js';
import { createProgress, type Progress } from './progress.js';
import { fitLines, terminalWidth } from '../text/terminal.js';

export interface RuntimeIo {
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Aborted by SIGTERM/SIGINT: the scan stops taking jobs, flushes and reports itself interrupted. */
  signal?: AbortSignal;
}

/** The settings of the scan configuration that the runtime reads. */
export interface RuntimeSettings {
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  exitMode: ExitMode;
}

/** Defaults that differ inside a Cloud Run job: JSON logs and retry-aware exit codes. */
export function cloudRunDefaults(env: NodeJS.ProcessEnv): { logFormat?: 'json'; exitMode?: 'cloud-run' } {
  return env.CLOUD_RUN_JOB ? { logFormat: 'json', exitMode: 'cloud-run' } : {};
}

export interface ScanRuntime {
  readonly scanId: string;
  readonly task: CloudRunTask | undefined;
  readonly logger: Logger;
  /** For `runScan`: the scan id, this task's shard, the stop check and the progress display. */
  readonly scanOptions: Pick<ScanOptions, 'scanId' | 'jobFilter' | 'shard' | 'shouldStop' | 'onProgress'>;
  /** Erases the progress line; call before anything else is printed after the scan. */
  clearProgress(): void;
  /** Reports the summary (text, or one log entry) and returns the exit code for the mode. */
  finish(result: ScanResult, cliExitCode: number): number;
}

/**
 * Everything about how a scan runs rather than what it judges: which Cloud Run task this is
 * and so which jobs it owns, the logger (readable text, or Cloud Logging JSON loaded only
 * then), the progress line on a terminal, the stop signal, and the exit code.
 */
export async function prepareScanRuntime(settings: RuntimeSettings, io: RuntimeIo): Promise<ScanRuntime> {
  const task = readCloudRunTask(io.env);
  const scanId = randomUUID();
  const json = settings.logFormat === 'json';
  const progress: Progress | undefined = !json && settings.logLevel !== 'silent' ? createProgress(io.stderr) : undefined;
  // On a terminal every line fits its width: long lines wrap, indented, instead of overflowing.
  const fit = (text: string): string => (io.stderr.isTTY ? fitLines(text, terminalWidth(io.stderr)) : text);
  const write = (line: string): void => (progress ? progress.writeAbove(fit(line)) : void io.stderr.write(fit(line)));
  const logger = json
    ? await createCloudLogger({ level: settings.logLevel, write, labels: taskLabels(task, scanId) })
    : textLogger(settings.logLevel, write);
  if (task && task.taskCount > 1) {
    logger.info(`task ${task.taskIndex + 1} of ${task.taskCount}: judging the jobs whose name hashes to shard ${task.taskIndex}`);
  }
  const signal = io.signal;
  return {
    scanId,
    task,
    logger,
    scanOptions: {
      scanId,
      ...shardOptions(task),
      ...(signal ? { shouldStop: () => signal.aborted } : {}),
      ...(progress ? { onProgress: (done: number, total: number) => progress.update(done, total) } : {}),
    },
    clearProgress: () => progress?.clear(),
    finish(result, cliExitCode) {
      progress?.clear();
      const decision = settings.exitMode === 'cloud-run' ? cloudRunScanExit(result, signal?.reason) : undefined;
      const code = decision?.code ?? cliExitCode;
      const interrupted = result.interrupted ? { interrupted: true, stopReason: String(signal?.reason ?? 'stop requested') } : { interrupted: false };
      // `silent` means nothing on stderr, the summary included; the exit code still tells the outcome.
      if (settings.logLevel === 'silent') return code;
      if (isCloudLogger(logger)) {
        logger.summary(result.summary, result.sinkReports, { ...interrupted, exitCode: code, ...(decision ? { retried: decision.retried, exitReason: decision.reason } : {}) });
      } else {
        let text = formatSummary(result.summary, result.sinkReports);
        if (result.interrupted) text += `  INTERRUPTED by ${interrupted.stopReason}: stopped taking jobs after ${result.summary.jobsScanned}; findings so far were flushed\n`;
        if (decision) text += `  exit ${code}${decision.retried ? ' (Cloud Run retries the task)' : ''}: ${decision.reason}\n`;
        io.stderr.write(fit(text));
      }
      return code;
    },
  };
}

/** Labels of every log line of a task, so one execution's or one task's lines can be filtered. */
export function taskLabels(task: CloudRunTask | undefined, scanId?: string): Record<string, string | undefined> {
  return {
    scanId,
    job: task?.job,
    execution: task?.execution,
    task: task ? String(task.taskIndex) : undefined,
    attempt: task ? String(task.attempt) : undefined,
  };
}

/**
 * Reports an error that ended the run before a result existed, and returns its exit code: the
 * `cli` code in `cli` mode, and in `cloud-run` mode 0 for what a retry cannot fix
 * (configuration errors, permission denied) and non-zero for the rest. The mode and the log
 * format come from the environment alone: the flags may be what failed to parse.
 */
export async function reportFailure(err: unknown, io: Pick<RuntimeIo, 'stderr' | 'env'>, cliExitCode: number): Promise<number> {
  const mode = exitModeFromEnv(io.env);
  const text =
    err instanceof CronwardenError ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
  const format = io.env.CRONWARDEN_LOG_FORMAT?.trim().toLowerCase() || (io.env.CLOUD_RUN_JOB ? 'json' : 'text');
  const decision = mode === 'cloud-run' ? cloudRunFailureExit(err) : undefined;
  const code = decision?.code ?? cliExitCode;
  if (format === 'json') {
    let task: CloudRunTask | undefined;
    try {
      task = readCloudRunTask(io.env);
    } catch {
      task = undefined;
    }
    const logger = await createCloudLogger({ level: 'debug', write: (l) => void io.stderr.write(l), labels: taskLabels(task) });
    const error = err instanceof CronwardenError ? { name: err.name, code: err.code, message: err.message } : err;
    const fields = { event: 'scan.failed', error, exitCode: code, ...(decision ? { retried: decision.retried, exitReason: decision.reason } : {}) };
    logger.log(err instanceof CronwardenError ? 'CRITICAL' : 'ERROR', `cronwarden: ${text}`, fields);
  } else {
    io.stderr.write(`cronwarden: ${safeLines(text)}\n`);
    if (decision) io.stderr.write(`cronwarden: exit ${code}${decision.retried ? ' (Cloud Run retries the task)' : ''}: ${decision.reason}\n`);
  }
  return code;
}

/**
 * A one-off notice written before any logger exists or after it is gone (a stop signal): a
 * structured line when the logs are JSON (by the environment, as in `reportFailure`), else text.
 */
export function writeNotice(io: Pick<RuntimeIo, 'stderr' | 'env'>, severity: 'WARNING' | 'ERROR', message: string): void {
  const format = io.env.CRONWARDEN_LOG_FORMAT?.trim().toLowerCase() || (io.env.CLOUD_RUN_JOB ? 'json' : 'text');
  if (format === 'json') {
    const task = io.env.CLOUD_RUN_TASK_INDEX;
    const labels = Object.fromEntries(
      Object.entries({ job: io.env.CLOUD_RUN_JOB, execution: io.env.CLOUD_RUN_EXECUTION, task }).filter(([, v]) => v),
    );
    io.stderr.write(`${JSON.stringify({ severity, message: `cronwarden: ${message}`, logger: 'cronwarden', 'logging.googleapis.com/labels': labels })}\n`);
  } else {
    io.stderr.write(`cronwarden: ${safeLines(message)}\n`);
  }
}

/** Each line of a multi-line message (a configuration error lists its issues) made safe for a terminal. */
function safeLines(text: string): string {
  return text.split('\n').map((line) => terminalText(line, 4000)).join('\n');
}
