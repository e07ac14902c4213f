import type { Inventory } from './inventory.js';
import { functionUrlKey } from './inventory.js';
import type { ApiCall, ScheduledJob, Target } from './types.js';
import { parseHttpUrl } from './url.js';
import { DETERMINISTIC_RUN_HOST, splitTag } from './run-urls.js';


/** Resolves where a job's call lands, from its URI and the inventory. */
export function resolveTarget(inv: Inventory, job: ScheduledJob): Target {
  if (job.pubsubTopic !== undefined) return { kind: 'pubsub', topic: job.pubsubTopic };
  if (job.appEngine) return { kind: 'app-engine' };
  const uri = job.http!.uri;
  const url = parseHttpUrl(uri);
  if (!url) return { kind: 'invalid-uri', url: uri };
  const host = url.hostname;

  if (host.endsWith('.run.app')) {
    // A tag URL (`TAG---…`) is a URL of its service: same service, same invoke IAM (GCP-FACTS §14).
    const { tag, base } = splitTag(host);
    const gen2 = inv.gen2FunctionByRunHost(host) ?? (tag ? inv.gen2FunctionByRunHost(base) : undefined);
    let service = inv.runServiceByHost(host) ?? (tag ? inv.runServiceByHost(base) : undefined);
    if (!service) {
      const m = DETERMINISTIC_RUN_HOST.exec(base);
      if (m) service = inv.runServiceByKey(m[2]!, m[3]!, m[1]!);
    }
    const fn = gen2 ?? (service ? inv.gen2FunctionForService(service) : undefined);
    if (fn) {
      const s = service ?? inv.runServiceOf(fn);
      return s ? { kind: 'function-gen2', url: uri, fn, via: 'run-url', service: s } : { kind: 'function-gen2', url: uri, fn, via: 'run-url' };
    }
    if (service) return { kind: 'cloud-run', url: uri, service };
    return { kind: 'unknown-run', url: uri, reason: `no Cloud Run service in the inventory serves ${host}` };
  }

  if (host.endsWith('.cloudfunctions.net')) {
    const fn = inv.functionByUrl(uri);
    if (!fn) {
      return {
        kind: 'unknown-function',
        url: uri,
        reason: `no Cloud Function in the inventory serves ${functionUrlKey(uri) ?? host}`,
      };
    }
    if (fn.generation === 'GEN_1') return { kind: 'function-gen1', url: uri, fn };
    const service = inv.runServiceOf(fn);
    return service
      ? { kind: 'function-gen2', url: uri, fn, via: 'cloudfunctions-url', service }
      : { kind: 'function-gen2', url: uri, fn, via: 'cloudfunctions-url' };
  }

  if (host === 'googleapis.com' || host.endsWith('.googleapis.com')) {
    const call = apiCallOf(host, url.pathname);
    if (!call) return { kind: 'google-api', url: uri, host };
    const resource = inv.apiResource(call.kind, call.project, call.location, call.id);
    return { kind: 'google-api', url: uri, host, call: resource ? { ...call, resource } : call };
  }
  if (host.endsWith('.appspot.com')) return { kind: 'app-engine', url: uri };
  return { kind: 'external', url: uri, host };
}

/** The resource a target resolved to (`projects/P/locations/L/services/S`, a function, a topic), if any. */
export function targetResource(target: Target): string | null {
  switch (target.kind) {
    case 'cloud-run':
      return target.service.name;
    case 'function-gen1':
    case 'function-gen2':
      return target.fn.name;
    case 'pubsub':
      return target.topic;
    default:
      return null;
  }
}

const RUN_V2_PATH = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([^/:]+):run$/;
const RUN_V1_PATH = /^\/apis\/run\.googleapis\.com\/v1\/namespaces\/([^/]+)\/jobs\/([^/:]+):run$/;
const REGIONAL_RUN_HOST = /^([a-z0-9-]+)-run\.googleapis\.com$/;
const WORKFLOW_EXECUTIONS_PATH = /^\/v1(?:beta)?\/projects\/([^/]+)\/locations\/([^/]+)\/workflows\/([^/]+)\/executions$/;

/**
 * The calls Scheduler is documented to make with an OAuth token (GCP-FACTS §15): run a Cloud Run
 * job (v2 on run.googleapis.com or a regional host; v1 on `REGION-run.googleapis.com`) or create
 * a workflow execution.
 */
export function apiCallOf(host: string, pathname: string): Omit<ApiCall, 'resource'> | undefined {
  if (host === 'run.googleapis.com' || REGIONAL_RUN_HOST.test(host)) {
    const v2 = RUN_V2_PATH.exec(pathname);
    if (v2) return { kind: 'run-job', project: v2[1]!, location: v2[2]!, id: v2[3]! };
    const v1 = RUN_V1_PATH.exec(pathname);
    if (v1) {
      const region = REGIONAL_RUN_HOST.exec(host)?.[1];
      return region ? { kind: 'run-job', project: v1[1]!, location: region, id: v1[2]! } : { kind: 'run-job', project: v1[1]!, id: v1[2]! };
    }
    return undefined;
  }
  if (host === 'workflowexecutions.googleapis.com') {
    const w = WORKFLOW_EXECUTIONS_PATH.exec(pathname);
    if (w) return { kind: 'workflow', project: w[1]!, location: w[2]!, id: w[3]! };
  }
  return undefined;
}
