import type { Inventory } from '../model/inventory.js';
import { publicGrants } from '../model/iam.js';
import type { OAuthToken, OidcToken, ScheduledJob, Target } from '../model/types.js';
import { targetResource } from '../model/targets.js';
import { parseHttpUrl } from '../model/url.js';
import { isDefaultComputeServiceAccount, serviceAccountProjectFromEmail } from '../model/service-account-project.js';

/** The token a job sends, if any. */
export function tokenOf(job: ScheduledJob): { type: 'oidc'; token: OidcToken } | { type: 'oauth'; token: OAuthToken } | undefined {
  if (job.http?.oidcToken) return { type: 'oidc', token: job.http.oidcToken };
  if (job.http?.oauthToken) return { type: 'oauth', token: job.http.oauthToken };
  return undefined;
}

/** The audience Scheduler puts in the token: the configured one, else the job's full URI (GCP-FACTS §1). */
export function effectiveAudience(job: ScheduledJob): { audience: string; explicit: boolean } | undefined {
  const oidc = job.http?.oidcToken;
  if (!oidc) return undefined;
  return oidc.audience ? { audience: oidc.audience, explicit: true } : { audience: job.http!.uri, explicit: false };
}

/** Lower-cased scheme and host, trailing slashes dropped: the forms Cloud Run treats as one URL. */
export function normalizeUrl(url: string): string {
  const u = parseHttpUrl(url);
  if (!u) return url.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}${u.hash}`;
}

/** Splits a URL into its origin and the rest (path, query, fragment), normalised. */
export function splitUrl(url: string): { origin: string; rest: string } | undefined {
  const u = parseHttpUrl(url);
  if (!u) return undefined;
  return { origin: `${u.protocol}//${u.host}`, rest: `${u.pathname.replace(/\/+$/, '')}${u.search}${u.hash}` };
}

/** Why a target is reachable without any token, or undefined when it is not known to be. */
export function publicAccess(inv: Inventory, target: Target): string | undefined {
  const service = target.kind === 'cloud-run' ? target.service : target.kind === 'function-gen2' ? target.service : undefined;
  if (service) {
    if (service.invokerIamDisabled) return `Cloud Run invoker IAM check is disabled on ${service.name}`;
    const grants = publicGrants(inv, service.source.assetName, 'run.routes.invoke');
    if (grants[0]) return `${grants[0].member} holds ${grants[0].role} on ${service.name}`;
  }
  if (target.kind === 'function-gen1') {
    const grants = publicGrants(inv, target.fn.source.assetName, 'cloudfunctions.functions.invoke');
    if (grants[0]) return `${grants[0].member} holds ${grants[0].role} on ${target.fn.name}`;
  }
  return undefined;
}

/** The project id that owns a service account, read from its email; undefined for Google-managed accounts. */
export function serviceAccountProject(inv: Inventory, email: string): string | undefined {
  const ref = serviceAccountProjectFromEmail(email);
  if (!ref) return undefined;
  return 'projectId' in ref ? ref.projectId : inv.projectId(ref.projectNumber);
}

export { isDefaultComputeServiceAccount };

/** google.rpc.Code names for the codes a last attempt can end with. */
export const RPC_CODE_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/** How a message names a target: its resource name when known, else its URL. */
export function targetLabel(target: Target): string {
  return targetResource(target) ?? ('url' in target && target.url ? target.url : 'App Engine');
}
