import type { RunService } from './types.js';

/**
 * Cloud Run's default URLs (GCP-FACTS §14; Cloud Run "Invoke with an HTTPS request"): every
 * service has a hash URL, and, when its DNS label `[TAG---]SERVICE-PROJECT_NUMBER` is at most 63
 * characters and its default URL is not disabled, the deterministic URL
 * `https://[TAG---]SERVICE-PROJECT_NUMBER.REGION.run.app`. Older v1 records list only the hash URL.
 */
export const MAX_DNS_LABEL = 63;

/** `TAG---rest.run.app` → tag and the service's own host; a host without a tag is its own base. */
export function splitTag(host: string): { tag?: string; base: string } {
  const dot = host.indexOf('.');
  const sep = host.indexOf('---');
  if (sep <= 0 || (dot !== -1 && sep > dot)) return { base: host };
  return { tag: host.slice(0, sep), base: host.slice(sep + 3) };
}

/** `SERVICE-NUMBER.REGION.run.app`: names its service, project number and region by itself. */
export const DETERMINISTIC_RUN_HOST = /^(.+)-(\d+)\.([a-z0-9-]+)\.run\.app$/;

export type DeterministicUrl =
  | { state: 'assigned'; url: string }
  /** The record shows the service does not have it. */
  | { state: 'not-assigned'; url?: string; reason: string }
  /** The record cannot show whether the service has it. */
  | { state: 'unknown'; reason: string };

/** The service's deterministic URL, as far as the record shows. */
export function deterministicRunUrl(service: RunService, projectNumber: string | undefined): DeterministicUrl {
  if (service.defaultUriDisabled) return { state: 'not-assigned', reason: `the default run.app URLs of ${service.name} are disabled (defaultUriDisabled)` };
  if (!projectNumber) return { state: 'unknown', reason: `the project number of ${service.project} is not in the inventory` };
  const label = `${service.serviceName}-${projectNumber}`;
  const url = `https://${label}.${service.region}.run.app`;
  if (label.length > MAX_DNS_LABEL) {
    return { state: 'not-assigned', url, reason: `its DNS label ${label} is ${label.length} characters, longer than the ${MAX_DNS_LABEL} the deterministic URL allows` };
  }
  // A record with no URL at all is too thin to show that the default URL is not disabled.
  if (service.urls.length === 0) return { state: 'unknown', reason: `the record of ${service.name} lists no URL, so whether its default URL is disabled cannot be told` };
  return { state: 'assigned', url };
}

/** Whether `host` (tag stripped) has the deterministic form of `service` in any project number, and which number. */
export function deterministicFormNumber(host: string, service: RunService): string | undefined {
  const m = DETERMINISTIC_RUN_HOST.exec(splitTag(host).base);
  return m && m[1] === service.serviceName && m[3] === service.region ? m[2] : undefined;
}
