import type { Inventory } from './inventory.js';
import { functionUrlKey } from './inventory.js';
import type { ScheduledJob, Target } from './types.js';
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

  if (host === 'googleapis.com' || host.endsWith('.googleapis.com')) return { kind: 'google-api', url: uri, host };
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
