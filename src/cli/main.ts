#!/usr/bin/env node
import { stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { ConfigurationError } from '../errors.js';
import { attemptsSettings, envList, parseScanConfig, type ScanConfig } from '../config/config.js';
import type { EvidenceStep } from '../evidence/evidence.js';
import { severityRank, type Severity } from '../findings/schema.js';
import { FileAssetSource } from '../inventory/file-source.js';
import { checkCredentials, needsCredentials } from '../google/credentials.js';
import type { AssetSource } from '../inventory/source.js';
import { textLogger, type Logger } from '../log/logger.js';
import { runScan, type ScanResult } from '../scan/run-scan.js';
import { isCloudLogger } from '../log/cloud-logger.js';
import { cloudRunDefaults, prepareScanRuntime, reportFailure, writeNotice } from '../runtime/scan-runtime.js';
import { installStopHandlers } from '../runtime/signals.js';
import { CLI_EXIT, EXIT_MODE_ENV, isEmptyInventory } from '../runtime/exit-codes.js';
import { runExitFlushes } from '../runtime/exit-flush.js';
import { JsonSink, JsonlSink } from '../sinks/stream-sinks.js';
import { TableSink } from '../sinks/table-sink.js';
import { MinSeveritySink } from '../sinks/min-severity-sink.js';
import { terminalWidth, useColour } from '../text/terminal.js';
import type { FindingSink } from '../sinks/sink.js';
import { GuardedOutput, guardedSink, openOutputFile } from '../sinks/guarded-output.js';
import { allRules, ruleById } from '../../rules/index.js';
import type { Rule } from '../engine/define-rule.js';
import { loadRulePacks, selectRules } from '../engine/rule-packs.js';
import { VERSION } from '../version.js';
import { MAIN_HELP, REPLAY_HELP, SCAN_HELP } from './help.js';
import { isReportFormat, ruleInfos } from '../reports/report-input.js';
import { ReportSink } from '../reports/report-sink.js';
import { explainRule, listRules } from './rules-text.js';
import { loadExceptions } from '../exceptions/load.js';
import { ExceptionSet } from '../exceptions/exception-set.js';
import { parseStateLocation } from '../lifecycle/store.js';
import { startLifecycle } from '../lifecycle/start.js';

/** The `cli` exit codes; the one table is EXIT_OUTCOMES in src/runtime/exit-codes.ts. */
export const EXIT = CLI_EXIT;

export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGTERM/SIGINT by the entry point: the scan stops taking jobs and flushes. */
  signal?: AbortSignal;
  /** Where `fix apply` asks for confirmation on a terminal. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Tests give `fix` an API layer of their own; by default the real clients. */
  remediationApis?: () => Promise<import('../remediation/google-apis.js').RemediationApis>;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });

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
      case 'fix': {
        const { fixCommand } = await import('./fix-command.js');
        return await fixCommand(rest, { ...io, ...(io.remediationApis ? { apis: io.remediationApis } : {}) } as never);
      }
      case 'report': {
        const { reportCommand } = await import('./report-command.js');
        return await reportCommand(rest, io);
      }
      default:
        io.stderr.write(`cronwarden: unknown command "${command}"\n\n${MAIN_HELP}`);
        return EXIT.error;
    }
  } catch (err) {
    // A scan's --exit-mode decides how its failure exits even when another flag is what failed.
    const mode = argv[0] === 'scan' ? exitModeFlag(argv) : undefined;
    return await reportFailure(err, mode ? { ...io, env: { ...io.env, [EXIT_MODE_ENV]: mode } } : io, EXIT.error);
  }
}

/** The value of `--exit-mode` in raw arguments, read without parsing the rest. */
function exitModeFlag(argv: readonly string[]): string | undefined {
  let mode: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--exit-mode' && i + 1 < argv.length) mode = argv[++i];
    else if (a.startsWith('--exit-mode=')) mode = a.slice('--exit-mode='.length);
  }
  return mode === 'cli' || mode === 'cloud-run' ? mode : undefined;
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

function parseScanFlags(args: readonly string[]): { flags: Record<string, unknown>; fixFlags: Record<string, unknown>; help: boolean } {
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
        'min-severity': { type: 'string' },
        'group-by': { type: 'string' },
        wide: { type: 'boolean' },
        topic: { type: 'string' },
        'spool-dir': { type: 'string' },
        'spool-path': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'exit-mode': { type: 'string' },
        concurrency: { type: 'string' },
        'rate-per-minute': { type: 'string' },
        'max-input-size': { type: 'string' },
        'max-record-size': { type: 'string' },
        'rule-pack': { type: 'string', multiple: true },
        'only-rule': { type: 'string', multiple: true },
        'skip-rule': { type: 'string', multiple: true },
        'attempts-window': { type: 'string' },
        'attempts-from': { type: 'string' },
        'resolve-groups': { type: 'boolean' },
        'groups-rate-per-minute': { type: 'string' },
        remediate: { type: 'string' },
        'remediate-rule': { type: 'string', multiple: true },
        'remediate-project': { type: 'string', multiple: true },
        'plan-output': { type: 'string' },
        'max-changes': { type: 'string' },
        'invoker-account': { type: 'string', multiple: true },
        state: { type: 'string' },
        exceptions: { type: 'string' },
        'exceptions-max-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\nRun 'cronwarden scan --help'.`);
  }
  const v = parsed.values;
  return {
    help: v.help === true,
    fixFlags: {
      remediate: v.remediate,
      remediateRules: v['remediate-rule'],
      remediateProjects: v['remediate-project'],
      planOutput: v['plan-output'],
      maxChanges: v['max-changes'],
      invokerAccounts: v['invoker-account'],
    },
    flags: {
      inputs: v.input,
      orgs: v.org,
      folders: v.folder,
      projects: v.project,
      format: v.format,
      output: v.output,
      failOn: v['fail-on'],
      includePasses: v['include-passes'],
      minSeverity: v['min-severity'],
      groupBy: v['group-by'],
      wide: v.wide,
      topic: v.topic,
      spoolDir: v['spool-dir'],
      spoolPath: v['spool-path'],
      logLevel: v['log-level'],
      logFormat: v['log-format'],
      exitMode: v['exit-mode'],
      concurrency: v.concurrency,
      ratePerMinute: v['rate-per-minute'],
      maxInputSize: v['max-input-size'],
      maxRecordSize: v['max-record-size'],
      rulePacks: v['rule-pack'],
      onlyRules: v['only-rule'],
      skipRules: v['skip-rule'],
      attemptsWindow: v['attempts-window'],
      attemptsFrom: v['attempts-from'],
      resolveGroups: v['resolve-groups'],
      groupsRatePerMinute: v['groups-rate-per-minute'],
      state: v.state,
      exceptions: v.exceptions,
      exceptionsMaxDays: v['exceptions-max-days'],
    },
  };
}

async function scanCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, fixFlags, help } = parseScanFlags(args);
  if (help) {
    io.stdout.write(SCAN_HELP);
    return EXIT.ok;
  }
  const config = parseScanConfig(flags, io.env, { format: io.stdout.isTTY ? 'table' : 'jsonl', ...cloudRunDefaults(io.env) });
  const { parseFixConfig } = await import('../remediation/config.js');
  const fix = parseFixConfig(fixFlags, io.env);
  const unattended = fix.remediate === 'off' ? undefined : new (await import('../remediation/unattended.js')).UnattendedRemediation(fix);
  if (unattended) await (await import('../remediation/files.js')).checkWritable(fix.planOutput, 'remediation plan');
  // Packs are loaded before anything is read or published: a broken pack is a configuration error.
  const loadedRules = await loadRulePacks(config.rulePacks, allRules);
  const rules = selectRules(loadedRules, config.onlyRules, config.skipRules);
  // Credentials are checked before anything is read: a missing or expired login is one clear error.
  if (needsCredentials({ api: config.inputs.length === 0, pubsub: config.topic !== undefined }, io.env)) await checkCredentials(io.env);
  // The exceptions file and the state location are checked before anything is read or published.
  const exceptions = config.exceptions ? await openExceptions(config.exceptions, loadedRules, config.exceptionsMaxDays) : undefined;
  const stateLocation = config.state ? parseStateLocation(config.state) : undefined;
  // Before anything is read (and after the other settings, so a bad one leaves the file as it
  // was): an output that cannot be opened is a configuration error.
  const outputFile = config.output ? openOutputFile(config.output) : undefined;
  const runtime = await prepareScanRuntime(config, io);
  const logger = runtime.logger;
  const scanned = await createSource(config, logger, io.env);
  const source = unattended ? unattended.wrap(scanned) : scanned;
  const evidence = await createEvidence(config, logger, io.env);
  const lifecycle = stateLocation
    ? await startLifecycle(stateLocation, { logger, ...(runtime.scanOptions.jobFilter ? { ownsJob: runtime.scanOptions.jobFilter } : {}) })
    : undefined;
  const { sinks, finish } = await createSinks(config, io, logger, outputFile, runtime.scanId, rules, () => runtime.clearProgress());
  if (unattended) sinks.push(unattended.sink);
  let result: ScanResult;
  try {
    result = await runScan({
      source,
      rules,
      sinks,
      logger,
      includePasses: config.includePasses,
      evidence,
      ...runtime.scanOptions,
      ...(lifecycle ? { lifecycle: lifecycle.run } : {}),
      ...(exceptions ? { exceptions } : {}),
    });
  } finally {
    runtime.clearProgress();
    await finish();
    await lifecycle?.close();
  }
  let code = exitCode(result, config.failOn);
  if (unattended) {
    const { actorOf } = await import('./fix-command.js');
    const outcome = await unattended.finish(result, {
      rules,
      logger,
      ...(config.topic ? { topic: config.topic } : {}),
      ...(io.env.PUBSUB_EMULATOR_HOST ? { pubsubEndpoint: io.env.PUBSUB_EMULATOR_HOST } : {}),
      apis: io.remediationApis ?? (async () => (await import('../remediation/google-apis.js')).googleRemediationApis((await import('../google/client-options.js')).googleClientOptions(io.env))),
      actor: actorOf(io.env),
      taskAttempt: Number(io.env.CLOUD_RUN_TASK_ATTEMPT ?? 0) || 0,
    });
    if (outcome.failed > 0) code = EXIT.remediationFailed;
  }
  return runtime.finish(result, code);
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
  await stat(spoolPath).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigurationError('SPOOL_NOT_FOUND', `spool file ${spoolPath}: ${err.code === 'ENOENT' ? 'file not found' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
  });
  if (needsCredentials({ api: false, pubsub: true }, io.env)) await checkCredentials(io.env);
  const logger = textLogger('info', (line) => io.stderr.write(line));
  const { replaySpool } = await import('../sinks/pubsub-sink.js');
  const report = await replaySpool({ spoolPath, logger, ...(parsed.values.topic ? { topic: parsed.values.topic } : {}) });
  io.stderr.write(
    `cronwarden: replayed ${spoolPath}: ${report.delivered} delivered, ${report.failed} failed` +
      `${report.failed > 0 && report.spoolPath ? ` (kept in ${report.spoolPath})` : ''}\n`,
  );
  return report.failed > 0 ? EXIT.partial : EXIT.ok;
}

/**
 * 3 (partial) outranks 4 (no job at all) and 1 (findings): a partial scan cannot vouch for the
 * jobs it did not judge, and an empty one judged nothing.
 */
export function exitCode(result: ScanResult, failOn: Severity | 'never'): number {
  const undelivered = result.sinkReports.some((r) => r.failed > 0);
  if (result.summary.partial || undelivered) return EXIT.partial;
  if (isEmptyInventory(result)) return EXIT.emptyInventory;
  if (failOn === 'never') return EXIT.ok;
  const threshold = severityRank(failOn);
  // A finding an exception covers is reported but does not fail the run.
  const suppressed = result.summary.exceptions?.suppressedFails ?? {};
  const failing = Object.entries(result.summary.findings.bySeverity).some(
    ([sev, counts]) => (counts?.fail ?? 0) - (suppressed[sev as Severity] ?? 0) > 0 && severityRank(sev as Severity) <= threshold,
  );
  return failing ? EXIT.findings : EXIT.ok;
}

/** Loads and validates the exceptions file (exit 2 naming entry and field when it is invalid). */
async function openExceptions(path: string, rules: readonly Rule[], maxDays: number): Promise<ExceptionSet> {
  const today = new Date();
  const loaded = loadExceptions(path, { knownRules: new Set(rules.map((r) => r.meta.id)), maxDays, today });
  return new ExceptionSet(loaded, today);
}

async function createSource(config: ScanConfig, logger: Logger, env: NodeJS.ProcessEnv): Promise<AssetSource> {
  if (config.inputs.length > 0) return new FileAssetSource(config.inputs, { maxInputBytes: config.maxInputSize, maxRecordBytes: config.maxRecordSize });
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

/** Evidence from outside the inventory, only when asked for: without it a scan behaves as before. */
async function createEvidence(config: ScanConfig, logger: Logger, env: NodeJS.ProcessEnv): Promise<EvidenceStep[]> {
  const steps: EvidenceStep[] = [];
  const attempts = attemptsSettings(config);
  if (attempts) {
    const { AttemptsEvidence } = await import('../evidence/attempts/attempts-evidence.js');
    const { parseWindow } = await import('../evidence/attempts/filter.js');
    const { googleClientOptions } = await import('../google/client-options.js');
    // The window ends when the scan begins: an entry stamped later is not of it.
    const scanStart = Date.now();
    steps.push(
      new AttemptsEvidence({
        from: attempts.from,
        window: attempts.window,
        since: new Date(scanStart - parseWindow(attempts.window)!),
        until: new Date(scanStart),
        logger,
        clientOptions: googleClientOptions(env),
        concurrency: Math.min(config.concurrency, 8),
        scopeProjects: config.projects,
      }),
    );
  }
  if (config.resolveGroups) {
    const { GroupsEvidence } = await import('../evidence/groups/groups-evidence.js');
    const { cloudIdentityRequester } = await import('../evidence/groups/cloud-identity-client.js');
    steps.push(new GroupsEvidence({ requester: await cloudIdentityRequester(env), logger, concurrency: config.concurrency, callsPerMinute: config.groupsRatePerMinute }));
  }
  return steps;
}

async function createSinks(
  config: ScanConfig,
  io: CliIo,
  logger: Logger,
  file: Writable | undefined,
  scanId: string,
  rules: readonly Rule[],
  beforeTable: () => void,
): Promise<{ sinks: FindingSink[]; finish: () => Promise<void> }> {
  const out = new GuardedOutput(file ?? io.stdout, file ? `--output ${config.output}` : 'stdout', logger, file !== undefined);
  const sinks: FindingSink[] = [];
  let stream: FindingSink;
  if (config.format === 'table') {
    // A table written to a file is laid out as for a pipe: 80 columns, no colour unless forced.
    const terminal = file ? {} : io.stdout;
    const table = new TableSink(out, { width: terminalWidth(terminal), colour: useColour(terminal, io.env), groupBy: config.groupBy, wide: config.wide });
    // The progress line (stderr) is erased before the table is printed on the same terminal.
    stream = { name: table.name, write: (f) => table.write(f), close: async () => (beforeTable(), table.close()) };
  } else if (isReportFormat(config.format)) stream = new ReportSink(out, config.format, ruleInfos(rules));
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
  const filtered: FindingSink[] = config.minSeverity === 'info' ? sinks : sinks.map((s) => new MinSeveritySink(s, config.minSeverity));
  // Normally ended by its sink's close; this covers a run that threw before closing its sinks.
  const finish = (): Promise<void> => out.finish();
  return { sinks: filtered, finish };
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
  // Any other failure (a full disk behind `> file`) must not crash the run: a scan's findings
  // still go to Pub/Sub and the spool, and the scan reports its output as failed (partial). A
  // command that did not notice is made partial here. Stderr failing leaves nowhere to say so.
  let stdoutError: NodeJS.ErrnoException | undefined;
  let finalCode: number | undefined;
  const stdoutFailed = (code: number): number => {
    if (!stdoutError || (code !== EXIT.ok && code !== EXIT.findings)) return code;
    process.stderr.write(`cronwarden: cannot write stdout (${stdoutError.code ?? stdoutError.message}): the output is incomplete\n`);
    return EXIT.partial;
  };
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || stdoutError) return;
    stdoutError = err;
    // A write that fails after the command returned (its last lines still in flight).
    if (finalCode !== undefined) process.exitCode = finalCode = stdoutFailed(finalCode);
  });
  process.stderr.on('error', () => {});
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
      process.exitCode = finalCode = stdoutFailed(code);
      // The run is over and reported: a client still closing connections to a server that does
      // not answer (a frozen Pub/Sub) must not hold the process, nor turn its exit code into a
      // signal's. Unreferenced, so a normal exit does not wait for it.
      setTimeout(() => process.exit(finalCode), 1_000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`cronwarden: internal error: ${String(err)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
