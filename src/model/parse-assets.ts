import type { AssetRecord, IamPolicyJson } from '../inventory/asset-record.js';
import type { ApiResource, Binding, CloudFunction, CustomRole, Policy, RunService, ScheduledJob, ServiceAccount } from './types.js';
import { relativeName } from './asset-types.js';

/** Parsing a record's data either yields a value or a reason it could not be used. */
export type Parsed<T> = { ok: true; value: T; warnings?: string[] } | { ok: false; reason: string };

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
/** Absent, null or a string: anything else in a string field is unreadable input. */
function optionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}
function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
function strList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];
}
/** Knative annotations hold JSON arrays as strings. */
function jsonStringList(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  try {
    return strList(JSON.parse(value));
  } catch {
    return [];
  }
}

const JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([^/]+)$/;
const RESOURCE_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/(?:services|functions)\/([^/]+)$/;

/** google.rpc.Code names for the codes the rules read. */
const RPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

function rpcCode(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') return RPC_CODES[value] ?? (/^\d+$/.test(value) ? Number(value) : undefined);
  return undefined;
}

export function parseJob(record: AssetRecord): Parsed<ScheduledJob> {
  const data = record.resource?.data;
  if (!data) return { ok: false, reason: 'job asset has no resource.data' };
  const name = str(data.name) ?? relativeName(record.name);
  const m = JOB_NAME.exec(name);
  if (!m) return { ok: false, reason: `job name "${name}" is not projects/P/locations/L/jobs/J` };
  const job: ScheduledJob = {
    name,
    projectId: m[1]!,
    location: m[2]!,
    jobId: m[3]!,
    state: str(data.state) ?? 'STATE_UNSPECIFIED',
    source: { assetName: record.name, origin: record.origin },
  };
  if (record.ancestors) job.ancestors = record.ancestors;
  if (record.updateTime) job.updateTime = record.updateTime;
  const http = obj(data.httpTarget);
  const pubsub = obj(data.pubsubTarget);
  const appEngine = obj(data.appEngineHttpTarget);
  if (http) {
    const uri = str(http.uri);
    if (!uri) return { ok: false, reason: `job ${name} has an HTTP target without a URI` };
    job.http = { uri };
    const method = str(http.httpMethod);
    if (method) job.http.httpMethod = method;
    // A token of the wrong type is unreadable, not "no token": reading it as absent would judge a
    // job that sends a token as one that sends none. Null too: the API and exports leave an unset
    // token out, so a null one comes from something that rewrote the record.
    for (const key of ['oidcToken', 'oauthToken'] as const) {
      const token = http[key];
      if (token !== undefined && !obj(token)) return { ok: false, reason: `job ${name}: ${key} is ${jsonType(token)}, not an object` };
    }
    // Only a Cloud Run job's :run call needs the body read (overrides need another permission).
    const body = str(http.body);
    if (body && uri.includes(':run')) {
      const overrides = runOverridesIn(body);
      if (overrides) job.http.runOverrides = overrides;
    }
    const oidc = obj(http.oidcToken);
    const oauth = obj(http.oauthToken);
    if (oidc) {
      const email = str(oidc.serviceAccountEmail);
      if (!email) return { ok: false, reason: `job ${name}: oidcToken has no serviceAccountEmail` };
      job.http.oidcToken = { serviceAccountEmail: email };
      if (!optionalString(oidc.audience)) return { ok: false, reason: `job ${name}: oidcToken.audience is ${jsonType(oidc.audience)}, not a string` };
      const audience = str(oidc.audience);
      if (audience) job.http.oidcToken.audience = audience;
    } else if (oauth) {
      const email = str(oauth.serviceAccountEmail);
      if (!email) return { ok: false, reason: `job ${name}: oauthToken has no serviceAccountEmail` };
      job.http.oauthToken = { serviceAccountEmail: email };
      if (!optionalString(oauth.scope)) return { ok: false, reason: `job ${name}: oauthToken.scope is ${jsonType(oauth.scope)}, not a string` };
      const scope = str(oauth.scope);
      if (scope) job.http.oauthToken.scope = scope;
    }
  } else if (pubsub) {
    job.pubsubTopic = str(pubsub.topicName) ?? '';
  } else if (appEngine) {
    job.appEngine = {};
    const rel = str(appEngine.relativeUri);
    if (rel) job.appEngine.relativeUri = rel;
    const service = str(obj(appEngine.appEngineRouting)?.service);
    if (service) job.appEngine.service = service;
  } else {
    return { ok: false, reason: `job ${name} has no target (httpTarget, pubsubTarget or appEngineHttpTarget)` };
  }
  const status = obj(data.status);
  const attemptTime = str(data.lastAttemptTime);
  if (attemptTime) job.lastAttemptTime = attemptTime;
  if (status) {
    const code = rpcCode(status.code);
    if (code !== undefined && code !== 0) {
      job.lastAttempt = { code };
      const message = str(status.message);
      if (message) job.lastAttempt.message = message;
      const time = str(data.lastAttemptTime);
      if (time) job.lastAttempt.time = time;
    }
  }
  return { ok: true, value: job };
}

/** Whether a base64 `RunJobRequest` body carries overrides (v1 and v2 both name the field `overrides`). */
function runOverridesIn(base64: string): 'yes' | 'unreadable' | undefined {
  try {
    const overrides = obj(obj(JSON.parse(Buffer.from(base64, 'base64').toString('utf8')))?.overrides);
    return overrides && Object.keys(overrides).length > 0 ? 'yes' : undefined;
  } catch {
    return 'unreadable';
  }
}

const API_RESOURCE_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/(jobs|workflows)\/([^/]+)$/;

/** A Cloud Run job or a workflow: what a Google API call from a Scheduler job acts on. */
export function parseApiResource(record: AssetRecord, kind: ApiResource['kind']): Parsed<ApiResource> {
  const m = API_RESOURCE_NAME.exec(relativeName(record.name)) ?? API_RESOURCE_NAME.exec(str(record.resource?.data?.name) ?? '');
  if (!m || (m[3] === 'jobs') !== (kind === 'run-job')) return { ok: false, reason: `cannot read project, location and name from ${record.name}` };
  const resource: ApiResource = {
    kind,
    name: `projects/${m[1]}/locations/${m[2]}/${m[3]}/${m[4]}`,
    project: m[1]!,
    location: m[2]!,
    id: m[4]!,
    source: { assetName: record.name, origin: record.origin },
  };
  if (record.ancestors) resource.ancestors = record.ancestors;
  return { ok: true, value: resource };
}

export function parseRunService(record: AssetRecord): Parsed<RunService> {
  const data = record.resource?.data;
  if (!data) return { ok: false, reason: 'Cloud Run service asset has no resource.data' };
  const m = RESOURCE_NAME.exec(relativeName(record.name)) ?? RESOURCE_NAME.exec(str(data.name) ?? '');
  if (!m) return { ok: false, reason: `cannot read project, region and name from ${record.name}` };
  const service: RunService = {
    name: `projects/${m[1]}/locations/${m[2]}/services/${m[3]}`,
    project: m[1]!,
    region: m[2]!,
    serviceName: m[3]!,
    urls: [],
    customAudiences: [],
    invokerIamDisabled: false,
    source: { assetName: record.name, origin: record.origin },
  };
  if (record.ancestors) service.ancestors = record.ancestors;
  const metadata = obj(data.metadata);
  const knative = record.resource?.version === 'v1' || (metadata !== undefined && data.uri === undefined);
  if (knative) {
    const annotations = obj(metadata?.annotations) ?? {};
    const status = obj(data.status);
    const urls = [...jsonStringList(annotations['run.googleapis.com/urls'])];
    const statusUrl = str(status?.url) ?? str(obj(status?.address)?.url);
    if (statusUrl) urls.unshift(statusUrl);
    service.urls = [...new Set(urls)];
    service.customAudiences = jsonStringList(annotations['run.googleapis.com/custom-audiences']);
    service.invokerIamDisabled = String(annotations['run.googleapis.com/invoker-iam-disabled']) === 'true';
    if (String(annotations['run.googleapis.com/default-url-disabled']) === 'true') service.defaultUriDisabled = true;
    addTagUrls(service, Array.isArray(status?.traffic) ? status.traffic.map((t) => obj(t)?.url) : []);
    const ingress = str(annotations['run.googleapis.com/ingress']);
    if (ingress) service.ingress = ingress;
  } else {
    const urls = strList(data.urls);
    const uri = str(data.uri);
    if (uri) urls.unshift(uri);
    service.urls = [...new Set(urls)];
    service.customAudiences = strList(data.customAudiences);
    service.invokerIamDisabled = data.invokerIamDisabled === true;
    if (data.defaultUriDisabled === true) service.defaultUriDisabled = true;
    addTagUrls(service, Array.isArray(data.trafficStatuses) ? data.trafficStatuses.map((t) => obj(t)?.uri) : []);
    const ingress = str(data.ingress);
    if (ingress) service.ingress = ingress;
  }
  return { ok: true, value: service };
}

/** Traffic entries carry a URL only when tagged; the service's own URLs are not tag URLs. */
function addTagUrls(service: RunService, candidates: unknown[]): void {
  const tags = [...new Set(strList(candidates))].filter((u) => !service.urls.includes(u));
  if (tags.length > 0) service.tagUrls = tags;
}

export function parseFunction(record: AssetRecord, api: 'v1' | 'v2'): Parsed<CloudFunction> {
  const data = record.resource?.data;
  if (!data) return { ok: false, reason: 'function asset has no resource.data' };
  const m = RESOURCE_NAME.exec(str(data.name) ?? '') ?? RESOURCE_NAME.exec(relativeName(record.name));
  if (!m) return { ok: false, reason: `cannot read project, region and name from ${record.name}` };
  const fn: CloudFunction = {
    name: `projects/${m[1]}/locations/${m[2]}/functions/${m[3]}`,
    project: m[1]!,
    region: m[2]!,
    functionName: m[3]!,
    generation: 'GEN_1',
    source: { assetName: record.name, origin: record.origin },
  };
  if (record.ancestors) fn.ancestors = record.ancestors;
  if (api === 'v1') {
    const url = str(obj(data.httpsTrigger)?.url);
    if (url) fn.url = url;
    const ingress = str(data.ingressSettings);
    if (ingress) fn.ingress = ingress;
    return { ok: true, value: fn };
  }
  const serviceConfig = obj(data.serviceConfig);
  const environment = str(data.environment);
  fn.generation =
    environment === 'GEN_1' ? 'GEN_1' : environment === 'GEN_2' || str(serviceConfig?.service) ? 'GEN_2' : 'GEN_1';
  const url = str(data.url);
  if (url) fn.url = url;
  if (fn.generation === 'GEN_2') {
    const runUri = str(serviceConfig?.uri);
    if (runUri) fn.runUri = runUri;
    const service = str(serviceConfig?.service);
    if (service) fn.runServiceName = service;
  }
  const ingress = str(serviceConfig?.ingressSettings);
  if (ingress) fn.ingress = ingress;
  return { ok: true, value: fn };
}

export function parseServiceAccount(record: AssetRecord): Parsed<ServiceAccount> {
  const data = record.resource?.data;
  const email = str(data?.email);
  if (!data || !email) return { ok: false, reason: 'service account asset has no email' };
  const sa: ServiceAccount = {
    email: email.toLowerCase(),
    disabled: data.disabled === true,
    source: { assetName: record.name, origin: record.origin },
  };
  // Older exports may omit data.projectId; the asset name carries the project too.
  const projectId = str(data.projectId) ?? /^\/\/iam\.googleapis\.com\/projects\/([^/]+)\//.exec(record.name)?.[1];
  if (projectId) sa.projectId = projectId;
  return { ok: true, value: sa };
}

export function parseCustomRole(record: AssetRecord): Parsed<CustomRole> {
  const data = record.resource?.data;
  if (!data) return { ok: false, reason: 'role asset has no resource.data' };
  const name = str(data.name) ?? relativeName(record.name);
  if (!/^(projects|organizations)\/[^/]+\/roles\/[^/]+$/.test(name)) {
    return { ok: false, reason: `role name "${name}" is not a custom role name` };
  }
  const role: CustomRole = { name, permissions: new Set(strList(data.includedPermissions)), deleted: data.deleted === true };
  const stage = str(data.stage);
  if (stage) role.stage = stage;
  return { ok: true, value: role };
}

/** Reads an IAM policy; malformed bindings are dropped and named, the rest kept. */
export function parsePolicy(policy: IamPolicyJson, origin: string, assetName: string): Parsed<Policy> {
  const warnings: string[] = [];
  const bindings: Binding[] = [];
  const raw = (policy as { bindings?: unknown }).bindings;
  if (raw !== undefined && !Array.isArray(raw)) {
    return { ok: false, reason: `IAM policy of ${assetName}: "bindings" is not a list` };
  }
  for (const [i, b] of (raw ?? []).entries()) {
    const binding = obj(b);
    const role = str(binding?.role);
    const members = binding?.members;
    if (!binding || !role || !Array.isArray(members) || !members.every((x) => typeof x === 'string')) {
      warnings.push(`IAM policy of ${assetName}: binding ${i} is malformed (needs a role and a list of members); skipped`);
      continue;
    }
    // A condition that is not an object still restricts the grant in some way the scanner cannot
    // read: taken as no condition, it would turn a conditional grant into an unconditional one.
    const rawCondition = binding.condition;
    const condition = obj(rawCondition);
    if (rawCondition !== undefined && rawCondition !== null && !condition) {
      warnings.push(`IAM policy of ${assetName}: binding ${i} has a condition that is ${jsonType(rawCondition)}, not an object; skipped`);
      continue;
    }
    const out: Binding = { role, members: members as string[] };
    if (condition) out.condition = str(condition.title) ?? str(condition.expression) ?? 'condition';
    bindings.push(out);
  }
  return { ok: true, value: { bindings, origin, skippedBindings: warnings.length }, warnings };
}
