/**
 * For comparison only: what a team following the usual runbook would script to audit its
 * Scheduler jobs through the APIs, with the same Google clients and the same concurrency cap
 * as cronwarden. For every project and location, ListJobs (pages of 500); then, for every
 * distinct target a job calls, getIamPolicy (Cloud Run v2 Services for run.app URLs, Cloud
 * Functions v2 for cloudfunctions.net URLs). It is given the projects and their locations for
 * free (no Resource Manager or locations calls are counted against it), and reads targets from
 * job URLs the way such a script would, with a table of Cloud Run region codes.
 */
import pLimit from 'p-limit';
import type { GoogleClientOptions } from '../src/google/client-options.js';
import { REGIONS } from './synthetic-assets.js';

export interface BaselineOptions {
  /** Project ids with the Scheduler locations each uses. */
  projects: readonly { id: string; locations: readonly string[] }[];
  clientOptions: GoogleClientOptions;
  concurrency: number;
}

export interface BaselineResult {
  jobs: number;
  /** Distinct targets whose policy was read. */
  policiesRead: number;
  /** Targets a job named that the API did not know (NOT_FOUND) or that no URL rule could name. */
  unresolved: number;
  failedCalls: number;
}

type TargetRef = { kind: 'run' | 'function'; resource: string };

const REGION_BY_CODE = new Map(REGIONS.map((r) => [r.code, r.name]));
const REGION_NAMES = [...REGIONS.map((r) => r.name)].sort((a, b) => b.length - a.length);

/**
 * The target a job URL names, as far as the URL tells: `NAME-PROJECTNUMBER.REGION.run.app`,
 * `NAME-HASH-REGIONCODE.a.run.app` (project taken to be the job's), or
 * `REGION-PROJECT.cloudfunctions.net/NAME`. Anything else is not a serverless target.
 */
export function targetOfUrl(uri: string, jobProject: string): TargetRef | 'not-serverless' | 'unknown' {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'not-serverless';
  }
  const host = url.hostname.toLowerCase();
  let m = /^(.+)-(\d+)\.([a-z0-9-]+)\.run\.app$/.exec(host);
  if (m) return { kind: 'run', resource: `projects/${m[2]}/locations/${m[3]}/services/${m[1]}` };
  m = /^(.+)-[a-z0-9]+-([a-z]{2})\.a\.run\.app$/.exec(host);
  if (m) {
    const region = REGION_BY_CODE.get(m[2]!);
    return region ? { kind: 'run', resource: `projects/${jobProject}/locations/${region}/services/${m[1]}` } : 'unknown';
  }
  m = /^(.+)\.cloudfunctions\.net$/.exec(host);
  if (m) {
    const region = REGION_NAMES.find((r) => m![1]!.startsWith(`${r}-`));
    const name = url.pathname.split('/').filter(Boolean)[0];
    if (!region || !name) return 'unknown';
    return { kind: 'function', resource: `projects/${m[1]!.slice(region.length + 1)}/locations/${region}/functions/${name}` };
  }
  return 'not-serverless';
}

export async function runBaseline(opts: BaselineOptions): Promise<BaselineResult> {
  const [{ CloudSchedulerClient }, { ServicesClient }, functions] = await Promise.all([
    import('@google-cloud/scheduler'),
    import('@google-cloud/run'),
    import('@google-cloud/functions'),
  ]);
  const scheduler = new CloudSchedulerClient({ ...opts.clientOptions });
  const run = new ServicesClient({ ...opts.clientOptions });
  const fns = new functions.v2.FunctionServiceClient({ ...opts.clientOptions });
  const limit = pLimit(opts.concurrency);
  const result: BaselineResult = { jobs: 0, policiesRead: 0, unresolved: 0, failedCalls: 0 };
  const targets = new Map<string, TargetRef>();
  try {
    const listings = opts.projects.flatMap((p) => p.locations.map((l) => ({ project: p.id, parent: `projects/${p.id}/locations/${l}` })));
    await Promise.all(
      listings.map(({ project, parent }) =>
        limit(async () => {
          let pageToken = '';
          do {
            const [jobs, , response] = await scheduler.listJobs({ parent, pageSize: 500, pageToken }, { autoPaginate: false });
            result.jobs += jobs.length;
            for (const job of jobs) {
              const uri = job.httpTarget?.uri;
              if (!uri) continue;
              const t = targetOfUrl(uri, project);
              if (t === 'unknown') result.unresolved++;
              else if (t !== 'not-serverless') targets.set(`${t.kind} ${t.resource}`, t);
            }
            pageToken = response?.nextPageToken ?? '';
          } while (pageToken);
        }),
      ),
    );
    await Promise.all(
      [...targets.values()].map((t) =>
        limit(async () => {
          try {
            if (t.kind === 'run') await run.getIamPolicy({ resource: t.resource });
            else await fns.getIamPolicy({ resource: t.resource } as never);
            result.policiesRead++;
          } catch (err) {
            if ((err as { code?: number }).code === 5) result.unresolved++;
            else result.failedCalls++;
          }
        }),
      ),
    );
  } finally {
    await Promise.all([scheduler.close(), run.close(), fns.close()]);
  }
  return result;
}
