import pLimit from 'p-limit';
import type { protos } from '@google-cloud/asset';
import { AccessError, ConfigurationError } from '../errors.js';
import { googleClientOptions, type GoogleClientOptions } from '../google/client-options.js';
import type { Logger } from '../log/logger.js';
import { ASSET_TYPES, POLICY_ASSET_TYPES, USED_ASSET_TYPES } from '../model/asset-types.js';
import { readAncestorPolicies } from './ancestors/ancestor-policies.js';
import { toAssetRecord, type RecordResult } from './asset-record.js';
import { assetToJson } from './cai/asset-json.js';
import { SlidingWindowLimiter, realTimer, type Timer } from './cai/rate-limiter.js';
import { DEFAULT_RETRY, RETRYABLE_CODES, Retrier, RetriesExhaustedError, describeGrpcError, grpcCode, type RetryPolicy } from './cai/retry.js';
import { MAX_KEPT_PROBLEMS } from './file-source.js';
import { ReadStopped, type AssetSource, type CoverageGap, type DeferredJobs, type SourceReport } from './source.js';

type AssetClient = import('@google-cloud/asset').AssetServiceClient;
type ListAssetsRequest = protos.google.cloud.asset.v1.IListAssetsRequest;

export interface CaiApiSourceOptions {
  /** `organizations/123`, `folders/456`, `projects/my-project` (id or number). */
  scopes: readonly string[];
  logger: Logger;
  /** ListAssets calls in flight at once. Default 8. */
  concurrency?: number;
  /**
   * ListAssets calls, retries included, in any minute. Default 80: the quota is 100 a minute
   * per consumer project and 800 per organization (GCP-FACTS §2), and other tools share it.
   */
  ratePerMinute?: number;
  retry?: Partial<RetryPolicy>;
  /** The snapshot every call reads. Default: one minute before the scan starts (a clock ahead of Google's must not ask for the future). */
  readTime?: Date;
  /** Assets per page, at most 1000 (the API's maximum). Default 1000. */
  pageSize?: number;
  /** Deadline of one call. Default 60 s, as the client library's own. */
  callTimeoutMs?: number;
  /** Client constructor options; default {@link googleClientOptions} from the environment. */
  clientOptions?: GoogleClientOptions;
  /**
   * Read the folders and organization above project and folder scopes, and their IAM policies,
   * through Resource Manager (default true): inherited grants decide invoker verdicts.
   */
  readAncestors?: boolean;
  /** Clock and random source, for tests. */
  timer?: Timer;
  random?: () => number;
}

/** What one read did, for logs and benchmarks. */
export interface CaiReadStats {
  calls: number;
  retries: number;
  pages: number;
  readTime: string;
}

type ContentType = 'RESOURCE' | 'IAM_POLICY';

type Listing = { contentType: ContentType; assetTypes: readonly string[] };

const SERVERLESS_TYPES = [ASSET_TYPES.runService, ASSET_TYPES.functionV1, ASSET_TYPES.functionV2];
const IDENTITY_AND_CONTAINER_TYPES = [...USED_ASSET_TYPES].filter((t) => t !== ASSET_TYPES.job && !SERVERLESS_TYPES.includes(t as never));
const POLICIES: Listing = { contentType: 'IAM_POLICY', assetTypes: [...POLICY_ASSET_TYPES] };
const JOBS: Listing = { contentType: 'RESOURCE', assetTypes: [ASSET_TYPES.job] };

/**
 * The listings made for a scope. Several asset types share a call (`asset_types` takes a list),
 * so calls stay few: a project, small, gets one RESOURCE listing of every type the model reads
 * and one IAM_POLICY listing. An organization or folder splits its resources three ways (jobs;
 * Run services and functions; identities and containers): pages of one listing follow each
 * other, so three shorter chains side by side finish sooner, for at most two more calls.
 */
export function listingsFor(scope: string, { withoutJobs = false } = {}): readonly Listing[] {
  if (scope.startsWith('projects/')) {
    const types = withoutJobs ? [...USED_ASSET_TYPES].filter((t) => t !== ASSET_TYPES.job) : [...USED_ASSET_TYPES];
    return [{ contentType: 'RESOURCE', assetTypes: types }, POLICIES];
  }
  return [
    ...(withoutJobs ? [] : [JOBS]),
    { contentType: 'RESOURCE', assetTypes: SERVERLESS_TYPES },
    { contentType: 'RESOURCE', assetTypes: IDENTITY_AND_CONTAINER_TYPES },
    POLICIES,
  ];
}

const SCOPE = /^(organizations\/\d+|folders\/\d+|projects\/[a-z0-9][a-z0-9.:-]*)$/;
const READ_TIME_SKEW_MS = 60_000;
export const MAX_PAGE_SIZE = 1000;

/** Raised inside a scope whose sibling listing already failed: stop spending calls on it. */
class ScopeAbandoned extends Error {}

/**
 * Live inventory through Cloud Asset `ListAssets`: for each scope, RESOURCE listings of the types
 * the model reads and an IAM_POLICY listing of the types whose policies matter
 * ({@link listingsFor}), all at one `readTime`, paged by 1000, under a concurrency cap, a
 * per-minute call budget and retries with backoff.
 *
 * A scope is judged from a complete snapshot or not at all: its records are held until both of
 * its listings have finished, and a listing that is denied or keeps failing turns the whole scope
 * into a coverage gap instead of a half-read inventory (a missing IAM policy would otherwise read
 * as "no grant" and produce confident verdicts from missing data). An asset seen through two
 * overlapping scopes is passed on once.
 */
export class CaiApiSource implements AssetSource {
  readonly scopes: readonly string[];
  private readonly opts: CaiApiSourceOptions;
  /** Filled by `read`. */
  stats: CaiReadStats | undefined;

  constructor(options: CaiApiSourceOptions) {
    const scopes = [...new Set(options.scopes.map((s) => s.trim()))];
    if (scopes.length === 0) throw new ConfigurationError('NO_SCOPE', 'a Cloud Asset scan needs at least one --org, --folder or --project');
    for (const scope of scopes) {
      if (!SCOPE.test(scope)) {
        throw new ConfigurationError(
          'BAD_SCOPE',
          `scope "${scope}" is not organizations/NUMBER, folders/NUMBER or projects/ID_OR_NUMBER`,
        );
      }
    }
    const positive = (name: string, value: number | undefined, max = Infinity): void => {
      if (value !== undefined && (!Number.isFinite(value) || value <= 0 || value > max)) {
        throw new ConfigurationError('BAD_OPTION', `${name} must be a positive number${max < Infinity ? ` of at most ${max}` : ''}, got ${value}`);
      }
    };
    positive('concurrency', options.concurrency);
    positive('ratePerMinute', options.ratePerMinute);
    positive('pageSize', options.pageSize, MAX_PAGE_SIZE);
    positive('callTimeoutMs', options.callTimeoutMs);
    this.scopes = scopes;
    this.opts = options;
  }

  get description(): string {
    return `Cloud Asset API: ${this.scopes.join(', ')}`;
  }

  /**
   * With `deferJobs`, each scope is first listed without its Scheduler jobs; the jobs are listed
   * by `deferredJobs.read`, once the model is built, and judged page by page, so the scan never
   * holds them. Only the scopes whose first listings all succeeded have their jobs listed: a
   * scope is still judged from a complete model or not at all. A job listing that fails midway
   * leaves the jobs already judged (their verdicts rest on that complete model) and names the
   * scope as a coverage gap for the rest.
   */
  async read(onRecord: (result: RecordResult) => void, options: { deferJobs?: boolean } = {}): Promise<SourceReport & { deferredJobs?: DeferredJobs }> {
    const deferJobs = options.deferJobs === true;
    const { logger } = this.opts;
    const timer = this.opts.timer ?? realTimer;
    const readTime = this.opts.readTime ?? new Date(timer.now() - READ_TIME_SKEW_MS);
    const stats: CaiReadStats = { calls: 0, retries: 0, pages: 0, readTime: readTime.toISOString() };
    this.stats = stats;
    const report: SourceReport = { records: 0, problems: [], problemCount: 0, gaps: [] };
    const seen = new Set<string>();
    const covered: string[] = [];
    const transientScopes = new Set<string>();

    const { AssetServiceClient } = await import('@google-cloud/asset');
    const client = new AssetServiceClient({ ...(this.opts.clientOptions ?? googleClientOptions()) });
    const ctx: ListContext = {
      client,
      readTime,
      stats,
      logger,
      limit: pLimit(this.opts.concurrency ?? 8),
      limiter: new SlidingWindowLimiter(this.opts.ratePerMinute ?? 80, 60_000, timer),
      retrier: new Retrier({ ...DEFAULT_RETRY, ...this.opts.retry }, timer, this.opts.random),
      pageSize: this.opts.pageSize ?? MAX_PAGE_SIZE,
      callTimeoutMs: this.opts.callTimeoutMs ?? 60_000,
    };
    logger.info(`listing assets of ${this.scopes.length} scope(s) at ${stats.readTime}`);
    try {
      await Promise.all(
        this.scopes.map(async (scope) => {
          const outcome = await readScope(ctx, scope, listingsFor(scope, { withoutJobs: deferJobs }));
          if ('gap' in outcome) {
            report.gaps.push(outcome.gap);
            if (outcome.transient) transientScopes.add(scope);
            logger.error(`scope ${scope} not scanned: ${outcome.gap.reason}`);
            return;
          }
          let passed = 0;
          for (const { key, result } of outcome.assets) {
            if (seen.has(key)) continue;
            seen.add(key);
            if (result.ok) {
              report.records++;
              passed++;
            } else {
              report.problemCount++;
              if (report.problems.length < MAX_KEPT_PROBLEMS) report.problems.push(result.problem);
            }
            onRecord(result);
          }
          logger.info(`scope ${scope}: ${outcome.assets.length} assets listed, ${passed} passed on`);
          covered.push(scope);
        }),
      );
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    stats.retries = ctx.retrier.retries;
    report.gaps.sort((a, b) => a.scope.localeCompare(b.scope));
    if (covered.length === 0) {
      await client.close().catch(() => undefined);
      throw noScopeReadable(report.gaps, transientScopes);
    }
    logger.info(`Cloud Asset listing done: ${stats.calls} calls, ${stats.pages} pages, ${stats.retries} retries, ${report.gaps.length} scope(s) not covered`);
    if (this.opts.readAncestors !== false && covered.length > 0) {
      const above = await readAncestorPolicies(
        { scopes: covered, logger, clientOptions: this.opts.clientOptions ?? googleClientOptions(), callTimeoutMs: ctx.callTimeoutMs },
        (result) => {
          if (result.ok) report.records++;
          onRecord(result);
        },
      );
      report.gaps.push(...above.gaps);
    }
    report.gaps.sort((a, b) => a.scope.localeCompare(b.scope));
    if (!deferJobs || covered.length === 0) {
      await client.close().catch(() => undefined);
      return report;
    }
    return {
      ...report,
      deferredJobs: {
        count: 0,
        read: async (onJob) => {
          try {
            return { gaps: await readJobs(ctx, covered.sort(), seen, onJob) };
          } finally {
            stats.retries = ctx.retrier.retries;
            await client.close().catch(() => undefined);
          }
        },
      },
    };
  }
}

/**
 * Lists the jobs of each covered scope and hands them on page by page, waiting for the consumer.
 * A consumer that stops the read (ReadStopped) stops every listing; a listing that fails leaves a
 * gap for its scope and the others go on.
 */
async function readJobs(
  ctx: ListContext,
  scopes: readonly string[],
  seen: Set<string>,
  onJob: (result: RecordResult) => void | Promise<void>,
): Promise<CoverageGap[]> {
  const gaps: CoverageGap[] = [];
  const stop = new AbortController();
  let stopped: unknown;
  await Promise.all(
    scopes.map((scope) =>
      ctx.limit(async () => {
        let judged = 0;
        try {
          await listAll(ctx, scope, JOBS.contentType, JOBS.assetTypes, stop.signal, async (json) => {
            const key = listedKey(JOBS.contentType, json);
            // Overlapping scopes list the same job: judge it once.
            if (scopes.length > 1) {
              if (seen.has(key)) return;
              seen.add(key);
            }
            judged++;
            await onJob(toAssetRecord(json, `cai:${scope}`));
          });
          ctx.logger.info(`scope ${scope}: ${judged} jobs listed and judged`);
        } catch (err) {
          if (err instanceof ReadStopped || stop.signal.aborted) {
            stopped ??= err;
            stop.abort(err);
            return;
          }
          const why = whyListingFailed(err);
          gaps.push({ scope, reason: `ListAssets RESOURCE (jobs) failed: ${why}; ${judged} of its jobs were judged, the rest were not` });
          ctx.logger.error(`scope ${scope}: listing its jobs failed after ${judged}: ${why}`);
        }
      }),
    ),
  );
  if (stopped) throw stopped;
  return gaps.sort((a, b) => a.scope.localeCompare(b.scope));
}

interface ListContext {
  client: AssetClient;
  readTime: Date;
  stats: CaiReadStats;
  logger: Logger;
  limit: ReturnType<typeof pLimit>;
  limiter: SlidingWindowLimiter;
  retrier: Retrier;
  pageSize: number;
  callTimeoutMs: number;
}

/** Content type, type and name of a listed asset: the same asset listed through overlapping scopes has the same key. */
function listedKey(contentType: ContentType, json: Record<string, unknown>): string {
  return `${contentType}\u0000${String(json.assetType)}\u0000${String(json.name)}`;
}

/** Why a listing failed for good, for a coverage gap's reason. */
function whyListingFailed(err: unknown): string {
  return err instanceof RetriesExhaustedError ? err.message : describeGrpcError(err);
}

/** A converted asset, keyed by content type, type and name so that overlapping scopes pass it on once. */
type Listed = { key: string; result: RecordResult };
type ScopeOutcome = { assets: Listed[] } | { gap: CoverageGap; transient: boolean };

/** The least role that lets the scanner list a scope (https://cloud.google.com/asset-inventory/docs/access-control), for messages about a refusal. */
export const LISTING_ROLE = 'roles/cloudasset.viewer';

function listingRoleHint(scope: string): string {
  return `the scanner's account needs ${LISTING_ROLE} on ${scope} (and the Cloud Asset API enabled in its project)`;
}

/** The error of a run none of whose scopes could be listed: nothing was judged, so no result stands. */
function noScopeReadable(gaps: readonly CoverageGap[], transientScopes: ReadonlySet<string>): AccessError {
  const transient = gaps.every((g) => transientScopes.has(g.scope));
  const head = transient
    ? 'no scope could be listed (Cloud Asset unavailable past the retries); nothing was judged. Try again later:'
    : 'no scope could be listed; nothing was judged:';
  return new AccessError(transient ? 'SCOPES_UNAVAILABLE' : 'SCOPES_REFUSED', `${head}\n${gaps.map((g) => `  ${g.scope}: ${g.reason}`).join('\n')}`, transient);
}

/** The gRPC code behind a failed listing, through the retrier's wrapper. */
function failureCode(err: unknown): number | undefined {
  return grpcCode(err instanceof RetriesExhaustedError ? err.last : err);
}

async function readScope(ctx: ListContext, scope: string, listings: readonly Listing[]): Promise<ScopeOutcome> {
  const abandon = new AbortController();
  const origin = `cai:${scope}`;
  // Converted page by page, while other listings wait on the network; held until the scope is complete.
  const assets: Listed[] = [];
  const failures: string[] = [];
  let refused = false;
  let permanent = false;
  await Promise.all(
    listings.map((listing) =>
      ctx.limit(async () => {
        try {
          await listAll(ctx, scope, listing.contentType, listing.assetTypes, abandon.signal, (json) => {
            assets.push({ key: listedKey(listing.contentType, json), result: toAssetRecord(json, origin) });
          });
        } catch (err) {
          if (err instanceof ScopeAbandoned || abandon.signal.aborted) return;
          failures.push(`ListAssets ${listing.contentType} failed: ${whyListingFailed(err)}`);
          const code = failureCode(err);
          if (code === 7) refused = true;
          if (code === undefined || !RETRYABLE_CODES.has(code)) permanent = true;
          abandon.abort(new ScopeAbandoned());
        }
      }),
    ),
  );
  if (failures.length > 0) {
    const hint = refused ? `; ${listingRoleHint(scope)}` : '';
    return { gap: { scope, reason: `${failures.join('; ')}; nothing in this scope was judged${hint}` }, transient: !permanent };
  }
  return { assets };
}

async function listAll(
  ctx: ListContext,
  scope: string,
  contentType: ContentType,
  assetTypes: readonly string[],
  signal: AbortSignal,
  onAsset: (json: Record<string, unknown>) => void | Promise<void>,
): Promise<void> {
  const seconds = Math.floor(ctx.readTime.getTime() / 1000);
  const base: ListAssetsRequest = {
    parent: scope,
    assetTypes: [...assetTypes],
    contentType,
    pageSize: ctx.pageSize,
    readTime: { seconds, nanos: (ctx.readTime.getTime() - seconds * 1000) * 1_000_000 },
  };
  let pageToken = '';
  for (let page = 1; ; page++) {
    if (signal.aborted) throw new ScopeAbandoned();
    const request: ListAssetsRequest = pageToken ? { ...base, pageToken } : base;
    const [assets, , response] = await ctx.retrier.run(
      async () => {
        await ctx.limiter.acquire(signal);
        ctx.stats.calls++;
        // gax's own retries are off: these calls retry here, under one budget and the rate limit.
        return ctx.client.listAssets(request, { autoPaginate: false, timeout: ctx.callTimeoutMs, retry: null });
      },
      (err, attempt, delayMs) =>
        ctx.logger.debug(`ListAssets ${scope} ${contentType} page ${page}: ${describeGrpcError(err)}; attempt ${attempt + 1} in ${delayMs} ms`),
      signal,
    );
    ctx.stats.pages++;
    for (const asset of assets) {
      const pending = onAsset(assetToJson(asset));
      if (pending) await pending;
    }
    const next = response?.nextPageToken ?? '';
    if (!next) return;
    if (next === pageToken) throw new Error(`ListAssets ${scope} ${contentType} returned the same page token twice`);
    pageToken = next;
  }
}
