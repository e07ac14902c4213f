import type { RunService, Target } from '../model/types.js';
import { normalizeUrl, splitUrl } from './predicates.js';
import { parseHttpUrl } from '../model/url.js';

/** URL comparisons for audiences: which forms of a target's URL a token's `aud` may take. */

export function sameUrl(a: string, b: string): boolean {
  return normalizeUrl(a) === normalizeUrl(b);
}

/** Whether `audience` is `url` plus a path, query or fragment. */
export function extendsUrl(url: string, audience: string): boolean {
  const base = normalizeUrl(url);
  const a = normalizeUrl(audience);
  return a.length > base.length && a.startsWith(base) && '/?#'.includes(a[base.length]!);
}

/**
 * The service's URLs plus the run.app origin the job calls. A service is resolved by a host its
 * URLs do not list only through its deterministic URL, which older v1 records (only `status.url`)
 * leave out; with no URL at all the inventory is too thin to add it.
 */
export function withCalledUrl(urls: readonly string[], called: string): string[] {
  const origin = splitUrl(called)?.origin;
  if (!origin || urls.length === 0 || urls.some((u) => splitUrl(u)?.origin === origin)) return [...urls];
  return [...urls, origin];
}

/** The audience is, letter for letter, one of the service's URLs or custom audiences. */
export function listedExactly(audience: string, urls: readonly string[], service: RunService): boolean {
  return urls.includes(audience) || service.customAudiences.includes(audience);
}

export function acceptedAudiences(urls: string[], service: RunService): string[] {
  return [...new Set([...urls, ...service.customAudiences])];
}

/** `https://REGION-PROJECT.cloudfunctions.net/NAME` from a job URI that may add a path or query. */
export function functionUrlFromJobUri(uri: string): string | undefined {
  const u = parseHttpUrl(uri);
  const first = u?.pathname.split('/').filter(Boolean)[0];
  return u && first ? `${u.protocol}//${u.host}/${first}` : undefined;
}

/**
 * The audience a fixer sets: the target's own URL, without path or query. Cloud Run and 2nd gen
 * functions: the run.app URL the job calls when the service lists it, else the service's first
 * URL (GCP-FACTS §3, §14: every listed URL is accepted); 1st gen: the full function URL (§10).
 * Undefined when the inventory does not show one.
 */
export function canonicalAudience(target: Target): string | undefined {
  switch (target.kind) {
    case 'cloud-run':
      return calledOrFirst(target.url, target.service.urls);
    case 'function-gen2': {
      const urls = [...(target.service?.urls ?? []), ...(target.fn.runUri ? [target.fn.runUri] : [])];
      return target.via === 'run-url' ? calledOrFirst(target.url, urls) : urls[0];
    }
    case 'function-gen1':
      return target.fn.url ?? functionUrlFromJobUri(target.url);
    default:
      return undefined;
  }
}

function calledOrFirst(called: string, urls: readonly string[]): string | undefined {
  const origin = splitUrl(called)?.origin;
  return urls.find((u) => origin !== undefined && sameUrl(u, origin)) ?? urls[0];
}
