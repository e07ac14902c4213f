/** The typed model the rules read. Built once from AssetRecords by `buildInventory`. */

export interface SourceRef {
  /** CAI asset name, e.g. `//run.googleapis.com/projects/p/locations/l/services/s`. */
  assetName: string;
  origin: string;
}

export interface OidcToken {
  serviceAccountEmail: string;
  audience?: string;
}

export interface OAuthToken {
  serviceAccountEmail: string;
  scope?: string;
}

export interface HttpTargetConfig {
  uri: string;
  httpMethod?: string;
  /** A Cloud Run job `:run` call whose body carries `overrides` ('yes'), or whose body could not be read. */
  runOverrides?: 'yes' | 'unreadable';
  oidcToken?: OidcToken;
  oauthToken?: OAuthToken;
}

export interface ScheduledJob {
  /** `projects/{projectId}/locations/{location}/jobs/{jobId}` */
  name: string;
  projectId: string;
  location: string;
  jobId: string;
  state: string;
  http?: HttpTargetConfig;
  pubsubTopic?: string;
  appEngine?: { relativeUri?: string; service?: string };
  /** The last attempt's google.rpc.Status, when the inventory has it. */
  lastAttempt?: { code: number; message?: string; time?: string };
  /** When the last attempt started (`Job.lastAttemptTime`), whatever its outcome. */
  lastAttemptTime?: string;
  /** Refused attempts in the execution logs, when they were read for the job's project (`--attempts-window`). */
  attempts?: AttemptHistory;
  ancestors?: string[];
  /** The record's `update_time`, which decides between duplicate records of one job. */
  updateTime?: string;
  source: SourceRef;
}

/** What the job's execution logs say about refused attempts over a window (src/evidence/attempts). */
export interface AttemptHistory {
  /** The window read, e.g. `7d`, and where it starts (RFC 3339). */
  window: string;
  since: string;
  /** Attempts that ended 401 / UNAUTHENTICATED and 403 / PERMISSION_DENIED. */
  unauthenticated: number;
  permissionDenied: number;
  /** Log timestamps of the first and last refused attempt in the window. */
  firstFailureTime?: string;
  lastFailureTime?: string;
  /** The HTTP code or status name of the last refused attempt. */
  lastFailure?: string;
}

export interface RunService {
  /** `projects/{project}/locations/{region}/services/{name}`, project as the asset names it. */
  name: string;
  project: string;
  region: string;
  serviceName: string;
  urls: string[];
  customAudiences: string[];
  invokerIamDisabled: boolean;
  /** v2 `defaultUriDisabled`, v1 annotation `run.googleapis.com/default-url-disabled`: no run.app URL. */
  defaultUriDisabled?: boolean;
  /** Traffic tag URLs (v2 `trafficStatuses[].uri`, v1 `status.traffic[].url`): same service, same IAM. */
  tagUrls?: string[];
  ingress?: string;
  ancestors?: string[];
  source: SourceRef;
}

/** A resource a Google API call acts on: a Cloud Run job or a workflow. */
export interface ApiResource {
  kind: 'run-job' | 'workflow';
  /** `projects/{project}/locations/{location}/jobs/{id}` or `…/workflows/{id}`, project as the asset names it. */
  name: string;
  project: string;
  location: string;
  id: string;
  ancestors?: string[];
  source: SourceRef;
}

/** A Google API call the scanner knows the permission of, read from the job's URI. */
export interface ApiCall {
  kind: 'run-job' | 'workflow';
  project: string;
  /** Undefined when the URI does not name it (the v1 Run API on the global host). */
  location?: string;
  id: string;
  /** The resource, when the inventory holds it. */
  resource?: ApiResource;
}

export type FunctionGeneration = 'GEN_1' | 'GEN_2';

export interface CloudFunction {
  /** `projects/{project}/locations/{region}/functions/{name}` */
  name: string;
  project: string;
  region: string;
  functionName: string;
  generation: FunctionGeneration;
  /** The cloudfunctions.net URL (gen1 `httpsTrigger.url`, v2 `url`). */
  url?: string;
  /** gen2: the Run URL (`serviceConfig.uri`) and underlying service name. */
  runUri?: string;
  runServiceName?: string;
  ingress?: string;
  ancestors?: string[];
  source: SourceRef;
}

export interface ServiceAccount {
  email: string;
  projectId?: string;
  disabled: boolean;
  source: SourceRef;
}

export interface CustomRole {
  name: string;
  permissions: ReadonlySet<string>;
  deleted: boolean;
  /** RoleLaunchStage (`GA`, `BETA`, `DISABLED`, …); a DISABLED role grants nothing. */
  stage?: string;
}

export interface Binding {
  role: string;
  members: string[];
  condition?: string;
}

export interface Policy {
  bindings: Binding[];
  origin: string;
  /** Malformed bindings dropped while reading: a denial read from this policy is unconfirmed. */
  skippedBindings: number;
}

export interface ProjectInfo {
  number: string;
  id?: string;
  ancestors?: string[];
}

/** Where a job's HTTP call lands. */
export type Target =
  | { kind: 'cloud-run'; url: string; service: RunService }
  | { kind: 'function-gen1'; url: string; fn: CloudFunction }
  | {
      kind: 'function-gen2';
      url: string;
      fn: CloudFunction;
      /** Which URL the job calls: the cloudfunctions.net one or the Run one. */
      via: 'cloudfunctions-url' | 'run-url';
      service?: RunService;
    }
  | { kind: 'unknown-run'; url: string; reason: string }
  | { kind: 'unknown-function'; url: string; reason: string }
  | { kind: 'google-api'; url: string; host: string; call?: ApiCall }
  | { kind: 'app-engine'; url?: string }
  | { kind: 'pubsub'; topic: string }
  | { kind: 'external'; url: string; host: string }
  | { kind: 'invalid-uri'; url: string };

export type TargetKind = Target['kind'];

/** Targets that verify a Google-signed OIDC token through IAM: the scanner's core concern. */
export const SERVERLESS_TARGET_KINDS: readonly TargetKind[] = [
  'cloud-run',
  'function-gen1',
  'function-gen2',
  'unknown-run',
  'unknown-function',
];
