import { Logging } from '@google-cloud/logging';
import pLimit from 'p-limit';
import type { GoogleClientOptions } from '../../google/client-options.js';
import type { CoverageGap } from '../../inventory/source.js';
import { SlidingWindowLimiter, realTimer, type Timer } from '../../inventory/cai/rate-limiter.js';
import { DEFAULT_RETRY, Retrier, describeGrpcError, grpcCode, type RetryPolicy } from '../../inventory/cai/retry.js';
import type { Logger } from '../../log/logger.js';
import { refusedAttemptsFilter } from './filter.js';
import { AttemptCounter, type RefusedEntry } from './history.js';

/** entries.list limits (GCP-FACTS §17): resource names per call, entries per page. */
export const MAX_RESOURCE_NAMES = 100;
export const PAGE_SIZE = 1000;
/** Logging's read quota is about 60 calls a minute (GCP-FACTS §17). */
export const LOGGING_CALLS_PER_MINUTE = 60;

/** Where refused attempts are read: each project's own logs, or one log view fed by an aggregated sink. */
export type AttemptsFrom = { kind: 'projects'; projects: readonly string[] } | { kind: 'view'; view: string };

export interface AttemptsReadOptions {
  from: AttemptsFrom;
  window: string;
  since: Date;
  /** The window's end: when the scan began. */
  until?: Date;
  logger: Logger;
  clientOptions: GoogleClientOptions;
  concurrency?: number;
  callsPerMinute?: number;
  retry?: RetryPolicy;
  timer?: Timer;
}

export interface AttemptsReadResult {
  counter: AttemptCounter;
  /** Projects (ids) whose logs were read in full; 'all' for a view. */
  covered: Set<string> | 'all';
  gaps: CoverageGap[];
  calls: number;
  entries: number;
}

/**
 * Codes that say "one of these resource names cannot be read": split the batch to find which.
 * INVALID_ARGUMENT is not one: it is the filter or the request, and splitting would only repeat it.
 */
const UNREADABLE = new Set([5 /* NOT_FOUND */, 7 /* PERMISSION_DENIED */]);

/**
 * Reads Scheduler's refused attempts over a window. Projects go up to 100 to a call; a batch
 * that is refused is split in halves until the unreadable projects are found, each a coverage
 * gap for this evidence only. Calls are rate-limited and retried like the Cloud Asset calls.
 */
export async function readRefusedAttempts(opts: AttemptsReadOptions): Promise<AttemptsReadResult> {
  const timer = opts.timer ?? realTimer;
  const limiter = new SlidingWindowLimiter(opts.callsPerMinute ?? LOGGING_CALLS_PER_MINUTE, 60_000, timer);
  const retrier = new Retrier(opts.retry ?? DEFAULT_RETRY, timer);
  const limit = pLimit(opts.concurrency ?? 4);
  const filter = refusedAttemptsFilter(opts.since, opts.until);
  const counter = new AttemptCounter(opts.window, opts.since, opts.until);
  const firstProject = opts.from.kind === 'projects' ? opts.from.projects[0] : /^projects\/([^/]+)\//.exec(opts.from.view)?.[1];
  // A project id keeps the client from asking the environment for one (it fills `{{projectId}}` placeholders).
  const logging = new Logging({ ...opts.clientOptions, ...(firstProject ? { projectId: firstProject } : {}) });
  const result: AttemptsReadResult = { counter, covered: opts.from.kind === 'view' ? 'all' : new Set(), gaps: [], calls: 0, entries: 0 };

  /** All pages of one listing; entries are counted only once the listing is complete. */
  const readAll = async (resourceNames: string[]): Promise<RefusedEntry[]> => {
    const entries: RefusedEntry[] = [];
    let pageToken: string | undefined;
    do {
      const request = { resourceNames, filter, pageSize: PAGE_SIZE, orderBy: 'timestamp asc', autoPaginate: false, ...(pageToken ? { pageToken } : {}) };
      const [page, next] = await retrier.run(
        async () => {
          await limiter.acquire();
          result.calls++;
          return (await logging.getEntries(request)) as unknown as [{ metadata: RefusedEntry; data: unknown }[], { pageToken?: string } | null];
        },
        (err, attempt, delay) => opts.logger.warn(`execution logs of ${describe(resourceNames)}: ${describeGrpcError(err)}; retry ${attempt} in ${delay} ms`),
      );
      for (const e of page) entries.push({ ...e.metadata, data: e.data });
      // A page may be short or empty and still carry a token: only an absent token ends the listing.
      pageToken = next?.pageToken || undefined;
    } while (pageToken);
    return entries;
  };

  const take = (entries: RefusedEntry[]): void => {
    for (const e of entries) if (counter.add(e)) result.entries++;
  };

  const readProjects = async (projects: string[]): Promise<void> => {
    try {
      take(await readAll(projects.map((p) => `projects/${p}`)));
      for (const p of projects) (result.covered as Set<string>).add(p);
    } catch (err) {
      const code = grpcCode((err as { last?: unknown }).last ?? err);
      if (projects.length > 1 && code !== undefined && UNREADABLE.has(code)) {
        const half = Math.ceil(projects.length / 2);
        await Promise.all([readProjects(projects.slice(0, half)), readProjects(projects.slice(half))]);
        return;
      }
      const why = describeGrpcError((err as { last?: unknown }).last ?? err);
      for (const p of projects) result.gaps.push(gap(`projects/${p}`, why));
    }
  };

  if (opts.from.kind === 'view') {
    const view = opts.from.view;
    try {
      take(await readAll([view]));
    } catch (err) {
      result.covered = new Set();
      result.gaps.push(gap(view, describeGrpcError((err as { last?: unknown }).last ?? err)));
    }
  } else {
    const projects = [...new Set(opts.from.projects)].sort();
    const batches: string[][] = [];
    for (let i = 0; i < projects.length; i += MAX_RESOURCE_NAMES) batches.push(projects.slice(i, i + MAX_RESOURCE_NAMES));
    await Promise.all(batches.map((b) => limit(() => readProjects(b))));
  }
  // The client keeps its gRPC channel open otherwise, which would hold the process.
  await Promise.all(Object.values(logging.api as Record<string, unknown>).map((c) => Promise.resolve((c as { close?: () => unknown }).close?.()).catch(() => undefined)));
  return result;
}

function gap(scope: string, why: string): CoverageGap {
  return { scope, reason: `Scheduler execution logs not readable (${why}); last-attempt-authorized judges its jobs from Job.status alone` };
}

function describe(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.length} projects (${names[0]}…)`;
}
