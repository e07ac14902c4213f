import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ConfigurationError } from '../errors.js';
import { parseScanConfig } from '../config/config.js';
import { loadRulePacks, selectRules } from '../engine/rule-packs.js';
import type { Finding } from '../findings/schema.js';
import { checkWritable, openOutput, readFindings, readPlan, readRecords, writeJsonFile } from '../remediation/files.js';
import type { AssetRecord } from '../inventory/asset-record.js';
import { ASSET_TYPES } from '../model/asset-types.js';
import { InventoryBuilder } from '../model/inventory.js';
import { readLiveInventory } from '../remediation/live-inventory.js';
import { FileAssetSource } from '../inventory/file-source.js';
import type { AssetSource } from '../inventory/source.js';
import { createCloudLogger } from '../log/cloud-logger.js';
import { textLogger, type Logger, type LogLevel } from '../log/logger.js';
import { runScan } from '../scan/run-scan.js';
import { invokerAccountMap, parseFixConfig, type FixConfig } from '../remediation/config.js';
import { RecordingSource } from '../remediation/context.js';
import { executeItems, planItems, undoItems } from '../remediation/execute.js';
import type { RemediationApis } from '../remediation/google-apis.js';
import { buildPlan } from '../remediation/planner.js';
import type { Plan } from '../remediation/plan-schema.js';
import { planText, terminalSafe } from '../remediation/plan-text.js';
import type { ChangeRecord } from '../remediation/record.js';
import { openRecordOutputs } from '../remediation/record-outputs.js';
import type { WorkItem } from '../remediation/work-item.js';
import { allRules } from '../../rules/index.js';
import { FIX_HELP } from './help.js';
import { REMEDIATION_FAILED_EXIT } from '../runtime/exit-codes.js';

export interface FixIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin?: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Tests inject the API layer; by default the real clients (CRONWARDEN_GOOGLE_API_ENDPOINT honoured). */
  apis?: () => Promise<RemediationApis>;
}

/** Exit codes of `fix` (README, "Exit codes"). */
export const FIX_EXIT = { ok: 0, error: 2, partial: 3, changeFailed: REMEDIATION_FAILED_EXIT } as const;

const SCAN_OPTIONS = {
  input: { type: 'string', multiple: true },
  org: { type: 'string', multiple: true },
  folder: { type: 'string', multiple: true },
  project: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'rate-per-minute': { type: 'string' },
  'only-rule': { type: 'string', multiple: true },
  'skip-rule': { type: 'string', multiple: true },
} as const;

const COMMON_OPTIONS = {
  'rule-pack': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const WRITE_OPTIONS = {
  yes: { type: 'boolean' },
  'max-changes': { type: 'string' },
  'fix-concurrency': { type: 'string' },
  topic: { type: 'string' },
} as const;

export async function fixCommand(args: readonly string[], io: FixIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'plan':
      return planCommand(rest, io);
    case 'apply':
      return writeCommand('apply', rest, io);
    case 'undo':
      return writeCommand('undo', rest, io);
    case undefined:
    case '--help':
    case '-h':
      io.stdout.write(FIX_HELP);
      return sub === undefined ? FIX_EXIT.error : FIX_EXIT.ok;
    default:
      throw new ConfigurationError('BAD_FLAGS', `fix: unknown subcommand "${sub}"\n\n${FIX_HELP}`);
  }
}

function parse(args: readonly string[], options: import('node:util').ParseArgsOptionsConfig, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\nRun 'cronwarden fix --help'.`);
  }
  if (parsed.positionals.length > positionals) throw new ConfigurationError('BAD_FLAGS', `unexpected argument "${parsed.positionals[positionals]}"\nRun 'cronwarden fix --help'.`);
  return parsed as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
}

async function makeLogger(level: string | undefined, format: string | undefined, io: FixIo): Promise<Logger> {
  const logLevel = (level ?? io.env.CRONWARDEN_LOG_LEVEL ?? 'info') as LogLevel;
  const logFormat = format ?? io.env.CRONWARDEN_LOG_FORMAT ?? (io.env.CLOUD_RUN_JOB ? 'json' : 'text');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigurationError('INVALID_CONFIG', `--log-level (or CRONWARDEN_LOG_LEVEL): expected debug, info, warn, error or silent`);
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigurationError('INVALID_CONFIG', `--log-format (or CRONWARDEN_LOG_FORMAT): expected text or json`);
  const write = (line: string) => void io.stderr.write(line);
  return logFormat === 'json' ? createCloudLogger({ level: logLevel, write, labels: { job: io.env.CLOUD_RUN_JOB, execution: io.env.CLOUD_RUN_EXECUTION } }) : textLogger(logLevel, write);
}

async function planCommand(args: readonly string[], io: FixIo): Promise<number> {
  const { values: v } = parse(args, { ...SCAN_OPTIONS, ...COMMON_OPTIONS, 'invoker-account': { type: 'string', multiple: true }, findings: { type: 'string' } }, 0);
  if (v.help) {
    io.stdout.write(FIX_HELP);
    return FIX_EXIT.ok;
  }
  const fix = parseFixConfig({ fixOutput: v.output, invokerAccounts: v['invoker-account'], findings: v.findings }, io.env);
  if (!fix.fixOutput) throw new ConfigurationError('INVALID_CONFIG', 'fix plan needs --output PLAN (or CRONWARDEN_FIX_OUTPUT): where to write the plan');
  await checkWritable(fix.fixOutput, 'plan');
  if (fix.findings) {
    const scanFlags = ['input', 'org', 'folder', 'project'].filter((k) => v[k] !== undefined);
    if (scanFlags.length > 0) throw new ConfigurationError('INVALID_CONFIG', `--findings cannot be combined with --${scanFlags[0]}: the plan reads either a scan or a findings file`);
    return planFromFindingsCommand(fix as FixConfig & { findings: string; fixOutput: string }, v, io);
  }
  const scan = parseScanConfig(
    { inputs: v.input, orgs: v.org, folders: v.folder, projects: v.project, concurrency: v.concurrency, ratePerMinute: v['rate-per-minute'], rulePacks: v['rule-pack'], onlyRules: v['only-rule'], skipRules: v['skip-rule'] },
    io.env,
    { format: 'jsonl' },
  );
  const rules = selectRules(await loadRulePacks(scan.rulePacks, allRules), scan.onlyRules, scan.skipRules);
  const logger = await makeLogger(v['log-level'] as string | undefined, v['log-format'] as string | undefined, io);
  const result = await planFromScan({ source: await createSource(scan, logger, io.env), rules, logger, fix });
  await writeJsonFile(fix.fixOutput, result.plan, 'plan');
  io.stdout.write(planText(result.plan));
  io.stderr.write(`cronwarden: plan written to ${terminalSafe(fix.fixOutput)}: ${result.plan.changes.length} change(s), ${result.plan.manual.length} manual; nothing was changed\n`);
  return result.partial ? FIX_EXIT.partial : FIX_EXIT.ok;
}

async function planFromFindingsCommand(fix: FixConfig & { findings: string; fixOutput: string }, v: Record<string, unknown>, io: FixIo): Promise<number> {
  const rules = selectRules(
    await loadRulePacks((v['rule-pack'] as string[] | undefined) ?? (io.env.CRONWARDEN_RULE_PACKS ?? '').split(',').filter(Boolean), allRules),
    (v['only-rule'] as string[] | undefined) ?? [],
    (v['skip-rule'] as string[] | undefined) ?? [],
  );
  const { findings, problems } = await readFindings(fix.findings);
  for (const p of problems) io.stderr.write(`cronwarden: ${terminalSafe(p)}\n`);
  const byId = new Map(rules.map((r) => [r.meta.id, r]));
  const fixable = findings.filter((f) => f.status === 'fail' && byId.get(f.ruleId)?.meta.remediation.automatic);
  const apis = await (io.apis ?? defaultApis(io.env))();
  let live;
  try {
    live = await readLiveInventory(fixable, apis);
  } finally {
    await apis.close();
  }
  const builder = new InventoryBuilder((p) => io.stderr.write(`cronwarden: live record ${terminalSafe(p.origin)}: ${terminalSafe(p.message)}\n`));
  const kept = new Map<string, AssetRecord[]>();
  for (const r of live.records) {
    builder.add(structuredClone(r));
    if (r.assetType !== ASSET_TYPES.job) kept.set(r.name, [...(kept.get(r.name) ?? []), r]);
  }
  const unreadable = new Set(live.unreadable.map((u) => u.finding.findingId));
  // Without the service-account inventory, the scan's own verdict on the token account decides:
  // granting a role to an account that is gone or disabled fixes nothing.
  const blockedJobs = new Map(
    findings.filter((f) => f.status === 'fail' && f.ruleId === 'token-sa-exists-and-enabled').map((f) => [f.job.name, `the token's service account is missing or disabled (token-sa-exists-and-enabled): ${f.message}`]),
  );
  const plan = buildPlan({
    findings: findings.filter((f) => !unreadable.has(f.findingId)),
    inventory: builder.finish(),
    records: kept,
    rules,
    options: { invokerAccounts: invokerAccountMap(fix.invokerAccounts) },
    scanId: findings[0]?.scanId ?? 'none',
    source: 'findings-file',
    blockedJobs,
  });
  for (const u of live.unreadable) {
    plan.manual.push({ findingId: u.finding.findingId, ruleId: u.finding.ruleId, job: u.finding.job.name, reason: `could not be read live: ${u.reason}`, fix: byId.get(u.finding.ruleId)?.meta.docs.fix ?? { gcloud: '', terraform: '' } });
  }
  await writeJsonFile(fix.fixOutput, plan, 'plan');
  io.stdout.write(planText(plan));
  io.stderr.write(`cronwarden: plan written to ${terminalSafe(fix.fixOutput)}: ${plan.changes.length} change(s), ${plan.manual.length} manual; nothing was changed\n`);
  return problems.length > 0 || live.unreadable.length > 0 ? FIX_EXIT.partial : FIX_EXIT.ok;
}

/** Scans, then plans for every failing finding; writes nothing anywhere. */
export async function planFromScan(opts: {
  source: AssetSource;
  rules: Parameters<typeof buildPlan>[0]['rules'];
  logger: Logger;
  fix: Pick<FixConfig, 'invokerAccounts'>;
  allow?: { rules: readonly string[]; projects: readonly string[] };
  scanId?: string;
}): Promise<{ plan: Plan; partial: boolean; findings: Finding[] }> {
  const recording = new RecordingSource(opts.source);
  const findings: Finding[] = [];
  const result = await runScan({
    source: recording,
    rules: opts.rules,
    logger: opts.logger,
    ...(opts.scanId ? { scanId: opts.scanId } : {}),
    sinks: [{ name: 'plan', write: (f) => void findings.push(f), close: async () => ({ sink: 'plan', delivered: findings.length, failed: 0 }) }],
  });
  const plan = buildPlan({
    findings,
    inventory: result.inventory,
    records: recording.kept,
    rules: opts.rules,
    options: { invokerAccounts: invokerAccountMap(opts.fix.invokerAccounts) },
    scanId: result.summary.scanId,
    source: 'scan',
    ...(opts.allow ? { allowRules: opts.allow.rules, allowProjects: opts.allow.projects } : {}),
  });
  return { plan, partial: result.summary.partial, findings };
}

async function writeCommand(action: 'apply' | 'undo', args: readonly string[], io: FixIo): Promise<number> {
  const { values: v, positionals } = parse(args, { ...COMMON_OPTIONS, ...WRITE_OPTIONS }, 1);
  if (v.help) {
    io.stdout.write(FIX_HELP);
    return FIX_EXIT.ok;
  }
  const file = positionals[0];
  if (!file) throw new ConfigurationError('BAD_FLAGS', `fix ${action} needs a ${action === 'apply' ? 'PLAN' : 'RECORDS'} file\nRun 'cronwarden fix --help'.`);
  const fix = parseFixConfig({ yes: v.yes, maxChanges: v['max-changes'], fixConcurrency: v['fix-concurrency'], fixOutput: v.output }, io.env);
  const rules = await loadRulePacks((v['rule-pack'] as string[] | undefined) ?? (io.env.CRONWARDEN_RULE_PACKS ?? '').split(',').filter(Boolean), allRules);
  let items: WorkItem[];
  let what: string;
  if (action === 'apply') {
    const plan = await readPlan(file);
    items = planItems(plan, rules);
    what = `${items.length} change(s) of plan ${plan.planId}`;
  } else {
    items = undoItems(await readRecords(file));
    what = `the undo of ${items.length} applied change(s)`;
  }
  const terminal = Boolean(io.stdin?.isTTY && io.stdout.isTTY);
  if (!fix.yes) {
    if (!terminal) throw new ConfigurationError('NEEDS_YES', `fix ${action}: there is no terminal to confirm on; pass --yes (or CRONWARDEN_FIX_YES=true) to ${action} ${what}`);
    const rl = createInterface({ input: io.stdin!, output: io.stdout });
    const answer = await rl.question(`${action === 'apply' ? 'Apply' : 'Undo'} ${what}, at most ${fix.maxChanges}? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.stderr.write('cronwarden: nothing was changed\n');
      return FIX_EXIT.ok;
    }
  }
  const logger = await makeLogger(v['log-level'] as string | undefined, v['log-format'] as string | undefined, io);
  const out = fix.fixOutput ? await openOutput(fix.fixOutput, 'records file') : io.stdout;
  const topic = (v.topic as string | undefined) ?? (io.env.CRONWARDEN_TOPIC || undefined);
  const outputs = await openRecordOutputs({ out, logger, ...(topic ? { topic } : {}), ...(io.env.PUBSUB_EMULATOR_HOST ? { pubsubEndpoint: io.env.PUBSUB_EMULATOR_HOST } : {}) });
  const apis = await (io.apis ?? defaultApis(io.env))();
  let records: ChangeRecord[];
  let stopped: string | undefined;
  try {
    const result = await executeItems(items, {
      apis,
      maxChanges: fix.maxChanges,
      concurrency: fix.fixConcurrency,
      actor: actorOf(io.env),
      onRecord: (r) => outputs.write(r),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    records = result.records;
    stopped = result.stopped;
  } finally {
    await apis.close();
  }
  const closed = await outputs.close();
  const { undelivered } = closed;
  let outputError = closed.outputError;
  if (out !== io.stdout && !out.destroyed) {
    outputError ??= await new Promise<string | undefined>((resolve) => out.end((err?: Error | null) => resolve(err ? ((err as NodeJS.ErrnoException).code ?? err.message) : undefined)));
  }
  const count = (r: ChangeRecord['result']) => records.filter((x) => x.result === r).length;
  io.stderr.write(
    `cronwarden: fix ${action}: ${count('applied')} applied, ${count('skipped')} skipped, ${count('failed')} failed` +
      (stopped ? `; stopped starting changes: ${terminalSafe(stopped)}` : '') +
      (undelivered > 0 ? `; ${undelivered} record(s) not published` : '') +
      (outputError ? `; the records output failed (${outputError})` : '') +
      '\n',
  );
  if (count('failed') > 0) return FIX_EXIT.changeFailed;
  // Interrupted (SIGTERM), records not published or not written: not all done or not all told.
  return undelivered > 0 || outputError || io.signal?.aborted ? FIX_EXIT.partial : FIX_EXIT.ok;
}

function defaultApis(env: NodeJS.ProcessEnv): () => Promise<RemediationApis> {
  return async () => {
    const { googleClientOptions } = await import('../google/client-options.js');
    const { googleRemediationApis } = await import('../remediation/google-apis.js');
    return googleRemediationApis(googleClientOptions(env));
  };
}

/** Who made the change: the Cloud Run job execution, or the local user at the host. */
export function actorOf(env: NodeJS.ProcessEnv): string {
  if (env.CLOUD_RUN_JOB) return `cloud-run-job ${env.CLOUD_RUN_JOB}${env.CLOUD_RUN_EXECUTION ? `/${env.CLOUD_RUN_EXECUTION}` : ''}`;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where it ran.
  }
  return `${user}@${hostname()}`;
}

async function createSource(config: ReturnType<typeof parseScanConfig>, logger: Logger, env: NodeJS.ProcessEnv): Promise<AssetSource> {
  if (config.inputs.length > 0) return new FileAssetSource(config.inputs);
  const { CaiApiSource } = await import('../inventory/cai-api-source.js');
  const { googleClientOptions } = await import('../google/client-options.js');
  return new CaiApiSource({
    scopes: [...config.orgs.map((id) => `organizations/${id}`), ...config.folders.map((id) => `folders/${id}`), ...config.projects.map((id) => `projects/${id}`)],
    logger,
    concurrency: config.concurrency,
    ratePerMinute: config.ratePerMinute,
    clientOptions: googleClientOptions(env),
  });
}
