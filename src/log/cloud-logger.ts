import type { Writable } from 'node:stream';
import type { Entry } from '@google-cloud/logging';
import type { Finding } from '../findings/schema.js';
import { RECORD_TYPE_RESOLVED, type ResolvedRecord } from '../lifecycle/resolved-record.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from '../sinks/sink.js';
import type { LogFields, Logger, LogLevel } from './logger.js';
import { REDACTED, redactText } from '../text/redact-secrets.js';
import { escapeJsonText } from '../text/escape-terminal.js';

/** Cloud Logging's LogSeverity names that this module writes. */
export type LogSeverity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** The log name Cloud Run files these lines under is its own; this names the writer in the payload. */
export const LOGGER_NAME = 'cronwarden';

export interface CloudLoggerOptions {
  level: LogLevel;
  /** Where log lines go: stderr (findings, when they are log entries too, go to stdout). */
  write: (line: string) => void;
  /** `logging.googleapis.com/labels` of every line: scanId, execution, task... Strings only. */
  labels: Record<string, string | undefined>;
}

/** A logger whose lines are Cloud Logging structured entries; it also formats findings and the summary. */
export interface CloudLogger extends Logger {
  readonly kind: 'cloud';
  readonly labels: Readonly<Record<string, string>>;
  /** One line at an explicit severity, regardless of the level filter (used for the summary and fatal errors). */
  log(severity: LogSeverity, message: string, fields?: LogFields): void;
  /** The run's summary as one entry: WARNING when partial, INFO otherwise. */
  summary(summary: ScanSummary, sinks: readonly SinkReport[], extra?: LogFields): void;
  /** A findings sink writing one entry per finding to `out`, the finding intact under `finding`. */
  findingSink(out: Writable): FindingSink;
}

export function isCloudLogger(logger: Logger): logger is CloudLogger {
  return (logger as Partial<CloudLogger>).kind === 'cloud';
}

type EntryClass = typeof Entry;

/**
 * Cloud Run's logging agent turns every JSON line on stdout or stderr into a LogEntry and
 * lifts `severity`, `message`, `timestamp` and `logging.googleapis.com/*` out of it. Lines are
 * made by @google-cloud/logging's own `Entry.toStructuredJSON`, the formatter behind its
 * `LogSync` (structured stdout logging), loaded only here, when this format is chosen, and
 * only that module of the package.
 *
 * `new Logging().logSync()` itself is not used: the `Logging` constructor builds gRPC API
 * clients that look for Application Default Credentials and probe the metadata server at
 * once, which a logger that only writes to a stream has no use for, and which costs startup
 * time and a network call on every run outside Google Cloud.
 */
export async function createCloudLogger(opts: CloudLoggerOptions): Promise<CloudLogger> {
  const Entry = await loadEntry();
  const labels = Object.fromEntries(
    Object.entries(opts.labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string' && kv[1] !== ''),
  );
  const format = (severity: LogSeverity, message: string, fields: LogFields | undefined): string => {
    const payload: Record<string, unknown> = { message: redactText(message), logger: LOGGER_NAME };
    for (const [key, value] of Object.entries(fields ?? {})) {
      payload[RESERVED_KEYS.has(key) ? `${key}_` : key] = DATA_KEYS.has(key) ? redact(value, '', 0, false) : redact(value, key, 0);
    }
    const entry = new Entry({ severity, labels, timestamp: new Date() }, payload);
    // Lossless \u escapes for bidi and C1 characters: the line is read in terminals and consoles too.
    return `${escapeJsonText(JSON.stringify(entry.toStructuredJSON(undefined, false)))}\n`;
  };
  const threshold = LEVEL_ORDER[opts.level];
  const at = (level: Exclude<LogLevel, 'silent'>, severity: LogSeverity) => (message: string, fields?: LogFields) => {
    if (LEVEL_ORDER[level] >= threshold) opts.write(format(severity, message, fields));
  };
  return {
    kind: 'cloud',
    labels,
    debug: at('debug', 'DEBUG'),
    info: at('info', 'INFO'),
    warn: at('warn', 'WARNING'),
    error: at('error', 'ERROR'),
    log: (severity, message, fields) => opts.write(format(severity, message, fields)),
    summary(summary, sinks, extra) {
      const shard = summary.shard ? ` (task ${summary.shard.index + 1} of ${summary.shard.count})` : '';
      const st = summary.findings.byStatus;
      const message =
        `scan ${summary.scanId}${shard}: ${summary.jobsScanned} jobs, ${st.fail ?? 0} fail, ${st.unverifiable ?? 0} unverifiable` +
        (summary.partial ? ', PARTIAL' : '');
      // Undelivered findings (a sink that failed) make the run partial as much as unread input.
      const partial = summary.partial || sinks.some((s) => s.failed > 0);
      opts.write(format(partial ? 'WARNING' : 'INFO', message, { event: 'scan.completed', summary, sinks, ...extra }));
    },
    findingSink(out) {
      return new FindingLogSink(
        out,
        (f) => format(findingSeverity(f), `${f.ruleId}: ${f.message}`, { event: 'finding', finding: f }),
        (r) => format('NOTICE', `${r.ruleId}: resolved (${r.reason}) for ${r.job.name}`, { event: RECORD_TYPE_RESOLVED, finding: r }),
      );
    },
  };
}

/**
 * `Entry` from the module that defines it: about 25 ms to load, where the package's main
 * module costs 300-500 ms (it loads the gRPC clients and their protos; see BENCHMARKS.md,
 * Startup), paid on every Cloud Run task start. The package has no `exports` map, so the file
 * is reachable; should a release move it, the public entry point is the fallback.
 */
async function loadEntry(): Promise<EntryClass> {
  try {
    return ((await import('@google-cloud/logging/build/src/entry.js')) as { Entry: EntryClass }).Entry;
  } catch {
    return ((await import('@google-cloud/logging')) as { Entry: EntryClass }).Entry;
  }
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/**
 * Fields that carry the scanner's own records (a finding, the summary, sink reports): their
 * inner keys are data, kept as they are; only token-shaped text inside them is redacted.
 */
const DATA_KEYS = new Set(['finding', 'summary', 'sinks']);

/** Keys the agent or the formatter treat specially: a field of that name is renamed, never obeyed. */
const RESERVED_KEYS = new Set(['severity', 'message', 'timestamp', 'time', 'httpRequest', 'logger']);

/**
 * The entry severity of a finding: a failing finding by its own severity, an unverifiable one
 * at most WARNING, a pass INFO. The finding's lowercase `severity` stays inside `finding`.
 */
export function findingSeverity(f: Pick<Finding, 'status' | 'severity'>): LogSeverity {
  if (f.status === 'pass') return 'INFO';
  const bySeverity: Record<Finding['severity'], LogSeverity> = { critical: 'CRITICAL', high: 'ERROR', medium: 'WARNING', low: 'NOTICE', info: 'INFO' };
  const sev = bySeverity[f.severity];
  if (f.status === 'unverifiable') return sev === 'CRITICAL' || sev === 'ERROR' ? 'WARNING' : sev;
  return sev;
}

/** Findings as log entries on stdout, so Cloud Logging keeps each one whole and filterable. */
class FindingLogSink implements FindingSink {
  readonly name = 'cloud-logging';
  private count = 0;
  constructor(
    private readonly out: Writable,
    private readonly format: (f: Finding) => string,
    private readonly formatResolved: (r: ResolvedRecord) => string,
  ) {}
  write(finding: Finding): void | Promise<void> {
    this.count++;
    if (this.out.write(this.format(finding))) return;
    return new Promise((resolve) => this.out.once('drain', resolve));
  }
  writeResolved(record: ResolvedRecord): void | Promise<void> {
    this.count++;
    if (this.out.write(this.formatResolved(record))) return;
    return new Promise((resolve) => this.out.once('drain', resolve));
  }
  async close(): Promise<SinkReport> {
    return { sink: this.name, delivered: this.count, failed: 0 };
  }
}

const SECRET_KEY = /token|secret|password|passwd|authorization|credential|private_?key|api_?key|cookie|assertion/i;
/** Fields whose names contain "token" but hold no secret: the scanner reports who a token is for. */
const NOT_SECRET_KEYS = new Set(['oidcToken', 'oauthToken']);
export { REDACTED, redactText };

/**
 * A copy of a log field with credentials removed: token-shaped strings always, and the values
 * of secret-named keys (`accessToken`, `password`, ...) unless `byKey` is false.
 */
export function redact(value: unknown, key = '', depth = 0, byKey = true): unknown {
  if (byKey && key && SECRET_KEY.test(key) && !NOT_SECRET_KEYS.has(key)) {
    return value === undefined || value === null || typeof value === 'boolean' || typeof value === 'number' ? value : REDACTED;
  }
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 8) return '[…]';
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; cause?: unknown };
    const out: Record<string, unknown> = { name: e.name, message: redactText(e.message) };
    if (e.code !== undefined) out.code = e.code;
    if (e.stack) out.stack = redactText(e.stack);
    if (e.cause !== undefined) out.cause = redact(e.cause, '', depth + 1, byKey);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, '', depth + 1, byKey));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k, depth + 1, byKey)]));
}
