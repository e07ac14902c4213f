import type { Inventory } from '../model/inventory.js';
import type { RunService, Target } from '../model/types.js';
import { deterministicFormNumber, splitTag, type DeterministicUrl } from '../model/run-urls.js';
import { normalizeUrl, splitUrl } from './predicates.js';
import { parseHttpUrl } from '../model/url.js';

/**
 * URL comparisons for audiences. Only the spellings the documentation shows count as a match:
 * the URL letter for letter, and for Cloud Run also with trailing slashes (a Google sample uses
 * one). Other spellings of the same URL (upper-case host, explicit `:443`) are told apart, so a
 * rule can call them undocumented rather than silently equal.
 */

const withoutTrailingSlashes = (url: string): string => url.replace(/\/+$/, '');

/** The audience is `url`, or `url` with trailing slashes added or removed. */
export function sameUpToTrailingSlash(a: string, url: string): boolean {
  return withoutTrailingSlashes(a) === withoutTrailingSlashes(url);
}

/** The two are one URL only after normalising (host case, default port, trailing slash, …). */
export function sameWhenNormalised(a: string, url: string): boolean {
  return normalizeUrl(a) === normalizeUrl(url);
}

/** Whether `audience` is `url` plus a path, query or fragment. */
export function extendsUrl(url: string, audience: string): boolean {
  const base = normalizeUrl(url);
  const a = normalizeUrl(audience);
  return a.length > base.length && a.startsWith(base) && '/?#'.includes(a[base.length]!);
}

/** `https://REGION-PROJECT.cloudfunctions.net/NAME` from a job URI that may add a path or query. */
export function functionUrlFromJobUri(uri: string): string | undefined {
  const u = parseHttpUrl(uri);
  const first = u?.pathname.split('/').filter(Boolean)[0];
  return u && first ? `${u.protocol}//${u.host}/${first}` : undefined;
}

/** What a Cloud Run service is documented to accept as `aud`, and what else the inventory knows of its URLs. */
export interface RunAudiences {
  /** The service's URLs: listed ones, plus the deterministic URL when the record shows it is assigned. */
  urls: string[];
  /** `urls` and custom audiences: the accepted audiences (Cloud Run "Custom audiences"). */
  accepted: string[];
  deterministic: DeterministicUrl;
  /** Hosts (lower case) of the service's URLs and tag URLs. */
  hosts: Set<string>;
}

export function runAudiences(inv: Inventory, service: RunService, extraUrls: readonly string[] = []): RunAudiences {
  const deterministic = inv.deterministicRunUrl(service);
  const urls = [...new Set([...service.urls, ...extraUrls, ...(deterministic.state === 'assigned' ? [deterministic.url] : [])])];
  const hosts = new Set<string>();
  for (const u of [...urls, ...(service.tagUrls ?? [])]) {
    const h = parseHttpUrl(u)?.hostname;
    if (h) hosts.add(h);
  }
  return { urls, accepted: [...new Set([...urls, ...service.customAudiences])], deterministic, hosts };
}

/** How an audience that is not an accepted one relates to the service's URLs. */
export type RunAudienceForm =
  | { form: 'http' }
  | { form: 'spelling' }
  | { form: 'tag' }
  | { form: 'deterministic-unknown'; reason: string }
  | { form: 'deterministic-not-assigned'; reason: string }
  | { form: 'with-path' }
  | { form: 'other' };

export function runAudienceForm(audience: string, service: RunService, known: RunAudiences): RunAudienceForm {
  const a = parseHttpUrl(audience);
  if (!a) return { form: 'other' };
  const { tag, base } = splitTag(a.hostname);
  const ofService = known.hosts.has(a.hostname) || (tag !== undefined && known.hosts.has(base)) || deterministicFormNumber(a.hostname, service) !== undefined;
  // Cloud Run serves HTTPS and redirects HTTP: an http:// URL is never the service URL.
  if (a.protocol === 'http:' && ofService) return { form: 'http' };
  if (known.accepted.some((u) => sameWhenNormalised(audience, u))) return { form: 'spelling' };
  if (tag !== undefined && ofService) return { form: 'tag' };
  const number = deterministicFormNumber(a.hostname, service);
  if (number !== undefined && !known.hosts.has(a.hostname)) {
    const d = known.deterministic;
    if (d.state === 'unknown') return { form: 'deterministic-unknown', reason: d.reason };
    if (d.state === 'not-assigned' && (!d.url || parseHttpUrl(d.url)?.hostname === a.hostname)) return { form: 'deterministic-not-assigned', reason: d.reason };
  }
  const split = splitUrl(audience);
  if (split && split.rest !== '' && known.urls.some((u) => splitUrl(u)?.origin === split.origin)) return { form: 'with-path' };
  return { form: 'other' };
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
  return urls.find((u) => origin !== undefined && sameUpToTrailingSlash(u, origin)) ?? urls[0];
}

/** How an audience relates to a 1st gen function's URL, which is its only accepted audience (GCP-FACTS §3, §10). */
export type Gen1AudienceForm = 'exact' | 'http' | 'trailing-slash' | 'spelling' | 'host-only' | 'query' | 'with-path' | 'other';

export function gen1AudienceForm(audience: string, expected: string): Gen1AudienceForm {
  if (audience === expected) return 'exact';
  const a = parseHttpUrl(audience);
  const e = parseHttpUrl(expected);
  if (a && e && a.protocol === 'http:' && a.hostname === e.hostname) return 'http';
  if (sameWhenNormalised(audience, expected)) return sameUpToTrailingSlash(audience, expected) ? 'trailing-slash' : 'spelling';
  const as = splitUrl(audience);
  const es = splitUrl(expected);
  if (as && es && as.origin === es.origin) {
    if (as.rest === '') return 'host-only';
    const noQuery = audience.split(/[?#]/)[0]!;
    if (noQuery !== audience && sameWhenNormalised(noQuery, expected)) return 'query';
    if (extendsUrl(expected, audience)) return 'with-path';
  }
  return 'other';
}
