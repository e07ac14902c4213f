/**
 * Builders of realistic Cloud Asset Inventory records for the synthetic organization: the
 * envelope (camelCase, as the API and `gcloud asset list` give it) and each type's
 * `resource.data` in the service's REST shape (GCP-FACTS §1, §2, §11).
 */

export interface AssetResource {
  version: string;
  discoveryDocumentUri: string;
  discoveryName: string;
  /** Absent on the organization. */
  parent?: string;
  location?: string;
  data: Record<string, unknown>;
}

export interface IamBinding {
  role: string;
  members: string[];
}

/** One CAI Asset: either a RESOURCE record or an IAM_POLICY record, never both (as in exports). */
export interface SyntheticAsset {
  name: string;
  assetType: string;
  resource?: AssetResource;
  iamPolicy?: { version: number; etag: string; bindings: IamBinding[] };
  ancestors: string[];
  updateTime: string;
}

/** A deterministic pseudo-random source (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** `[a-z0-9]{n}`, like the hash in `SERVICE-HASH-REGION.a.run.app`. */
  token(n: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

/** Regions with the short codes Cloud Run puts in its hash URLs. */
export const REGIONS: readonly { name: string; code: string }[] = [
  { name: 'europe-west1', code: 'ew' },
  { name: 'us-central1', code: 'uc' },
  { name: 'us-east1', code: 'ue' },
  { name: 'europe-west3', code: 'ey' },
  { name: 'asia-northeast1', code: 'an' },
  { name: 'us-west1', code: 'uw' },
  { name: 'europe-north1', code: 'lz' },
  { name: 'australia-southeast1', code: 'ts' },
];

export const WORDS = ['billing', 'report', 'sync', 'export', 'cleanup', 'notify', 'ingest', 'backup', 'reconcile', 'digest', 'rollup', 'audit'];
export const ENVS = ['prod', 'stg', 'dev', 'qa'];
export const DOMAIN = 'acme.example';

const CRM = '//cloudresourcemanager.googleapis.com';

export function isoTime(base: number, offsetSeconds: number): string {
  return new Date(base + offsetSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

export function discovery(service: string, version: string, name: string): Pick<AssetResource, 'version' | 'discoveryDocumentUri' | 'discoveryName'> {
  return { version, discoveryDocumentUri: `https://${service}/$discovery/rest?version=${version}`, discoveryName: name };
}

export function organizationAsset(org: string, time: string): SyntheticAsset {
  return {
    name: `${CRM}/organizations/${org}`,
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    resource: {
      ...discovery('cloudresourcemanager.googleapis.com', 'v1', 'Organization'),
      data: {
        name: `organizations/${org}`,
        displayName: DOMAIN,
        lifecycleState: 'ACTIVE',
        creationTime: '2016-03-01T09:12:44.913Z',
        owner: { directoryCustomerId: 'C01abcd23' },
      },
    },
    ancestors: [`organizations/${org}`],
    updateTime: time,
  };
}

export function folderAsset(folder: string, parent: string, displayName: string, ancestors: string[], time: string): SyntheticAsset {
  return {
    name: `${CRM}/folders/${folder}`,
    assetType: 'cloudresourcemanager.googleapis.com/Folder',
    resource: {
      ...discovery('cloudresourcemanager.googleapis.com', 'v2', 'Folder'),
      parent: `${CRM}/${parent}`,
      data: { name: `folders/${folder}`, parent, displayName, lifecycleState: 'ACTIVE', createTime: '2018-06-11T08:00:00.000Z' },
    },
    ancestors,
    updateTime: time,
  };
}

export function projectAsset(p: { id: string; number: string; parent: string; ancestors: string[]; env: string }, time: string): SyntheticAsset {
  const [type, id] = p.parent.split('/') as [string, string];
  return {
    name: `${CRM}/projects/${p.number}`,
    assetType: 'cloudresourcemanager.googleapis.com/Project',
    resource: {
      ...discovery('cloudresourcemanager.googleapis.com', 'v1', 'Project'),
      parent: `${CRM}/${p.parent}`,
      data: {
        projectNumber: p.number,
        projectId: p.id,
        lifecycleState: 'ACTIVE',
        name: p.id,
        createTime: '2019-02-14T10:21:07.120Z',
        labels: { env: p.env, 'cost-center': `cc-${Number(p.number) % 97}` },
        parent: { type: type === 'folders' ? 'folder' : 'organization', id },
      },
    },
    ancestors: p.ancestors,
    updateTime: time,
  };
}

export function policyAsset(name: string, assetType: string, bindings: IamBinding[], ancestors: string[], time: string, etag: string): SyntheticAsset {
  return { name, assetType, iamPolicy: { version: 1, etag, bindings }, ancestors, updateTime: time };
}

export function serviceAccountAsset(
  sa: { email: string; projectId: string; projectNumber: string; uniqueId: string; displayName: string; disabled?: boolean },
  ancestors: string[],
  time: string,
): SyntheticAsset {
  const data: Record<string, unknown> = {
    name: `projects/${sa.projectId}/serviceAccounts/${sa.email}`,
    projectId: sa.projectId,
    uniqueId: sa.uniqueId,
    email: sa.email,
    displayName: sa.displayName,
    etag: 'MDEwMjE5MjA=',
    oauth2ClientId: sa.uniqueId,
  };
  if (sa.disabled) data.disabled = true;
  return {
    name: `//iam.googleapis.com/projects/${sa.projectId}/serviceAccounts/${sa.uniqueId}`,
    assetType: 'iam.googleapis.com/ServiceAccount',
    resource: { ...discovery('iam.googleapis.com', 'v1', 'ServiceAccount'), parent: `${CRM}/projects/${sa.projectNumber}`, data },
    ancestors,
    updateTime: time,
  };
}

export function customRoleAsset(name: string, title: string, permissions: string[], parent: string, ancestors: string[], time: string): SyntheticAsset {
  return {
    name: `//iam.googleapis.com/${name}`,
    assetType: 'iam.googleapis.com/Role',
    resource: {
      ...discovery('iam.googleapis.com', 'v1', 'Role'),
      parent: `${CRM}/${parent}`,
      data: { name, title, description: `${title} (synthetic)`, includedPermissions: permissions, stage: 'GA', etag: 'BwYtZ0Y1Ufs=' },
    },
    ancestors,
    updateTime: time,
  };
}

export interface RunServiceSpec {
  projectId: string;
  projectNumber: string;
  region: string;
  name: string;
  hashUrl: string;
  deterministicUrl: string;
  customAudiences: string[];
  invokerIamDisabled: boolean;
  runtimeServiceAccount: string;
  /** Set for the Run service under a 2nd gen function. */
  managedByFunction?: string;
}

export function runServiceAsset(s: RunServiceSpec, shape: 'v1' | 'v2', ancestors: string[], time: string, uid: string): SyntheticAsset {
  const name = `projects/${s.projectId}/locations/${s.region}/services/${s.name}`;
  const image = `${s.region.split('-')[0]}-docker.pkg.dev/${s.projectId}/apps/${s.name}@sha256:${uid.replace(/-/g, '').padEnd(64, '0')}`;
  const labels: Record<string, string> = s.managedByFunction
    ? { 'goog-managed-by': 'cloudfunctions', 'goog-cloudfunctions-runtime': 'nodejs22' }
    : { team: s.name.split('-')[0]!, 'managed-by': 'terraform' };
  let data: Record<string, unknown>;
  if (shape === 'v1') {
    const annotations: Record<string, string> = {
      'run.googleapis.com/ingress': 'all',
      'run.googleapis.com/ingress-status': 'all',
      'run.googleapis.com/urls': JSON.stringify([s.deterministicUrl, s.hashUrl]),
      'serving.knative.dev/creator': `deployer@${s.projectId}.iam.gserviceaccount.com`,
      'serving.knative.dev/lastModifier': `deployer@${s.projectId}.iam.gserviceaccount.com`,
      'run.googleapis.com/operation-id': uid,
    };
    if (s.customAudiences.length > 0) annotations['run.googleapis.com/custom-audiences'] = JSON.stringify(s.customAudiences);
    if (s.invokerIamDisabled) annotations['run.googleapis.com/invoker-iam-disabled'] = 'true';
    data = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: {
        name: s.name,
        namespace: s.projectNumber,
        selfLink: `/apis/serving.knative.dev/v1/namespaces/${s.projectNumber}/services/${s.name}`,
        uid,
        resourceVersion: 'AAYaQk1tB2Y',
        generation: 4,
        creationTimestamp: '2025-11-03T14:02:51.114Z',
        labels: { ...labels, 'cloud.googleapis.com/location': s.region },
        annotations,
      },
      spec: {
        template: {
          metadata: { annotations: { 'autoscaling.knative.dev/maxScale': '20', 'run.googleapis.com/startup-cpu-boost': 'true' } },
          spec: {
            containerConcurrency: 80,
            timeoutSeconds: 300,
            serviceAccountName: s.runtimeServiceAccount,
            containers: [{ image, ports: [{ name: 'http1', containerPort: 8080 }], resources: { limits: { cpu: '1000m', memory: '512Mi' } } }],
          },
        },
        traffic: [{ percent: 100, latestRevision: true }],
      },
      status: {
        observedGeneration: 4,
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: '2026-04-02T09:00:00.000Z' },
          { type: 'ConfigurationsReady', status: 'True', lastTransitionTime: '2026-04-02T09:00:00.000Z' },
          { type: 'RoutesReady', status: 'True', lastTransitionTime: '2026-04-02T09:00:00.000Z' },
        ],
        latestReadyRevisionName: `${s.name}-00004-xyz`,
        latestCreatedRevisionName: `${s.name}-00004-xyz`,
        traffic: [{ revisionName: `${s.name}-00004-xyz`, percent: 100, latestRevision: true }],
        url: s.hashUrl,
        address: { url: s.hashUrl },
      },
    };
  } else {
    data = {
      name,
      uid,
      generation: '4',
      labels,
      createTime: '2025-11-03T14:02:51.114Z',
      updateTime: '2026-04-02T09:00:00.000Z',
      creator: `deployer@${s.projectId}.iam.gserviceaccount.com`,
      lastModifier: `deployer@${s.projectId}.iam.gserviceaccount.com`,
      ingress: 'INGRESS_TRAFFIC_ALL',
      launchStage: 'GA',
      template: {
        scaling: { maxInstanceCount: 20 },
        timeout: '300s',
        serviceAccount: s.runtimeServiceAccount,
        containers: [{ image, ports: [{ name: 'http1', containerPort: 8080 }], resources: { limits: { cpu: '1', memory: '512Mi' }, cpuIdle: true } }],
        maxInstanceRequestConcurrency: 80,
      },
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
      observedGeneration: '4',
      terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED', lastTransitionTime: '2026-04-02T09:00:00.000Z' },
      latestReadyRevision: `${name}/revisions/${s.name}-00004-xyz`,
      latestCreatedRevision: `${name}/revisions/${s.name}-00004-xyz`,
      trafficStatuses: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
      uri: s.hashUrl,
      urls: [s.deterministicUrl, s.hashUrl],
      etag: `"${uid.slice(0, 12)}"`,
    };
    if (s.customAudiences.length > 0) data.customAudiences = s.customAudiences;
    if (s.invokerIamDisabled) data.invokerIamDisabled = true;
  }
  return {
    name: `//run.googleapis.com/${name}`,
    assetType: 'run.googleapis.com/Service',
    resource: { ...discovery('run.googleapis.com', shape, 'Service'), parent: `${CRM}/projects/${s.projectNumber}`, location: s.region, data },
    ancestors,
    updateTime: time,
  };
}

export interface FunctionSpec {
  projectId: string;
  projectNumber: string;
  region: string;
  name: string;
  url: string;
  runtimeServiceAccount: string;
  /** 2nd gen only: the underlying Run service's name and URL. */
  run?: { service: string; uri: string };
}

/** A 1st gen function as the v1 API describes it (`cloudfunctions.googleapis.com/CloudFunction`). */
export function functionV1Asset(f: FunctionSpec, ancestors: string[], time: string): SyntheticAsset {
  const name = `projects/${f.projectId}/locations/${f.region}/functions/${f.name}`;
  return {
    name: `//cloudfunctions.googleapis.com/${name}`,
    assetType: 'cloudfunctions.googleapis.com/CloudFunction',
    resource: {
      ...discovery('cloudfunctions.googleapis.com', 'v1', 'CloudFunction'),
      parent: `${CRM}/projects/${f.projectNumber}`,
      location: f.region,
      data: {
        name,
        httpsTrigger: { url: f.url, securityLevel: 'SECURE_ALWAYS' },
        status: 'ACTIVE',
        entryPoint: 'handler',
        timeout: '60s',
        availableMemoryMb: 256,
        serviceAccountEmail: f.runtimeServiceAccount,
        updateTime: '2026-03-12T11:30:00.000Z',
        versionId: '7',
        labels: { 'deployment-tool': 'cli-gcloud' },
        sourceUploadUrl: '',
        runtime: 'nodejs20',
        ingressSettings: 'ALLOW_ALL',
        buildId: '1f0c6f1e-0000-4a5b-9c1d-2e3f4a5b6c7d',
        dockerRegistry: 'ARTIFACT_REGISTRY',
      },
    },
    ancestors,
    updateTime: time,
  };
}

/** Any function as the v2 API describes it (`cloudfunctions.googleapis.com/Function`): 1st gen and 2nd gen. */
export function functionV2Asset(f: FunctionSpec, ancestors: string[], time: string): SyntheticAsset {
  const name = `projects/${f.projectId}/locations/${f.region}/functions/${f.name}`;
  const serviceConfig: Record<string, unknown> = {
    timeoutSeconds: 60,
    availableMemory: '256M',
    serviceAccountEmail: f.runtimeServiceAccount,
    ingressSettings: 'ALLOW_ALL',
  };
  if (f.run) {
    serviceConfig.service = f.run.service;
    serviceConfig.uri = f.run.uri;
    serviceConfig.maxInstanceCount = 100;
    serviceConfig.availableCpu = '0.1666';
    serviceConfig.allTrafficOnLatestRevision = true;
    serviceConfig.revision = `${f.name}-00003-abc`;
  }
  return {
    name: `//cloudfunctions.googleapis.com/${name}`,
    assetType: 'cloudfunctions.googleapis.com/Function',
    resource: {
      ...discovery('cloudfunctions.googleapis.com', 'v2', 'Function'),
      parent: `${CRM}/projects/${f.projectNumber}`,
      location: f.region,
      data: {
        name,
        environment: f.run ? 'GEN_2' : 'GEN_1',
        url: f.url,
        state: 'ACTIVE',
        updateTime: '2026-03-12T11:30:00.000Z',
        buildConfig: { runtime: f.run ? 'nodejs22' : 'nodejs20', entryPoint: 'handler', dockerRepository: `projects/${f.projectId}/locations/${f.region}/repositories/gcf-artifacts` },
        serviceConfig,
        labels: { 'deployment-tool': 'cli-gcloud' },
      },
    },
    ancestors,
    updateTime: time,
  };
}

const EXPORT_ENVELOPE: Record<string, string> = { assetType: 'asset_type', iamPolicy: 'iam_policy', updateTime: 'update_time' };
const EXPORT_RESOURCE: Record<string, string> = { discoveryDocumentUri: 'discovery_document_uri', discoveryName: 'discovery_name' };

/** The asset as one `gcloud asset export` line: snake_case envelope keys, data untouched. */
export function exportLine(asset: SyntheticAsset): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(asset)) {
    if (k === 'resource' && v) {
      const res: Record<string, unknown> = {};
      for (const [rk, rv] of Object.entries(v as AssetResource)) res[EXPORT_RESOURCE[rk] ?? rk] = rv;
      out.resource = res;
    } else out[EXPORT_ENVELOPE[k] ?? k] = v;
  }
  return JSON.stringify(out);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

/** The asset as one element of `gcloud asset list --format=json`: keys sorted, indented two levels. */
export function listElement(asset: SyntheticAsset): string {
  return '  ' + JSON.stringify(sortKeys(asset), null, 2).replace(/\n/g, '\n  ');
}
