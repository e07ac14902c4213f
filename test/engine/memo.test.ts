import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticOrg, type SyntheticOrg } from '../../bench/synthetic-org.js';
import { allRules } from '../../rules/index.js';
import type { Rule } from '../../src/engine/define-rule.js';
import type { Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { textLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';

let dir: string;
let org: SyntheticOrg;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-memo-'));
  // Many jobs per target and account: most results are remembered ones.
  org = await generateSyntheticOrg({ dir, projects: 40, jobs: 4000, targets: 120, seed: 11 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function findings(rules: readonly Rule[], inputs: readonly string[] = org.byShape.export!): Promise<Finding[]> {
  const out: Finding[] = [];
  await runScan({
    source: new FileAssetSource([...inputs]),
    rules,
    logger: textLogger('silent'),
    includePasses: true,
    scanId: 'memo',
    now: () => new Date('2026-05-01T12:00:00Z'),
    sinks: [{ name: 'collect', write: (f) => void out.push(f), close: async () => ({ sink: 'collect', delivered: 0, failed: 0 }) }],
  });
  return out;
}

/** The same rules without memo keys: every job judged afresh. */
const withoutMemo = allRules.map((r): Rule => ({ meta: r.meta, evaluate: r.evaluate, ...(r.remediate ? { remediate: r.remediate } : {}), ...(r.fix ? { fix: r.fix } : {}) }));

describe('results remembered per target and memo key', () => {
  it('are exactly what each job gets when every rule judges it afresh', async () => {
    const withMemo = await findings(allRules);
    const memoizing = allRules.filter((r) => r.memoKey);
    expect(memoizing.map((r) => r.meta.id).sort()).toEqual([
      'http-target-uses-oidc',
      'ingress-admits-scheduler',
      'job-uri-has-no-credential',
      'oauth-sa-can-call-target',
      'oidc-audience-matches-target',
      'oidc-sa-can-invoke-target',
      'token-sa-exists-and-enabled',
      'token-sa-in-job-project',
      'token-sa-not-default-compute',
    ]);
    const afresh = await findings(withoutMemo);
    expect(withMemo.length).toBeGreaterThan(4000 * 6);
    expect(withMemo).toEqual(afresh);
  });

  it('are not shared between jobs of one target whose keys would read alike if joined', async () => {
    // Names and accounts are untrusted text: a project id may hold a newline, an account a `|`.
    // Joined with a separator, (proj-one\nz, sched-x@proj-one) and (proj-one, z\nsched-x@proj-one) would be one key, and
    // so would (a|GET, POST) and (a, GET|POST): each job here must get its own verdict.
    const runUri = 'https://svc-memo-xyz-uc.a.run.app';
    const apiUri = 'https://run.googleapis.com/v2/projects/proj-two/locations/us-central1/jobs/nightly:run';
    const job = (project: string, id: string, uri: string, method: string, token: object): string =>
      JSON.stringify({
        name: `//cloudscheduler.googleapis.com/projects/${project}/locations/us-central1/jobs/${id}`,
        asset_type: 'cloudscheduler.googleapis.com/Job',
        resource: { data: { name: `projects/${project}/locations/us-central1/jobs/${id}`, state: 'ENABLED', httpTarget: { uri, httpMethod: method, ...token } } },
      });
    const path = join(dir, 'keys-alike.ndjson');
    await writeFile(
      path,
      [
        job('proj-one\nz', 'a', runUri, 'POST', { oidcToken: { serviceAccountEmail: 'sched-x@proj-one.iam.gserviceaccount.com' } }),
        job('proj-one', 'b', runUri, 'POST', { oidcToken: { serviceAccountEmail: 'z\nsched-x@proj-one.iam.gserviceaccount.com' } }),
        job('proj-two', 'c', apiUri, 'POST', { oauthToken: { serviceAccountEmail: 'a|GET' } }),
        job('proj-two', 'd', apiUri, 'GET|POST', { oauthToken: { serviceAccountEmail: 'a' } }),
      ].join('\n') + '\n',
    );
    const withMemo = await findings(allRules, [path]);
    const verdicts = (ruleId: string, project: string): string[][] => withMemo.filter((f) => f.ruleId === ruleId && f.job.project.startsWith(project)).map((f) => [f.job.name, f.status]);
    expect(verdicts('token-sa-in-job-project', 'proj-one')).toEqual([
      ['projects/proj-one\nz/locations/us-central1/jobs/a', 'fail'],
      ['projects/proj-one/locations/us-central1/jobs/b', 'pass'],
    ]);
    // Job d's call is not the POST the API takes: it has no verdict of this rule.
    expect(verdicts('oauth-sa-can-call-target', 'proj-two')).toEqual([['projects/proj-two/locations/us-central1/jobs/c', 'unverifiable']]);
    expect(withMemo).toEqual(await findings(withoutMemo, [path]));
  });
});
