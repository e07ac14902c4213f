/**
 * Evidence beyond the inventory at organization scale: 10k jobs in 1,000 projects, 30% of them
 * invoking through a group grant (250 granted groups, each holding a nested group of 4 projects'
 * runner accounts: 500 groups), 2% refused in the execution logs. The fake Logging (gRPC) and
 * the fake Cloud Identity (HTTP) add 100 ms to every call. Counts calls and wall time of a scan
 * with `--attempts-from projects` and `--resolve-groups`, for a premium and a standard edition.
 *
 *   npm run build && node dist/bench/evidence-bench.js [--jobs N] [--projects N] [--latency-ms N] [--concurrency N]
 */
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { allRules } from '../rules/index.js';
import { AttemptsEvidence } from '../src/evidence/attempts/attempts-evidence.js';
import { CLOUD_IDENTITY_ENDPOINT_ENV, cloudIdentityRequester } from '../src/evidence/groups/cloud-identity-client.js';
import { GroupsEvidence } from '../src/evidence/groups/groups-evidence.js';
import type { Finding } from '../src/findings/schema.js';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions } from '../src/google/client-options.js';
import type { AssetRecord } from '../src/inventory/asset-record.js';
import type { AssetSource, SourceReport } from '../src/inventory/source.js';
import { textLogger } from '../src/log/logger.js';
import { runScan } from '../src/scan/run-scan.js';
import { startFakeCloudIdentity, type FakeGroup } from '../test/support/fake-cloud-identity/index.js';
import { startFakeGcp } from '../test/support/fake-gcp/index.js';

export interface EvidenceBenchOptions {
  jobs?: number;
  projects?: number;
  latencyMs?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

const ORG = '900000000001';
const REGION = 'us-central1';
const NOW = new Date('2026-11-30T04:00:00Z');
const GROUP_SHARE = 0.3;
const REFUSED_SHARE = 0.02;
const CRM = '//cloudresourcemanager.googleapis.com/';

interface World {
  records: AssetRecord[];
  groups: FakeGroup[];
  logEntries: Record<string, unknown>[];
  projects: number;
  groupJobs: number;
  /** Distinct (group, account) pairs the group-granted jobs ask about. */
  pairs: number;
}

/** The organization in memory: each project has a runner account, an outsider and 10 services. */
export function evidenceWorld(jobs: number, projects: number): World {
  const records: AssetRecord[] = [];
  const logEntries: Record<string, unknown>[] = [];
  let n = 0;
  const add = (name: string, assetType: string, data: Record<string, unknown> | undefined, ancestors: string[], bindings?: { role: string; members: string[] }[]): void => {
    records.push({ name, assetType, ...(data ? { resource: { version: 'v2', data } } : {}), ...(bindings ? { iamPolicy: { bindings } } : {}), ancestors, origin: `bench:${++n}` });
  };
  add(`${CRM}organizations/${ORG}`, 'cloudresourcemanager.googleapis.com/Organization', { name: `organizations/${ORG}` }, [`organizations/${ORG}`]);
  add(`${CRM}organizations/${ORG}`, 'cloudresourcemanager.googleapis.com/Organization', undefined, [`organizations/${ORG}`], []);
  const teams = Math.ceil(projects / 4);
  const groups: FakeGroup[] = [];
  for (let t = 0; t < teams; t++) {
    groups.push({ email: `team-${t}@bench.example`, members: [{ id: `runners-${t}@bench.example`, type: 'GROUP' }, { id: `lead-${t}@bench.example`, type: 'USER' }] });
    groups.push({ email: `runners-${t}@bench.example`, members: [] });
  }
  const pairs = new Set<string>();
  let groupJobs = 0;
  const perProject = Math.ceil(jobs / projects);
  let made = 0;
  for (let p = 0; p < projects; p++) {
    const id = `bench-p${p}`;
    const number = String(100000000000 + p);
    const ancestors = [`projects/${number}`, `organizations/${ORG}`];
    add(`${CRM}projects/${number}`, 'cloudresourcemanager.googleapis.com/Project', { projectId: id, projectNumber: number }, ancestors);
    add(`${CRM}projects/${number}`, 'cloudresourcemanager.googleapis.com/Project', undefined, ancestors, [
      { role: 'roles/cloudscheduler.serviceAgent', members: [`serviceAccount:service-${number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`] },
    ]);
    const runner = `runner@${id}.iam.gserviceaccount.com`;
    const outsider = `outsider@${id}.iam.gserviceaccount.com`;
    const team = Math.floor(p / 4);
    groups[team * 2 + 1]!.members.push({ id: runner, type: 'SERVICE_ACCOUNT' });
    for (const sa of [runner, outsider]) add(`//iam.googleapis.com/projects/${id}/serviceAccounts/${sa}`, 'iam.googleapis.com/ServiceAccount', { email: sa, projectId: id }, ancestors);
    for (let j = 0; j < perProject && made < jobs; j++, made++) {
      const svc = `svc-${j}`;
      const url = `https://${svc}-${p}-uc.a.run.app`;
      const runName = `//run.googleapis.com/projects/${id}/locations/${REGION}/services/${svc}`;
      add(runName, 'run.googleapis.com/Service', { name: `projects/${id}/locations/${REGION}/services/${svc}`, uri: url, urls: [url] }, ancestors);
      const viaGroup = (made * 7919) % 1000 < GROUP_SHARE * 1000;
      // One in ten group-granted jobs runs as an account outside the group: a settled fail.
      const sa = viaGroup && made % 10 === 0 ? outsider : runner;
      add(runName, 'run.googleapis.com/Service', undefined, ancestors, [{ role: 'roles/run.invoker', members: [viaGroup ? `group:team-${team}@bench.example` : `serviceAccount:${runner}`] }]);
      if (viaGroup) {
        groupJobs++;
        pairs.add(`${team}/${sa}`);
      }
      const name = `projects/${id}/locations/${REGION}/jobs/job-${j}`;
      const refused = (made * 104729) % 1000 < REFUSED_SHARE * 1000;
      // Half the refused jobs are still refused at their last attempt; the others were fixed since.
      const stillRefused = refused && made % 2 === 0;
      add(`//cloudscheduler.googleapis.com/${name}`, 'cloudscheduler.googleapis.com/Job', {
        name,
        state: 'ENABLED',
        schedule: '0 3 * * *',
        lastAttemptTime: '2026-11-29T03:00:01Z',
        ...(stillRefused ? { status: { code: 7, message: 'PERMISSION_DENIED' } } : {}),
        httpTarget: { uri: `${url}/run`, httpMethod: 'POST', oidcToken: { serviceAccountEmail: sa, audience: url } },
      }, ancestors);
      if (refused) {
        for (let d = 0; d < 5; d++) {
          logEntries.push({
            logName: `projects/${id}/logs/cloudscheduler.googleapis.com%2Fexecutions`,
            resource: { type: 'cloud_scheduler_job', labels: { project_id: id, location: REGION, job_id: `job-${j}` } },
            timestamp: `2026-11-${24 + d}T03:00:02Z`,
            insertId: `b${made}-${d}`,
            severity: 'ERROR',
            httpRequest: { status: 403 },
            jsonPayload: { '@type': 'type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished', jobName: name, status: 'PERMISSION_DENIED' },
          });
        }
      }
    }
  }
  return { records, groups, logEntries, projects, groupJobs, pairs: pairs.size };
}

function arraySource(records: AssetRecord[]): AssetSource {
  return {
    description: 'synthetic organization',
    async read(onRecord): Promise<SourceReport> {
      for (const record of records) onRecord({ ok: true, record });
      return { records: records.length, problems: [], problemCount: 0, gaps: [] };
    },
  };
}

export interface EvidenceBenchRow {
  edition: 'premium' | 'standard';
  seconds: number;
  loggingCalls: number;
  identityCalls: { lookup: number; checkTransitive: number; list: number; total: number };
  pairs: number;
  verdicts: { pass: number; fail: number; unverifiable: number };
  refusedJobs: number;
  fixedJobs: number;
}

export async function benchEvidence(opts: EvidenceBenchOptions = {}): Promise<EvidenceBenchRow[]> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const jobs = opts.jobs ?? 10_000;
  const projects = opts.projects ?? 1_000;
  const latencyMs = opts.latencyMs ?? 100;
  const concurrency = opts.concurrency ?? 8;
  const world = evidenceWorld(jobs, projects);
  const rows: EvidenceBenchRow[] = [];
  const logger = textLogger('error', (l) => process.stderr.write(l));
  for (const edition of ['premium', 'standard'] as const) {
    const gcp = await startFakeGcp({ logEntries: world.logEntries, latencyMs, logRequests: false });
    const identity = await startFakeCloudIdentity({ groups: world.groups, edition, latencyMs });
    try {
      const since = new Date(NOW.getTime() - 7 * 86_400_000);
      const attempts = new AttemptsEvidence({ from: 'projects', window: '7d', since, logger, clientOptions: googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: gcp.address }), concurrency: Math.min(concurrency, 8) });
      const requester = await cloudIdentityRequester({ [CLOUD_IDENTITY_ENDPOINT_ENV]: identity.url });
      // The fake has no quota: the cap is lifted so the figure shows calls and latency, not the limiter.
      const groups = new GroupsEvidence({ requester, logger, concurrency, callsPerMinute: 100_000 });
      const verdicts = { pass: 0, fail: 0, unverifiable: 0 };
      let refusedJobs = 0;
      let fixedJobs = 0;
      const sink = {
        name: 'count',
        write(f: Finding): void {
          if (f.ruleId === 'oidc-sa-can-invoke-target') verdicts[f.status]++;
          if (f.ruleId === 'last-attempt-authorized' && f.status === 'fail') refusedJobs++;
          if (f.ruleId === 'last-attempt-authorized' && f.status === 'pass' && f.message.endsWith('fixed since.')) fixedJobs++;
        },
        close: async () => ({ sink: 'count', delivered: 0, failed: 0 }),
      };
      const started = performance.now();
      const result = await runScan({ source: arraySource(world.records), rules: allRules, sinks: [sink], logger, includePasses: true, evidence: [attempts, groups], now: () => NOW });
      const seconds = (performance.now() - started) / 1000;
      rows.push({
        edition,
        seconds,
        loggingCalls: gcp.counters.get('ListLogEntries'),
        identityCalls: { ...identity.calls },
        pairs: result.summary.evidence?.groups?.pairs ?? 0,
        verdicts,
        refusedJobs,
        fixedJobs,
      });
    } finally {
      await identity.stop();
      await gcp.stop();
    }
  }
  log(`${jobs} jobs in ${projects} projects; ${world.groupJobs} invoke through a group grant (${world.groups.length} groups, nested two deep), ${world.pairs} distinct (group, account) pairs; ${world.logEntries.length} refused attempts in the logs; ${latencyMs} ms per call; concurrency ${concurrency}; ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  log('');
  log('| edition | wall s | Logging calls | Cloud Identity calls (lookup / checkTransitive / list) | pairs answered | invoke pass / fail / unverifiable | refused jobs: fail / fixed since |');
  log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const c = r.identityCalls;
    log(`| ${r.edition} | ${r.seconds.toFixed(1)} | ${r.loggingCalls} | ${c.total} (${c.lookup} / ${c.checkTransitive} / ${c.list}) | ${r.pairs} | ${r.verdicts.pass} / ${r.verdicts.fail} / ${r.verdicts.unverifiable} | ${r.refusedJobs} / ${r.fixedJobs} |`);
  }
  log('');
  log(`goals: Logging ≤ ${Math.ceil(projects / 100)} calls (one per 100 projects per page); at most one membership answer per distinct pair (${world.pairs})`);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { jobs: { type: 'string' }, projects: { type: 'string' }, 'latency-ms': { type: 'string' }, concurrency: { type: 'string' } } });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const o: EvidenceBenchOptions = {};
  if (values.jobs) o.jobs = num(values.jobs)!;
  if (values.projects) o.projects = num(values.projects)!;
  if (values['latency-ms']) o.latencyMs = num(values['latency-ms'])!;
  if (values.concurrency) o.concurrency = num(values.concurrency)!;
  benchEvidence(o).catch((err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}
