/**
 * Small builders of realistic Cloud Asset Inventory records (camelCase envelope, REST data),
 * for rule and model tests. `baseWorld()` is a healthy organization; cases add or replace records.
 */
import type { AssetRecord, IamBindingJson } from '../../src/inventory/asset-record.js';

export const ORG = '100000000001';
export const FOLDER = '200000000002';
export const PROJECT = 'proj-alpha';
export const NUMBER = '300000000003';
export const REGION = 'us-central1';
export const SA = `invoker@${PROJECT}.iam.gserviceaccount.com`;
export const RUN_URL = 'https://svc-a1b2c3d4e5-uc.a.run.app';
export const RUN_DETERMINISTIC_URL = `https://svc-${NUMBER}.${REGION}.run.app`;
export const GEN1_URL = `https://${REGION}-${PROJECT}.cloudfunctions.net/fn1`;
export const GEN2_URL = `https://${REGION}-${PROJECT}.cloudfunctions.net/fn2`;
export const GEN2_RUN_URL = 'https://fn2-f6g7h8i9j0-uc.a.run.app';

const CRM = '//cloudresourcemanager.googleapis.com/';
export const ANCESTORS = [`projects/${NUMBER}`, `folders/${FOLDER}`, `organizations/${ORG}`];

let line = 0;
function rec(name: string, assetType: string, data: Record<string, unknown>, extra: Partial<AssetRecord> = {}): AssetRecord {
  return { name, assetType, resource: { version: 'v1', data }, ancestors: ANCESTORS, origin: `builder:${++line}`, ...extra };
}

export function policyRecord(name: string, assetType: string, bindings: IamBindingJson[], ancestors = ANCESTORS): AssetRecord {
  return { name, assetType, iamPolicy: { bindings }, ancestors, origin: `builder:${++line}` };
}

export const bind = (role: string, ...members: string[]): IamBindingJson => ({ role, members });

export function org(): AssetRecord {
  return rec(`${CRM}organizations/${ORG}`, 'cloudresourcemanager.googleapis.com/Organization', { name: `organizations/${ORG}` }, { ancestors: [`organizations/${ORG}`] });
}
export function folder(): AssetRecord {
  return rec(`${CRM}folders/${FOLDER}`, 'cloudresourcemanager.googleapis.com/Folder', { name: `folders/${FOLDER}` }, { ancestors: [`folders/${FOLDER}`, `organizations/${ORG}`] });
}
export function project(id = PROJECT, number = NUMBER): AssetRecord {
  return rec(`${CRM}projects/${number}`, 'cloudresourcemanager.googleapis.com/Project', { projectId: id, projectNumber: number }, { ancestors: [`projects/${number}`, `folders/${FOLDER}`, `organizations/${ORG}`] });
}
export function orgPolicy(...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(`${CRM}organizations/${ORG}`, 'cloudresourcemanager.googleapis.com/Organization', bindings, [`organizations/${ORG}`]);
}
export function folderPolicy(...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(`${CRM}folders/${FOLDER}`, 'cloudresourcemanager.googleapis.com/Folder', bindings, [`folders/${FOLDER}`, `organizations/${ORG}`]);
}
export const SCHEDULER_AGENT = `serviceAccount:service-${NUMBER}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`;
export function projectPolicy(...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(`${CRM}projects/${NUMBER}`, 'cloudresourcemanager.googleapis.com/Project', bindings);
}
export const defaultProjectBindings = (): IamBindingJson[] => [
  bind('roles/owner', 'user:owner@example.com'),
  bind('roles/cloudscheduler.serviceAgent', SCHEDULER_AGENT),
];

export function serviceAccount(email = SA, opts: { disabled?: boolean; projectId?: string } = {}): AssetRecord {
  const projectId = opts.projectId ?? PROJECT;
  return rec(`//iam.googleapis.com/projects/${projectId}/serviceAccounts/${email.length}${email.charCodeAt(0)}0001`, 'iam.googleapis.com/ServiceAccount', {
    email,
    projectId,
    ...(opts.disabled ? { disabled: true } : {}),
  });
}

export function customRole(name: string, permissions: string[], opts: { deleted?: boolean; stage?: string } = {}): AssetRecord {
  return rec(`//iam.googleapis.com/${name}`, 'iam.googleapis.com/Role', {
    name,
    includedPermissions: permissions,
    ...(opts.deleted ? { deleted: true } : {}),
    ...(opts.stage ? { stage: opts.stage } : {}),
  });
}

export const runName = (name = 'svc', project = PROJECT, region = REGION): string => `//run.googleapis.com/projects/${project}/locations/${region}/services/${name}`;

export function runService(
  opts: {
    name?: string;
    urls?: string[];
    customAudiences?: string[];
    invokerIamDisabled?: boolean;
    ingress?: string;
    shape?: 'v1' | 'v2';
    /** v1 only: leave out the `run.googleapis.com/urls` annotation, as older records do (only `status.url`). */
    statusUrlOnly?: boolean;
    defaultUriDisabled?: boolean;
    tagUrls?: string[];
  } = {},
): AssetRecord {
  const name = opts.name ?? 'svc';
  const urls = opts.urls ?? [RUN_URL, RUN_DETERMINISTIC_URL];
  if (opts.shape === 'v1') {
    const annotations: Record<string, string> = opts.statusUrlOnly ? {} : { 'run.googleapis.com/urls': JSON.stringify(urls) };
    if (opts.customAudiences) annotations['run.googleapis.com/custom-audiences'] = JSON.stringify(opts.customAudiences);
    if (opts.invokerIamDisabled) annotations['run.googleapis.com/invoker-iam-disabled'] = 'true';
    if (opts.ingress) annotations['run.googleapis.com/ingress'] = opts.ingress;
    if (opts.defaultUriDisabled) annotations['run.googleapis.com/default-url-disabled'] = 'true';
    return rec(runName(name), 'run.googleapis.com/Service', {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name, namespace: NUMBER, annotations },
      status: { url: urls[0], ...(opts.tagUrls ? { traffic: [{ percent: 100, latestRevision: true }, ...opts.tagUrls.map((url, i) => ({ tag: `t${i}`, url }))] } : {}) },
    });
  }
  return {
    ...rec(runName(name), 'run.googleapis.com/Service', {
      name: `projects/${PROJECT}/locations/${REGION}/services/${name}`,
      uri: urls[0],
      urls,
      ...(opts.customAudiences ? { customAudiences: opts.customAudiences } : {}),
      ...(opts.invokerIamDisabled ? { invokerIamDisabled: true } : {}),
    }),
    resource: {
      version: 'v2',
      data: {
        name: `projects/${PROJECT}/locations/${REGION}/services/${name}`,
        uri: urls[0],
        urls,
        ...(opts.customAudiences ? { customAudiences: opts.customAudiences } : {}),
        ...(opts.invokerIamDisabled ? { invokerIamDisabled: true } : {}),
        ...(opts.ingress ? { ingress: opts.ingress } : {}),
        ...(opts.defaultUriDisabled ? { defaultUriDisabled: true } : {}),
        ...(opts.tagUrls ? { trafficStatuses: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }, ...opts.tagUrls.map((uri, i) => ({ tag: `t${i}`, uri }))] } : {}),
      },
    },
  };
}
export function runPolicy(name: string, ...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(runName(name), 'run.googleapis.com/Service', bindings);
}

export const fnName = (name: string): string => `//cloudfunctions.googleapis.com/projects/${PROJECT}/locations/${REGION}/functions/${name}`;

export function gen1Function(name = 'fn1', url = GEN1_URL): AssetRecord[] {
  const full = `projects/${PROJECT}/locations/${REGION}/functions/${name}`;
  return [
    rec(fnName(name), 'cloudfunctions.googleapis.com/CloudFunction', { name: full, httpsTrigger: { url } }),
    { ...rec(fnName(name), 'cloudfunctions.googleapis.com/Function', { name: full, environment: 'GEN_1', url }), resource: { version: 'v2', data: { name: full, environment: 'GEN_1', url } } },
  ];
}
export function gen2Function(name = 'fn2', url = GEN2_URL, runUri = GEN2_RUN_URL): AssetRecord {
  const full = `projects/${PROJECT}/locations/${REGION}/functions/${name}`;
  return {
    ...rec(fnName(name), 'cloudfunctions.googleapis.com/Function', {}),
    resource: {
      version: 'v2',
      data: {
        name: full,
        environment: 'GEN_2',
        url,
        serviceConfig: { service: `projects/${PROJECT}/locations/${REGION}/services/${name}`, uri: runUri },
      },
    },
  };
}
export function functionPolicy(name: string, ...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(fnName(name), 'cloudfunctions.googleapis.com/CloudFunction', bindings);
}

export interface JobSpec {
  id?: string;
  uri?: string;
  oidc?: { sa?: string; audience?: string } | false;
  oauth?: { sa?: string };
  state?: string;
  status?: { code: number | string; message?: string };
  project?: string;
  pubsubTopic?: string;
  method?: string;
  /** The HTTP body, as JSON to be base64-encoded like the REST `bytes` field, or a raw base64 string. */
  body?: Record<string, unknown> | { base64: string };
}

export function job(spec: JobSpec = {}): AssetRecord {
  const id = spec.id ?? 'job1';
  const project = spec.project ?? PROJECT;
  const name = `projects/${project}/locations/${REGION}/jobs/${id}`;
  const data: Record<string, unknown> = { name, state: spec.state ?? 'ENABLED', schedule: '0 3 * * *', timeZone: 'Etc/UTC' };
  if (spec.pubsubTopic) data.pubsubTarget = { topicName: spec.pubsubTopic };
  else {
    const http: Record<string, unknown> = { uri: spec.uri ?? `${RUN_URL}/run`, httpMethod: spec.method ?? 'POST' };
    if (spec.body) http.body = 'base64' in spec.body ? spec.body.base64 : Buffer.from(JSON.stringify(spec.body)).toString('base64');
    if (spec.oauth) http.oauthToken = { serviceAccountEmail: spec.oauth.sa ?? SA, scope: 'https://www.googleapis.com/auth/cloud-platform' };
    else if (spec.oidc !== false) {
      const oidc = spec.oidc ?? { audience: RUN_URL };
      http.oidcToken = { serviceAccountEmail: oidc.sa ?? SA, ...(oidc.audience ? { audience: oidc.audience } : {}) };
    }
    data.httpTarget = http;
  }
  if (spec.status) data.status = spec.status;
  return rec(`//cloudscheduler.googleapis.com/${name}`, 'cloudscheduler.googleapis.com/Job', data);
}

/**
 * A healthy organization: org, folder, project with the Scheduler agent bound, the invoker SA,
 * a Cloud Run service `svc` the SA may invoke, a gen1 and a gen2 function the SA may invoke.
 */
export function baseWorld(): AssetRecord[] {
  return [
    org(),
    orgPolicy(bind('roles/resourcemanager.organizationAdmin', 'group:admins@example.com')),
    folder(),
    folderPolicy(),
    project(),
    projectPolicy(...defaultProjectBindings()),
    serviceAccount(),
    runService(),
    runPolicy('svc', bind('roles/run.invoker', `serviceAccount:${SA}`)),
    ...gen1Function(),
    functionPolicy('fn1', bind('roles/cloudfunctions.invoker', `serviceAccount:${SA}`)),
    gen2Function(),
    runService({ name: 'fn2', urls: [GEN2_RUN_URL] }),
    runPolicy('fn2', bind('roles/run.invoker', `serviceAccount:${SA}`)),
  ];
}

/** Replaces records with the same (name, kind of record) and appends the rest. */
export function withRecords(base: AssetRecord[], ...overrides: AssetRecord[]): AssetRecord[] {
  const key = (r: AssetRecord): string => `${r.name}|${r.assetType}|${r.iamPolicy ? 'policy' : 'resource'}`;
  const replaced = new Map(overrides.map((r) => [key(r), r]));
  const out = base.map((r) => replaced.get(key(r)) ?? r);
  const present = new Set(base.map(key));
  return [...out, ...overrides.filter((r) => !present.has(key(r)))];
}

/** Removes records matching a predicate. */
export function without(base: AssetRecord[], drop: (r: AssetRecord) => boolean): AssetRecord[] {
  return base.filter((r) => !drop(r));
}

export const runJobName = (name = 'etl', project = PROJECT, region = REGION): string => `//run.googleapis.com/projects/${project}/locations/${region}/jobs/${name}`;
export const workflowName = (name = 'wf', project = PROJECT, region = REGION): string => `//workflows.googleapis.com/projects/${project}/locations/${region}/workflows/${name}`;

/** A Cloud Run job (v2 shape) the Admin API's :run call executes. */
export function runJob(name = 'etl', project = PROJECT): AssetRecord {
  const full = `projects/${project}/locations/${REGION}/jobs/${name}`;
  return { ...rec(runJobName(name, project), 'run.googleapis.com/Job', {}), resource: { version: 'v2', data: { name: full, launchStage: 'GA' } } };
}
export function runJobPolicy(name: string, ...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(runJobName(name), 'run.googleapis.com/Job', bindings);
}
export function workflow(name = 'wf'): AssetRecord {
  const full = `projects/${PROJECT}/locations/${REGION}/workflows/${name}`;
  return { ...rec(workflowName(name), 'workflows.googleapis.com/Workflow', {}), resource: { version: 'v1', data: { name: full, state: 'ACTIVE' } } };
}
export function workflowPolicy(name: string, ...bindings: IamBindingJson[]): AssetRecord {
  return policyRecord(workflowName(name), 'workflows.googleapis.com/Workflow', bindings);
}
