/**
 * A synthetic Google Cloud organization written as Cloud Asset Inventory files, for benchmarks
 * and property tests: an org, folders, projects, their IAM policies, service accounts, custom
 * roles, Cloud Run services, 1st and 2nd gen functions and Scheduler jobs calling them. Most
 * jobs are configured well; a deterministic fraction is broken in each way the rules check.
 * Everything is streamed to disk; only the per-target index stays in memory, never the jobs.
 *
 *   node dist/bench/synthetic-org.js --dir D --projects N --jobs N --targets N [--shape both] [--seed S]
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DOMAIN,
  ENVS,
  REGIONS,
  Rng,
  WORDS,
  customRoleAsset,
  exportLine,
  folderAsset,
  functionV1Asset,
  functionV2Asset,
  isoTime,
  listElement,
  organizationAsset,
  policyAsset,
  projectAsset,
  runServiceAsset,
  serviceAccountAsset,
  type IamBinding,
  type SyntheticAsset,
} from './synthetic-assets.js';

export type Shape = 'export' | 'list' | 'both';

export interface SyntheticOrgOptions {
  /** Output directory; created if missing. */
  dir: string;
  projects: number;
  /** Scheduler/serverless locations each project uses (default 2, at most 8). */
  locationsPerProject?: number;
  jobs: number;
  /** Cloud Run services and functions, spread over the projects. */
  targets: number;
  /** Same seed, same files (default 1). */
  seed?: number;
  /** 'export' (`gcloud asset export` NDJSON), 'list' (`gcloud asset list --format=json`) or both (default 'export'). */
  shape?: Shape;
}

/**
 * How a job is configured. `good*` and the non-serverless kinds pass the rules; the others are
 * each broken in one way a rule checks.
 */
export const JOB_CASES = {
  good: 0.7,
  noToken: 0.03,
  oauthToRun: 0.02,
  wrongAudience: 0.03,
  hostOnlyGen1: 0.02,
  saWithoutInvoker: 0.03,
  disabledSa: 0.02,
  defaultComputeSa: 0.03,
  oidcToGoogleApi: 0.02,
  lastAttemptUnauthenticated: 0.02,
  pubsub: 0.03,
  external: 0.02,
  googleApiOauth: 0.02,
  unknownTarget: 0.01,
} as const;
export type JobCase = keyof typeof JOB_CASES;

export interface SyntheticCounts {
  organizations: number;
  folders: number;
  projects: number;
  /** Projects whose policy lacks the Cloud Scheduler service agent binding. */
  projectsWithoutSchedulerAgent: number;
  serviceAccounts: number;
  customRoles: number;
  runServicesV1: number;
  runServicesV2: number;
  functionsGen1: number;
  functionsGen2: number;
  iamPolicies: number;
  jobs: number;
  jobsByCase: Record<JobCase, number>;
  /** Resource plus IAM-policy records of one shape. */
  records: number;
}

export interface SyntheticOrg {
  /** Every file written, of every shape. */
  files: string[];
  /** The files of each shape written: a scan reads one shape's files. */
  byShape: { export?: string[]; list?: string[] };
  counts: SyntheticCounts;
}

const BASE_TIME = Date.UTC(2026, 4, 1, 6, 0, 0);
const SERVICE_AGENT_ROLE = 'roles/cloudscheduler.serviceAgent';
const INVOKER_ROLE_NAME = 'schedulerInvoker';

interface Project {
  index: number;
  id: string;
  number: string;
  env: string;
  parent: string;
  ancestors: string[];
  locations: string[];
  /** Job service accounts granted invoker on the project's targets. */
  runners: string[];
  noInvoker: string;
  disabled: string;
  defaultCompute: string;
  hasSchedulerAgent: boolean;
}

type TargetKind = 'run-v1' | 'run-v2' | 'gen1' | 'gen2';

interface Target {
  kind: TargetKind;
  project: Project;
  region: string;
  /** What a job calls and the audience that matches it. */
  callUrl: string;
  audience: string;
  customAudience?: string;
  /** gen1: `https://REGION-PROJECT.cloudfunctions.net`, the host-only audience that gets 401. */
  functionHost?: string;
}

/** Streams text to a file in ~1 MiB writes, waiting for the disk when it lags. */
class TextFile {
  private readonly stream: WriteStream;
  private pieces: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  async write(text: string): Promise<void> {
    this.pieces.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }

  private async flush(): Promise<void> {
    if (this.pieces.length === 0) return;
    const data = this.pieces.join('');
    this.pieces = [];
    this.size = 0;
    if (!this.stream.write(data)) await once(this.stream, 'drain');
  }
}

/** One output shape: a resource file and an IAM-policy file, as the two content types are exported. */
interface ShapeWriter {
  resource(asset: SyntheticAsset): Promise<void>;
  policy(asset: SyntheticAsset): Promise<void>;
  close(): Promise<string[]>;
}

function exportWriter(dir: string): ShapeWriter {
  const resources = new TextFile(join(dir, 'export-resources.ndjson'));
  const policies = new TextFile(join(dir, 'export-iam-policies.ndjson'));
  return {
    resource: (a) => resources.write(exportLine(a) + '\n'),
    policy: (a) => policies.write(exportLine(a) + '\n'),
    close: async () => {
      await Promise.all([resources.close(), policies.close()]);
      return [resources.path, policies.path];
    },
  };
}

function listWriter(dir: string): ShapeWriter {
  const open = (name: string) => ({ file: new TextFile(join(dir, name)), first: true });
  const resources = open('list-resources.json');
  const policies = open('list-iam-policies.json');
  const add = async (f: { file: TextFile; first: boolean }, a: SyntheticAsset): Promise<void> => {
    await f.file.write((f.first ? '[\n' : ',\n') + listElement(a));
    f.first = false;
  };
  const end = async (f: { file: TextFile; first: boolean }): Promise<string> => {
    await f.file.write(f.first ? '[]\n' : '\n]\n');
    await f.file.close();
    return f.file.path;
  };
  return {
    resource: (a) => add(resources, a),
    policy: (a) => add(policies, a),
    close: async () => [await end(resources), await end(policies)],
  };
}

/** Writes a synthetic organization; same options, same bytes. */
export async function generateSyntheticOrg(options: SyntheticOrgOptions): Promise<SyntheticOrg> {
  const { dir, jobs } = options;
  const projectCount = Math.max(1, Math.floor(options.projects));
  const targetCount = Math.max(0, Math.floor(options.targets));
  const locationsPerProject = Math.min(REGIONS.length, Math.max(1, options.locationsPerProject ?? 2));
  const seed = options.seed ?? 1;
  const shape = options.shape ?? 'export';
  await mkdir(dir, { recursive: true });

  const writers: ShapeWriter[] = [];
  if (shape !== 'list') writers.push(exportWriter(dir));
  if (shape !== 'export') writers.push(listWriter(dir));
  const counts: SyntheticCounts = {
    organizations: 1,
    folders: 0,
    projects: projectCount,
    projectsWithoutSchedulerAgent: 0,
    serviceAccounts: 0,
    customRoles: 0,
    runServicesV1: 0,
    runServicesV2: 0,
    functionsGen1: 0,
    functionsGen2: 0,
    iamPolicies: 0,
    jobs: 0,
    jobsByCase: Object.fromEntries(Object.keys(JOB_CASES).map((k) => [k, 0])) as Record<JobCase, number>,
    records: 0,
  };
  let clock = 0;
  const time = (): string => isoTime(BASE_TIME, clock++ % 86_400);
  const resource = async (a: SyntheticAsset): Promise<void> => {
    counts.records++;
    for (const w of writers) await w.resource(a);
  };
  const policy = async (a: SyntheticAsset): Promise<void> => {
    counts.records++;
    counts.iamPolicies++;
    for (const w of writers) await w.policy(a);
  };

  // Separate streams, so that more jobs do not change the projects or targets.
  const orgRng = new Rng(seed * 7919 + 1);
  const targetRng = new Rng(seed * 7919 + 2);
  const jobRng = new Rng(seed * 7919 + 3);

  const org = String(100_000_000_000 + (seed % 900_000) * 1_000_003);
  const orgName = `organizations/${org}`;
  const invokerRole = `${orgName}/roles/${INVOKER_ROLE_NAME}`;
  await resource(organizationAsset(org, time()));
  await policy(
    policyAsset(
      `//cloudresourcemanager.googleapis.com/${orgName}`,
      'cloudresourcemanager.googleapis.com/Organization',
      [
        { role: 'roles/billing.admin', members: [`group:billing-admins@${DOMAIN}`] },
        { role: 'roles/browser', members: [`domain:${DOMAIN}`] },
        { role: 'roles/iam.securityReviewer', members: [`group:security@${DOMAIN}`] },
        { role: 'roles/owner', members: [`user:cloud-admin@${DOMAIN}`] },
        { role: 'roles/resourcemanager.organizationAdmin', members: [`group:gcp-admins@${DOMAIN}`, `user:cloud-admin@${DOMAIN}`] },
      ],
      [orgName],
      time(),
      'BwX1aa0orgA=',
    ),
  );
  await resource(customRoleAsset(invokerRole, 'Scheduler invoker', ['run.routes.invoke', 'cloudfunctions.functions.invoke'], orgName, [orgName], time()));
  counts.customRoles++;

  // Folders: one top folder per 50 projects, each with two sub-folders.
  const topFolders = Math.max(1, Math.ceil(projectCount / 50));
  const leafFolders: { name: string; ancestors: string[] }[] = [];
  for (let f = 0; f < topFolders; f++) {
    const top = String(200_000_000_000 + f * 3 * 7_919 + (seed % 1000));
    const topAncestors = [`folders/${top}`, orgName];
    await resource(folderAsset(top, orgName, `business-unit-${f}`, topAncestors, time()));
    await policy(folderPolicy(top, topAncestors, `bu-${f}`, time()));
    counts.folders++;
    leafFolders.push({ name: `folders/${top}`, ancestors: topAncestors });
    for (const env of ['production', 'non-production']) {
      const leaf = String(Number(top) + (env === 'production' ? 7_919 : 2 * 7_919));
      const ancestors = [`folders/${leaf}`, ...topAncestors];
      await resource(folderAsset(leaf, `folders/${top}`, `${env}-${f}`, ancestors, time()));
      await policy(folderPolicy(leaf, ancestors, `${env}-${f}`, time()));
      counts.folders++;
      leafFolders.push({ name: `folders/${leaf}`, ancestors });
    }
  }

  let uniqueId = 0;
  const nextUniqueId = (): string => `10${String(seed % 1000).padStart(3, '0')}${String(uniqueId++).padStart(16, '0')}`;
  const projects: Project[] = [];
  for (let p = 0; p < projectCount; p++) {
    const env = ENVS[p % ENVS.length]!;
    const folder = leafFolders[p % leafFolders.length]!;
    const number = String(300_000_000_000 + p * 1_009 + (seed % 997));
    const id = `acme-${WORDS[p % WORDS.length]}-${env}-${String(p).padStart(5, '0')}`;
    const first = p % REGIONS.length;
    const project: Project = {
      index: p,
      id,
      number,
      env,
      parent: folder.name,
      ancestors: [`projects/${number}`, ...folder.ancestors],
      locations: Array.from({ length: locationsPerProject }, (_, k) => REGIONS[(first + k) % REGIONS.length]!.name),
      runners: [0, 1, 2].map((k) => `sched-runner-${k}@${id}.iam.gserviceaccount.com`),
      noInvoker: `sched-no-invoker@${id}.iam.gserviceaccount.com`,
      disabled: `sched-disabled@${id}.iam.gserviceaccount.com`,
      defaultCompute: `${number}-compute@developer.gserviceaccount.com`,
      hasSchedulerAgent: !(projectCount >= 10 && p % 50 === 49),
    };
    projects.push(project);
    if (!project.hasSchedulerAgent) counts.projectsWithoutSchedulerAgent++;
    await resource(projectAsset(project, time()));
    await policy(projectPolicy(project, orgRng, time()));
    const accounts: { email: string; displayName: string; disabled?: boolean }[] = [
      ...project.runners.map((email, k) => ({ email, displayName: `Scheduler runner ${k}` })),
      { email: project.noInvoker, displayName: 'Scheduler (no invoker grant)' },
      { email: project.disabled, displayName: 'Scheduler (retired)', disabled: true },
      { email: project.defaultCompute, displayName: 'Compute Engine default service account' },
      { email: `${id}@appspot.gserviceaccount.com`, displayName: 'App Engine default service account' },
      { email: `app-runtime@${id}.iam.gserviceaccount.com`, displayName: 'Application runtime' },
    ];
    for (const a of accounts) {
      await resource(serviceAccountAsset({ ...a, projectId: id, projectNumber: number, uniqueId: nextUniqueId() }, project.ancestors, time()));
      counts.serviceAccounts++;
    }
    if (p === 0) {
      const role = `projects/${id}/roles/jobAuditor`;
      await resource(customRoleAsset(role, 'Job auditor', ['cloudscheduler.jobs.get', 'cloudscheduler.jobs.list'], `projects/${number}`, project.ancestors, time()));
      counts.customRoles++;
    }
  }

  // Targets, round-robin over projects; jobs mostly call targets of their own project.
  const targets: Target[] = [];
  const byKind: Record<TargetKind, Target[]> = { 'run-v1': [], 'run-v2': [], gen1: [], gen2: [] };
  for (let t = 0; t < targetCount; t++) {
    const project = projects[t % projectCount]!;
    const region = project.locations[Math.floor(t / projectCount) % project.locations.length]!;
    const code = REGIONS.find((r) => r.name === region)!.code;
    const roll = targetRng.next();
    const kind: TargetKind = roll < 0.35 ? 'run-v2' : roll < 0.6 ? 'run-v1' : roll < 0.8 ? 'gen1' : 'gen2';
    const word = WORDS[t % WORDS.length]!;
    const ancestors = project.ancestors;
    const grantees = [...project.runners, project.disabled].map((e) => `serviceAccount:${e}`);
    const viaCustomRole = targetRng.chance(0.1);
    const isPublic = targetRng.chance(0.02);
    const invoker = (role: string): IamBinding[] => [
      { role: viaCustomRole ? invokerRole : role, members: isPublic ? [...grantees, 'allUsers'] : grantees },
      { role: 'roles/run.developer', members: [`serviceAccount:deployer@${project.id}.iam.gserviceaccount.com`] },
    ];
    const etag = `BwY${targetRng.token(8)}=`;
    if (kind === 'run-v1' || kind === 'run-v2') {
      const name = `${word}-svc-${t}`;
      const hashUrl = `https://${name}-${targetRng.token(10)}-${code}.a.run.app`;
      const deterministicUrl = `https://${name}-${project.number}.${region}.run.app`;
      const customAudiences = targetRng.chance(0.1) ? [`https://${word}-${t}.api.${DOMAIN}`] : [];
      const spec = {
        projectId: project.id,
        projectNumber: project.number,
        region,
        name,
        hashUrl,
        deterministicUrl,
        customAudiences,
        invokerIamDisabled: targetRng.chance(0.03),
        runtimeServiceAccount: `app-runtime@${project.id}.iam.gserviceaccount.com`,
      };
      const asset = runServiceAsset(spec, kind === 'run-v1' ? 'v1' : 'v2', ancestors, time(), uuid(targetRng));
      await resource(asset);
      await policy(policyAsset(asset.name, asset.assetType, invoker('roles/run.invoker'), ancestors, time(), etag));
      if (kind === 'run-v1') counts.runServicesV1++;
      else counts.runServicesV2++;
      const callUrl = targetRng.chance(0.3) ? deterministicUrl : hashUrl;
      const target: Target = { kind, project, region, callUrl, audience: callUrl };
      if (customAudiences[0]) target.customAudience = customAudiences[0];
      targets.push(target);
      byKind[kind].push(target);
      continue;
    }
    const name = `${word}-fn-${t}`;
    const functionHost = `https://${region}-${project.id}.cloudfunctions.net`;
    const url = `${functionHost}/${name}`;
    const fnSpec = {
      projectId: project.id,
      projectNumber: project.number,
      region,
      name,
      url,
      runtimeServiceAccount: `app-runtime@${project.id}.iam.gserviceaccount.com`,
    };
    if (kind === 'gen1') {
      const v1 = functionV1Asset(fnSpec, ancestors, time());
      await resource(v1);
      await resource(functionV2Asset(fnSpec, ancestors, time()));
      await policy(policyAsset(v1.name, v1.assetType, invoker('roles/cloudfunctions.invoker'), ancestors, time(), etag));
      counts.functionsGen1++;
      const target: Target = { kind, project, region, callUrl: url, audience: url, functionHost };
      targets.push(target);
      byKind.gen1.push(target);
      continue;
    }
    // 2nd gen: the Function, and the Run service that serves it, where invoker is granted.
    const runName = name.toLowerCase();
    const runUri = `https://${runName}-${targetRng.token(10)}-${code}.a.run.app`;
    const run = { service: `projects/${project.id}/locations/${region}/services/${runName}`, uri: runUri };
    await resource(functionV2Asset({ ...fnSpec, run }, ancestors, time()));
    const service = runServiceAsset(
      {
        projectId: project.id,
        projectNumber: project.number,
        region,
        name: runName,
        hashUrl: runUri,
        deterministicUrl: `https://${runName}-${project.number}.${region}.run.app`,
        customAudiences: [],
        invokerIamDisabled: false,
        runtimeServiceAccount: fnSpec.runtimeServiceAccount,
        managedByFunction: name,
      },
      'v2',
      ancestors,
      time(),
      uuid(targetRng),
    );
    await resource(service);
    await policy(policyAsset(service.name, service.assetType, invoker('roles/run.invoker'), ancestors, time(), etag));
    counts.functionsGen2++;
    const target: Target = { kind, project, region, callUrl: runUri, audience: runUri };
    targets.push(target);
    byKind.gen2.push(target);
  }

  const runLike = [...byKind['run-v1'], ...byKind['run-v2'], ...byKind.gen2];
  const cases = Object.entries(JOB_CASES) as [JobCase, number][];
  for (let j = 0; j < jobs; j++) {
    let roll = jobRng.next();
    let kase: JobCase = 'good';
    for (const [name, fraction] of cases) {
      if (roll < fraction) {
        kase = name;
        break;
      }
      roll -= fraction;
    }
    const job = buildJob(j, kase, { projects, targets, byKind, runLike, rng: jobRng });
    counts.jobsByCase[job.kase]++;
    counts.jobs++;
    await resource(jobAsset(job, time()));
  }

  const files: string[] = [];
  const byShape: SyntheticOrg['byShape'] = {};
  for (const [i, w] of writers.entries()) {
    const written = await w.close();
    files.push(...written);
    byShape[shape === 'list' || i === 1 ? 'list' : 'export'] = written;
  }
  // The manifest lets a benchmark reuse the files: same options (the directory aside), same bytes.
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ options: { ...options, dir: undefined }, counts, byShape }, null, 2) + '\n');
  return { files, byShape, counts };
}

function uuid(rng: Rng): string {
  const h = rng.token(32).replace(/[g-z]/g, (c) => ((c.charCodeAt(0) - 103) % 16).toString(16));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function folderPolicy(folder: string, ancestors: string[], team: string, time: string): SyntheticAsset {
  return policyAsset(
    `//cloudresourcemanager.googleapis.com/folders/${folder}`,
    'cloudresourcemanager.googleapis.com/Folder',
    [
      { role: 'roles/resourcemanager.folderViewer', members: [`group:${team}-viewers@${DOMAIN}`] },
      { role: 'roles/logging.viewer', members: [`group:sre@${DOMAIN}`] },
    ],
    ancestors,
    time,
    'BwX2folder0=',
  );
}

function projectPolicy(p: Project, rng: Rng, time: string): SyntheticAsset {
  const bindings: IamBinding[] = [
    { role: 'roles/editor', members: [`serviceAccount:${p.number}@cloudservices.gserviceaccount.com`, `serviceAccount:${p.defaultCompute}`] },
    { role: 'roles/owner', members: [`user:owner-${p.index % 17}@${DOMAIN}`] },
    { role: 'roles/run.serviceAgent', members: [`serviceAccount:service-${p.number}@serverless-robot-prod.iam.gserviceaccount.com`] },
    { role: 'roles/viewer', members: [`group:team-${p.index % 23}@${DOMAIN}`] },
  ];
  if (p.hasSchedulerAgent) {
    bindings.push({ role: SERVICE_AGENT_ROLE, members: [`serviceAccount:service-${p.number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`] });
  }
  // Some teams grant invoker on the whole project rather than per service.
  if (rng.chance(0.1)) bindings.push({ role: 'roles/run.invoker', members: [`serviceAccount:${p.runners[1]}`] });
  bindings.push({ role: 'roles/cloudscheduler.admin', members: [`group:team-${p.index % 23}@${DOMAIN}`] });
  return policyAsset(`//cloudresourcemanager.googleapis.com/projects/${p.number}`, 'cloudresourcemanager.googleapis.com/Project', bindings, p.ancestors, time, `BwY${rng.token(8)}=`);
}

interface JobPlan {
  index: number;
  kase: JobCase;
  project: Project;
  location: string;
  http?: { uri: string; oidc?: { sa: string; audience?: string }; oauth?: { sa: string } };
  pubsubTopic?: string;
  state: string;
  unauthenticated: boolean;
}

interface JobWorld {
  projects: Project[];
  targets: Target[];
  byKind: Record<TargetKind, Target[]>;
  runLike: Target[];
  rng: Rng;
}

/** Plans one job of the given case; a case whose target kind does not exist becomes `good`. */
function buildJob(j: number, wanted: JobCase, w: JobWorld): JobPlan {
  const { rng } = w;
  let kase = wanted;
  const pickFrom = (list: Target[]): Target | undefined => (list.length === 0 ? undefined : list[rng.int(list.length)]);
  let target: Target | undefined;
  switch (kase) {
    case 'hostOnlyGen1':
      target = pickFrom(w.byKind.gen1);
      break;
    case 'oauthToRun':
    case 'noToken':
    case 'wrongAudience':
      target = pickFrom(w.runLike);
      break;
    case 'pubsub':
    case 'external':
    case 'oidcToGoogleApi':
    case 'googleApiOauth':
    case 'unknownTarget':
      break;
    default:
      target = w.targets.length > 0 ? w.targets[j % w.targets.length] : undefined;
  }
  const needsTarget = !['pubsub', 'external', 'oidcToGoogleApi', 'googleApiOauth', 'unknownTarget'].includes(kase);
  if (needsTarget && !target) {
    // No target of the kind this case needs: keep the job, as a Pub/Sub one.
    kase = w.targets.length > 0 ? 'good' : 'pubsub';
    target = w.targets.length > 0 ? w.targets[j % w.targets.length] : undefined;
  }
  const project = target?.project ?? w.projects[j % w.projects.length]!;
  const location = project.locations[Math.floor(j / w.projects.length) % project.locations.length]!;
  const runner = project.runners[j % project.runners.length]!;
  const plan: JobPlan = { index: j, kase, project, location, state: rng.chance(0.05) ? 'PAUSED' : 'ENABLED', unauthenticated: false };
  const word = WORDS[j % WORDS.length]!;

  if (target) {
    const withPath = target.kind !== 'gen1' && rng.chance(0.6);
    const uri = withPath ? `${target.callUrl}/tasks/${word}?batch=${j % 10}` : target.callUrl;
    // The explicit audience is the target URL; without a path the default (the URI) is the same.
    const audience = withPath || rng.chance(0.5) ? (target.customAudience && rng.chance(0.5) ? target.customAudience : target.audience) : undefined;
    const oidc = (sa: string, aud: string | undefined = audience): { sa: string; audience?: string } => (aud ? { sa, audience: aud } : { sa });
    switch (kase) {
      case 'noToken':
        plan.http = { uri };
        plan.unauthenticated = rng.chance(0.5);
        break;
      case 'oauthToRun':
        plan.http = { uri, oauth: { sa: runner } };
        plan.unauthenticated = rng.chance(0.5);
        break;
      case 'wrongAudience':
        plan.http = { uri, oidc: oidc(runner, `https://${word}-old-${rng.token(10)}-ew.a.run.app`) };
        plan.unauthenticated = rng.chance(0.5);
        break;
      case 'hostOnlyGen1':
        plan.http = { uri, oidc: oidc(runner, target.functionHost) };
        break;
      case 'saWithoutInvoker':
        plan.http = { uri, oidc: oidc(project.noInvoker) };
        break;
      case 'disabledSa':
        plan.http = { uri, oidc: oidc(project.disabled) };
        break;
      case 'defaultComputeSa':
        plan.http = { uri, oidc: oidc(project.defaultCompute) };
        break;
      case 'lastAttemptUnauthenticated':
        plan.http = { uri, oidc: oidc(runner) };
        plan.unauthenticated = true;
        break;
      default:
        plan.http = { uri, oidc: oidc(runner) };
    }
    return plan;
  }
  switch (kase) {
    case 'pubsub':
      plan.pubsubTopic = `projects/${project.id}/topics/${word}-events`;
      break;
    case 'external':
      plan.http = { uri: `https://hooks.partner-${j % 7}.example.com/cron/${word}` };
      break;
    case 'oidcToGoogleApi':
      plan.http = { uri: `https://run.googleapis.com/v2/projects/${project.id}/locations/${location}/jobs/${word}-batch:run`, oidc: { sa: runner } };
      break;
    case 'googleApiOauth':
      plan.http = { uri: `https://run.googleapis.com/v2/projects/${project.id}/locations/${location}/jobs/${word}-batch:run`, oauth: { sa: runner } };
      break;
    case 'unknownTarget':
      plan.http = { uri: `https://${word}-gone-${rng.token(10)}-ew.a.run.app/`, oidc: { sa: runner } };
      break;
    default:
      break;
  }
  return plan;
}

const RETRY = { retryCount: 1, maxRetryDuration: '0s', minBackoffDuration: '5s', maxBackoffDuration: '3600s', maxDoublings: 5 };

function jobAsset(plan: JobPlan, time: string): SyntheticAsset {
  const { project, location } = plan;
  const jobId = `${WORDS[plan.index % WORDS.length]}-job-${plan.index}`;
  const name = `projects/${project.id}/locations/${location}/jobs/${jobId}`;
  const data: Record<string, unknown> = {
    name,
    description: `Runs ${jobId} on schedule`,
    schedule: `${plan.index % 60} ${plan.index % 24} * * *`,
    timeZone: plan.index % 3 === 0 ? 'Europe/Berlin' : 'Etc/UTC',
    userUpdateTime: '2026-02-10T08:15:00Z',
    state: plan.state,
  };
  if (plan.http) {
    const http: Record<string, unknown> = {
      uri: plan.http.uri,
      httpMethod: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Google-Cloud-Scheduler' },
      body: 'eyJ0cmlnZ2VyIjoic2NoZWR1bGVyIn0=',
    };
    if (plan.http.oidc) http.oidcToken = { serviceAccountEmail: plan.http.oidc.sa, ...(plan.http.oidc.audience ? { audience: plan.http.oidc.audience } : {}) };
    if (plan.http.oauth) http.oauthToken = { serviceAccountEmail: plan.http.oauth.sa, scope: 'https://www.googleapis.com/auth/cloud-platform' };
    data.httpTarget = http;
  } else {
    data.pubsubTarget = { topicName: plan.pubsubTopic, data: 'eyJ0cmlnZ2VyIjoic2NoZWR1bGVyIn0=', attributes: { source: 'scheduler' } };
  }
  data.status = plan.unauthenticated ? { code: 16, message: 'UNAUTHENTICATED' } : {};
  data.scheduleTime = '2026-05-02T06:00:00Z';
  data.lastAttemptTime = '2026-05-01T06:00:00.412Z';
  data.retryConfig = RETRY;
  if (plan.http) data.attemptDeadline = '180s';
  return {
    name: `//cloudscheduler.googleapis.com/${name}`,
    assetType: 'cloudscheduler.googleapis.com/Job',
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudscheduler.googleapis.com/$discovery/rest?version=v1',
      discoveryName: 'Job',
      parent: `//cloudresourcemanager.googleapis.com/projects/${project.number}`,
      location,
      data,
    },
    ancestors: project.ancestors,
    updateTime: time,
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dir: { type: 'string' },
      projects: { type: 'string' },
      'locations-per-project': { type: 'string' },
      jobs: { type: 'string' },
      targets: { type: 'string' },
      seed: { type: 'string' },
      shape: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const usage = 'usage: synthetic-org --dir DIR --projects N --jobs N --targets N [--locations-per-project N] [--seed N] [--shape export|list|both]';
  if (values.help) {
    process.stdout.write(usage + '\n');
    return;
  }
  const int = (name: string, v: string | undefined, required: boolean): number | undefined => {
    if (v === undefined) {
      if (required) throw new Error(`--${name} is required\n${usage}`);
      return undefined;
    }
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a whole number, got "${v}"`);
    return Number(v);
  };
  if (!values.dir) throw new Error(`--dir is required\n${usage}`);
  const shape = values.shape ?? 'export';
  if (shape !== 'export' && shape !== 'list' && shape !== 'both') throw new Error(`--shape must be export, list or both, got "${shape}"`);
  const opts: SyntheticOrgOptions = {
    dir: values.dir,
    projects: int('projects', values.projects, true)!,
    jobs: int('jobs', values.jobs, true)!,
    targets: int('targets', values.targets, true)!,
    shape,
  };
  const lpp = int('locations-per-project', values['locations-per-project'], false);
  if (lpp !== undefined) opts.locationsPerProject = lpp;
  const seed = int('seed', values.seed, false);
  if (seed !== undefined) opts.seed = seed;
  const started = performance.now();
  const org = await generateSyntheticOrg(opts);
  process.stdout.write(`${JSON.stringify({ ...org, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`synthetic-org: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
