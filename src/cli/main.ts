#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { ConfigurationError } from '../errors.js';
import { envList, parseScanConfig, type ScanConfig } from '../config/config.js';
import { severityRank, type Severity } from '../findings/schema.js';
import { FileAssetSource } from '../inventory/file-source.js';
import type { AssetSource } from '../inventory/source.js';
import { textLogger, type Logger } from '../log/logger.js';
import { runScan, type ScanResult } from '../scan/run-scan.js';
import { isCloudLogger } from '../log/cloud-logger.js';
import { cloudRunDefaults, prepareScanRuntime, reportFailure, writeNotice } from '../runtime/scan-runtime.js';
import { installStopHandlers } from '../runtime/signals.js';
import { CLI_EXIT } from '../runtime/exit-codes.js';
import { runExitFlushes } from '../runtime/exit-flush.js';
import { JsonSink, JsonlSink, TableSink } from '../sinks/stream-sinks.js';
import type { FindingSink } from '../sinks/sink.js';
import { GuardedOutput, guardedSink, openOutputFile } from '../sinks/guarded-output.js';
import { allRules, ruleById } from '../../rules/index.js';
import type { Rule } from '../engine/define-rule.js';
import { loadRulePacks, selectRules } from '../engine/rule-packs.js';
import { VERSION } from '../version.js';
import { MAIN_HELP, REPLAY_HELP, SCAN_HELP } from './help.js';
import { explainRule, listRules } from './rules-text.js';

/** The `cli` exit codes; the one table is EXIT_OUTCOMES in src/runtime/exit-codes.ts. */
export const EXIT = CLI_EXIT;

export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGTERM/SIGINT by the entry point: the scan stops taking jobs and flushes. */
  signal?: AbortSignal;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Runs the CLI; returns the exit code instead of exiting, so streams can drain. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT.error : EXIT.ok;
      case '--version':
      case '-v':
        io.stdout.write(`${VERSION}\n`);
        return EXIT.ok;
      case 'rules': {
        const { rules } = await rulesCommandArgs(command, rest, io.env, 0);
        io.stdout.write(listRules(rules));
        return EXIT.ok;
      }
      case 'explain': {
        const { rules, positionals } = await rulesCommandArgs(command, rest, io.env, 1);
        const id = positionals[0];
        const rule = id ? ruleById(id, rules) : undefined;
        if (!rule) {
          io.stderr.write(`cronwarden: ${id ? `unknown rule "${id}"` : 'explain needs a RULE_ID'}; known rules: ${rules.map((r) => r.meta.id).join(', ')}\n`);
          return EXIT.error;
        }
        io.stdout.write(explainRule(rule));
        return EXIT.ok;
      }
      case 'scan':
        return await scanCommand(rest, io);
      case 'replay-spool':
        return await replaySpoolCommand(rest, io);
      default:
        io.stderr.write(`cronwarden: unknown command "${command}"\n\n${MAIN_HELP}`);
        return EXIT.error;
    }
  } catch (err) {
    return await reportFailure(err, io, EXIT.error);
  }
}

/** `rules` and `explain`: at most `maxPositionals` positionals, and rule packs by flag or environment. */
async function rulesCommandArgs(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  maxPositionals: number,
): Promise<{ rules: Rule[]; positionals: string[] }> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true, options: { 'rule-pack': { type: 'string', multiple: true } } });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\nRun 'cronwarden --help'.`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new ConfigurationError('BAD_FLAGS', `${command}: unexpected argument "${parsed.positionals[maxPositionals]}"\nRun 'cronwarden --help'.`);
  }
  // Only the packs' variable is read: another variable's bad value is the scan's business, not theirs.
  const packs = parsed.values['rule-pack'] ?? envList(env, 'rulePacks');
  return { rules: await loadRulePacks(packs, allRules), positionals: parsed.positionals };
}

function parseScanFlags(args: readonly string[]): { flags: Record<string, unknown>; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        input: { type: 'string', multiple: true },
        org: { type: 'string', multiple: true },
        folder: { type: 'string', multiple: true },
        project: { type: 'string', multiple: true },
        format: { type: 'string' },
        output: { type: 'string' },
        'fail-on': { type: 'string' },
        'include-passes': { type: 'boolean' },
        topic: { type: 'string' },
        'spool-dir': { type: 'string' },
        'spool-path': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'exit-mode': { type: 'string' },
        concurrency: { type: 'string' },
        'rate-per-minute': { type: 'string' },
        'rule-pack': { type: 'string', multiple: true },
        'only-rule': { type: 'string', multiple: true },
        'skip-rule': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\nRun 'cronwarden scan --help'.`);
  }
  const v = parsed.values;
  return {
    help: v.help === true,
    flags: {
      inputs: v.input,
      orgs: v.org,
      folders: v.folder,
      projects: v.project,
      format: v.format,
      output: v.output,
      failOn: v['fail-on'],
      includePasses: v['include-passes'],
      topic: v.topic,
      spoolDir: v['spool-dir'],
      spoolPath: v['spool-path'],
      logLevel: v['log-level'],
      logFormat: v['log-format'],
      exitMode: v['exit-mode'],
      concurrency: v.concurrency,
      ratePerMinute: v['rate-per-minute'],
      rulePacks: v['rule-pack'],
      onlyRules: v['only-rule'],
      skipRules: v['skip-rule'],
    },
  };
}

async function scanCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, help } = parseScanFlags(args);
  if (help) {
    io.stdout.write(SCAN_HELP);
    return EXIT.ok;
  }
  const config = parseScanConfig(flags, io.env, { format: io.stdout.isTTY ? 'table' : 'jsonl', ...cloudRunDefaults(io.env) });
  // Packs are loaded before anything is read or published: a broken pack is a configuration error.
  const rules = selectRules(await loadRulePacks(config.rulePacks, allRules), config.onlyRules, config.skipRules);
  // Before anything is read (and after the other settings, so a bad one leaves the file as it
  // was): an output that cannot be opened is a configuration error.
  const outputFile = config.output ? openOutputFile(config.output) : undefined;
  const runtime = await prepareScanRuntime(config, io);
  const logger = runtime.logger;
  const source = await createSource(config, logger, io.env);
  const { sinks, finish } = await createSinks(config, io, logger, outputFile, runtime.scanId);
  let result: ScanResult;
  try {
    result = await runScan({ source, rules, sinks, logger, includePasses: config.includePasses, ...runtime.scanOptions });
  } finally {
    runtime.clearProgress();
    await finish();
  }
  return runtime.finish(result, exitCode(result, config.failOn));
}

/** Publishes a spool file of undelivered messages again: 0 when all went, 3 when some failed again. */
async function replaySpoolCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true, options: { topic: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\n${REPLAY_HELP}`);
  }
  if (parsed.values.help) {
    io.stdout.write(REPLAY_HELP);
    return EXIT.ok;
  }
  const [spoolPath, ...extra] = parsed.positionals;
  if (!spoolPath || extra.length > 0) throw new ConfigurationError('BAD_FLAGS', `replay-spool takes one spool file or directory\n${REPLAY_HELP}`);
  const logger = textLogger('info', (line) => io.stderr.write(line));
  const { replaySpool } = await import('../sinks/pubsub-sink.js');
  const report = await replaySpool({ spoolPath, logger, ...(parsed.values.topic ? { topic: parsed.values.topic } : {}) });
  io.stderr.write(
    `cronwarden: replayed ${spoolPath}: ${report.delivered} delivered, ${report.failed} failed` +
      `${report.failed > 0 && report.spoolPath ? ` (kept in ${report.spoolPath})` : ''}\n`,
  );
  return report.failed > 0 ? EXIT.partial : EXIT.ok;
}

/** 3 (partial) outranks 1 (findings): a partial scan cannot vouch for the jobs it did not judge. */
export function exitCode(result: ScanResult, failOn: Severity | 'never'): number {
  const undelivered = result.sinkReports.some((r) => r.failed > 0);
  if (result.summary.partial || undelivered) return EXIT.partial;
  if (failOn === 'never') return EXIT.ok;
  const threshold = severityRank(failOn);
  const failing = Object.entries(result.summary.findings.bySeverity).some(
    ([sev, counts]) => (counts?.fail ?? 0) > 0 && severityRank(sev as Severity) <= threshold,
  );
  return failing ? EXIT.findings : EXIT.ok;
}

async function createSource(config: ScanConfig, logger: Logger, env: NodeJS.ProcessEnv): Promise<AssetSource> {
  if (config.inputs.length > 0) return new FileAssetSource(config.inputs);
  // Loaded only for API scans: the Cloud Asset client is the heaviest module the CLI can need.
  const { CaiApiSource } = await import('../inventory/cai-api-source.js');
  const { googleClientOptions } = await import('../google/client-options.js');
  return new CaiApiSource({
    scopes: [
      ...config.orgs.map((id) => `organizations/${id}`),
      ...config.folders.map((id) => `folders/${id}`),
      ...config.projects.map((id) => `projects/${id}`),
    ],
    logger,
    concurrency: config.concurrency,
    ratePerMinute: config.ratePerMinute,
    clientOptions: googleClientOptions(env),
  });
}

async function createSinks(
  config: ScanConfig,
  io: CliIo,
  logger: Logger,
  file: Writable | undefined,
  scanId: string,
): Promise<{ sinks: FindingSink[]; finish: () => Promise<void> }> {
  const out = new GuardedOutput(file ?? io.stdout, file ? `--output ${config.output}` : 'stdout', logger, file !== undefined);
  const sinks: FindingSink[] = [];
  let stream: FindingSink;
  if (config.format === 'table') stream = new TableSink(out, (io.stdout as { columns?: number }).columns ?? 160);
  else if (config.format === 'json') stream = new JsonSink(out);
  else if (!file && isCloudLogger(logger)) stream = logger.findingSink(out);
  else stream = new JsonlSink(out);
  sinks.push(guardedSink(stream, out));
  if (config.topic) {
    const { createPubSubSink } = await import('../sinks/pubsub-sink.js');
    // A Cloud Run task has 10 s between SIGTERM and SIGKILL, and a retried task publishes every
    // finding again (consumers drop duplicates by findingId): there, a batch that cannot be
    // delivered within 5 s is spooled and the exit code asks for a retry, instead of retrying
    // for a minute past the kill.
    const retry = config.exitMode === 'cloud-run' ? { totalTimeoutMs: 5_000, rpcTimeoutMs: 4_000 } : undefined;
    sinks.push(
      await createPubSubSink({
        topic: config.topic,
        ...(config.spoolPath ? { spoolPath: config.spoolPath } : { spoolDir: config.spoolDir }),
        scanId,
        logger,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(retry ? { retry } : {}),
      }),
    );
  }
  // Normally ended by its sink's close; this covers a run that threw before closing its sinks.
  const finish = (): Promise<void> => out.finish();
  return { sinks, finish };
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that closed its end (`cronwarden rules | head`) is no error: nothing more to say.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  const stop = new AbortController();
  const uninstall = installStopHandlers(stop, {
    onStop: (signal) => writeNotice(defaultIo(), 'WARNING', `${signal}: taking no new jobs; flushing findings`),
    onForcedExit: (signal, why) => {
      // Whatever Pub/Sub has not acknowledged yet is written to the spool before the exit.
      runExitFlushes();
      writeNotice(defaultIo(), 'ERROR', `${signal}: exiting now (${why === 'second-signal' ? 'second signal' : 'grace period over'})`);
    },
  });
  main(process.argv.slice(2), { ...defaultIo(), signal: stop.signal }).then(
    (code) => {
      uninstall();
      process.exitCode = code;
      // The run is over and reported: a client still closing connections to a server that does
      // not answer (a frozen Pub/Sub) must not hold the process, nor turn its exit code into a
      // signal's. Unreferenced, so a normal exit does not wait for it.
      setTimeout(() => process.exit(code), 1_000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`cronwarden: internal error: ${String(err)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
