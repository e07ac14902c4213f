/**
 * Remediation at scale: 1,000 fixable findings across 200 Cloud Run targets (per target, three
 * jobs with a wrong audience and two accounts that may not invoke it), served by the fake Google
 * API server in a worker thread with 100 ms added to every call and a share of policy writes
 * refused as concurrent (ABORTED). `fix plan` runs in this process (it reads files, no API call);
 * `fix apply --yes --max-changes 1000` runs as the CLI in a new process, as an operator runs it.
 * Calls are counted by the server, wall time by the clock.
 *
 *   npm run build && node dist/bench/remediation-bench.js [--targets N] [--latency-ms N] [--conflict-rate R]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { allRules } from '../rules/index.js';
import { planFromScan } from '../src/cli/fix-command.js';
import { FileAssetSource } from '../src/inventory/file-source.js';
import { memoryLogger } from '../src/log/logger.js';
import type { ChangeRecord } from '../src/remediation/record.js';
import { startFakeGcpWorker } from '../test/support/fake-gcp/worker.js';

export interface RemediationBenchOptions {
  targets?: number;
  latencyMs?: number;
  /** Share of SetIamPolicy calls answered ABORTED, as if someone else had just changed the policy. */
  conflictRate?: number;
  log?: (line: string) => void;
}

export interface RemediationBenchResult {
  findings: number;
  changes: number;
  applied: number;
  calls: Record<string, number>;
  callsPerChange: number;
  policyWritesPerTarget: number;
  conflicts: number;
  seconds: number;
  goals: { callsPerChange: boolean; oneRmwPerTarget: boolean; wall: boolean };
}

const ORG = '990000000001';
const PROJECT = 'bench-remediate';
const NUMBER = '880000000001';
const REGION = 'us-central1';
const GOALS = { callsPerChange: 3, wallSeconds: 60 };

/** The synthetic organization: one project, `targets` services, five jobs each, one fixable finding per job. */
export function remediationOrg(targets: number): Record<string, unknown>[] {
  const ok = `ok-invoker@${PROJECT}.iam.gserviceaccount.com`;
  const records: Record<string, unknown>[] = [
    { name: `//cloudresourcemanager.googleapis.com/organizations/${ORG}`, asset_type: 'cloudresourcemanager.googleapis.com/Organization', resource: { data: { name: `organizations/${ORG}` } }, iam_policy: { bindings: [] }, ancestors: [`organizations/${ORG}`] },
    {
      name: `//cloudresourcemanager.googleapis.com/projects/${NUMBER}`,
      asset_type: 'cloudresourcemanager.googleapis.com/Project',
      resource: { data: { projectId: PROJECT, projectNumber: NUMBER }, parent: `//cloudresourcemanager.googleapis.com/organizations/${ORG}` },
      // The account of the audience jobs may invoke everything: their only finding is the audience.
      iam_policy: { bindings: [{ role: 'roles/run.invoker', members: [`serviceAccount:${ok}`] }] },
      ancestors: [`projects/${NUMBER}`, `organizations/${ORG}`],
    },
  ];
  const ancestors = [`projects/${NUMBER}`, `organizations/${ORG}`];
  for (let t = 0; t < targets; t++) {
    const svc = `svc-${String(t).padStart(4, '0')}`;
    const name = `projects/${PROJECT}/locations/${REGION}/services/${svc}`;
    const url = `https://${svc}-bench${t}-uc.a.run.app`;
    records.push({
      name: `//run.googleapis.com/${name}`,
      asset_type: 'run.googleapis.com/Service',
      resource: { version: 'v2', data: { name, uri: url, urls: [url] } },
      iam_policy: { etag: 'BwAAAAAAAAA=', bindings: [{ role: 'roles/run.viewer', members: ['group:devs@example.com'] }] },
      ancestors,
    });
    for (let j = 0; j < 5; j++) {
      const job = `projects/${PROJECT}/locations/${REGION}/jobs/${svc}-job-${j}`;
      const token = j < 3 ? { serviceAccountEmail: ok, audience: `https://${svc}.example.com` } : { serviceAccountEmail: `caller-${t}-${j}@${PROJECT}.iam.gserviceaccount.com`, audience: url };
      records.push({
        name: `//cloudscheduler.googleapis.com/${job}`,
        asset_type: 'cloudscheduler.googleapis.com/Job',
        resource: { data: { name: job, state: 'ENABLED', schedule: '*/5 * * * *', timeZone: 'UTC', httpTarget: { uri: `${url}/run`, httpMethod: 'POST', oidcToken: token } } },
        ancestors,
      });
    }
  }
  return records;
}

function runApply(plan: string, address: string): Promise<{ seconds: number; stdout: string; stderr: string; code: number }> {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'fix', 'apply', plan, '--yes', '--max-changes', '100000', '--log-level', 'warn'], {
    env: { ...process.env, CRONWARDEN_GOOGLE_API_ENDPOINT: address },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ seconds: (performance.now() - started) / 1000, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 })),
  );
}

export async function benchRemediation(options: RemediationBenchOptions = {}): Promise<RemediationBenchResult> {
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const targets = options.targets ?? 200;
  const latencyMs = options.latencyMs ?? 100;
  const conflictRate = options.conflictRate ?? 0.1;
  const dir = await mkdtemp(join(tmpdir(), 'cw-remediation-bench-'));
  const records = remediationOrg(targets);
  const seed = join(dir, 'org.ndjson');
  await writeFile(seed, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const fake = await startFakeGcpWorker({
    records,
    latencyMs,
    strict: true,
    logRequests: false,
    faults: conflictRate > 0 ? [{ method: 'run.SetIamPolicy', code: 'ABORTED', rate: conflictRate, message: 'There were concurrent policy changes.' }] : [],
  });
  try {
    const { plan, findings } = await planFromScan({ source: new FileAssetSource([seed]), rules: allRules, logger: memoryLogger(), fix: { invokerAccounts: [] } });
    const planPath = join(dir, 'plan.json');
    await writeFile(planPath, JSON.stringify(plan));
    const fixable = findings.filter((f) => f.status === 'fail' && f.remediation.automaticFix).length;
    const run = await runApply(planPath, fake.address);
    const calls = await fake.counters();
    const recs = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ChangeRecord);
    const applied = recs.filter((r) => r.result === 'applied').length;
    const byMethod = (m: string) => calls[m] ?? 0;
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const setCalls = byMethod('run.SetIamPolicy');
    const policyTargets = new Set(plan.changes.flatMap((c) => (c.change.kind === 'iam-member' ? [c.change.resource] : []))).size;
    // Each resource's records carry the attempts its one read-modify-write took: the conflicts it survived.
    const attemptsByResource = new Map<string, number>();
    for (const r of recs) if (r.change.kind === 'iam-member') attemptsByResource.set(r.change.resource, r.attempts);
    const conflicts = [...attemptsByResource.values()].reduce((a, n) => a + (n - 1), 0);
    const successfulWrites = setCalls - conflicts;
    const result: RemediationBenchResult = {
      findings: fixable,
      changes: plan.changes.length,
      applied,
      calls,
      callsPerChange: total / Math.max(1, applied),
      policyWritesPerTarget: successfulWrites / Math.max(1, policyTargets),
      conflicts,
      seconds: run.seconds,
      goals: {
        callsPerChange: total / Math.max(1, applied) <= GOALS.callsPerChange,
        oneRmwPerTarget: successfulWrites === policyTargets && attemptsByResource.size === policyTargets,
        wall: run.seconds <= GOALS.wallSeconds,
      },
    };
    log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
    log(`${fixable} fixable findings, ${plan.changes.length} changes (${policyTargets} policies), ${targets} targets; fake: ${latencyMs} ms per call, ${Math.round(conflictRate * 100)}% of policy writes refused as concurrent`);
    log('');
    log('| measurement | value | goal |');
    log('|---|---:|---|');
    log(`| changes applied | ${applied} of ${plan.changes.length} | all |`);
    log(`| API calls (GetJob ${byMethod('scheduler.GetJob')}, UpdateJob ${byMethod('scheduler.UpdateJob')}, getIamPolicy ${byMethod('run.GetIamPolicy')}, setIamPolicy ${setCalls}) | ${total} | |`);
    log(`| API calls per change | ${result.callsPerChange.toFixed(2)} | ≤ ${GOALS.callsPerChange}: ${result.goals.callsPerChange ? 'met' : 'NOT met'} |`);
    log(`| successful policy writes per target | ${result.policyWritesPerTarget.toFixed(2)} | 1: ${result.goals.oneRmwPerTarget ? 'met' : 'NOT met'} |`);
    log(`| policy write conflicts survived (re-read, retried) | ${result.conflicts} | |`);
    log(`| wall, \`fix apply\` in a new process (s) | ${run.seconds.toFixed(1)} | ≤ ${GOALS.wallSeconds}: ${result.goals.wall ? 'met' : 'NOT met'} |`);
    if (run.code !== 0) log(`\nfix apply exited ${run.code}: ${run.stderr.slice(0, 500)}`);
    return result;
  } finally {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { targets: { type: 'string' }, 'latency-ms': { type: 'string' }, 'conflict-rate': { type: 'string' } } });
  void benchRemediation({
    ...(values.targets ? { targets: Number(values.targets) } : {}),
    ...(values['latency-ms'] ? { latencyMs: Number(values['latency-ms']) } : {}),
    ...(values['conflict-rate'] ? { conflictRate: Number(values['conflict-rate']) } : {}),
  });
}
