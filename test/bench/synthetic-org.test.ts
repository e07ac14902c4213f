import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_CASES, generateSyntheticOrg, type SyntheticOrg } from '../../bench/synthetic-org.js';
import { allRules } from '../../rules/index.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { textLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';

let dir: string;
let org: SyntheticOrg;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-synthetic-'));
  org = await generateSyntheticOrg({ dir: join(dir, 'a'), projects: 60, jobs: 3000, targets: 150, seed: 3, shape: 'both' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scan(files: string[]) {
  const tally = new Map<string, number>();
  const { summary } = await runScan({
    source: new FileAssetSource(files),
    rules: allRules,
    logger: textLogger('silent'),
    scanId: 'synthetic',
    now: () => new Date('2026-05-01T12:00:00Z'),
    sinks: [
      {
        name: 'tally',
        write(f) {
          const key = `${f.ruleId}/${f.status}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        },
        async close() {
          return { sink: 'tally', delivered: 0, failed: 0 };
        },
      },
    ],
  });
  return { summary, tally };
}

describe('generateSyntheticOrg', () => {
  it('writes both shapes and counts what it wrote', () => {
    expect(org.byShape.export!.map((f) => f.slice(dir.length))).toEqual(['/a/export-resources.ndjson', '/a/export-iam-policies.ndjson']);
    expect(org.byShape.list!.map((f) => f.slice(dir.length))).toEqual(['/a/list-resources.json', '/a/list-iam-policies.json']);
    const c = org.counts;
    expect(c.jobs).toBe(3000);
    expect(Object.values(c.jobsByCase).reduce((a, b) => a + b, 0)).toBe(3000);
    expect(c.runServicesV1 + c.runServicesV2 + c.functionsGen1 + c.functionsGen2).toBe(150);
    expect(Math.min(c.runServicesV1, c.runServicesV2, c.functionsGen1, c.functionsGen2)).toBeGreaterThan(0);
    expect(c.projectsWithoutSchedulerAgent).toBe(1);
    for (const [kase, share] of Object.entries(JOB_CASES)) {
      expect(c.jobsByCase[kase as keyof typeof JOB_CASES], kase).toBeGreaterThan(share * 3000 * 0.4);
    }
  });

  it('writes the same bytes for the same seed', async () => {
    const again = await generateSyntheticOrg({ dir: join(dir, 'b'), projects: 60, jobs: 3000, targets: 150, seed: 3, shape: 'export' });
    for (const [i, f] of again.byShape.export!.entries()) {
      expect(await readFile(f, 'utf8')).toBe(await readFile(org.byShape.export![i]!, 'utf8'));
    }
    const other = await generateSyntheticOrg({ dir: join(dir, 'c'), projects: 60, jobs: 300, targets: 150, seed: 4 });
    expect(await readFile(other.byShape.export![0]!, 'utf8')).not.toBe(await readFile(org.byShape.export![0]!, 'utf8'));
  });

  it('writes export lines with a snake_case envelope and a pretty-printed camelCase list', async () => {
    const line = (await readFile(org.byShape.export![0]!, 'utf8')).split('\n')[0]!;
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['name', 'asset_type', 'resource', 'ancestors', 'update_time']);
    const list = await readFile(org.byShape.list![1]!, 'utf8');
    expect(list.startsWith('[\n  {\n    "ancestors": [')).toBe(true);
    const policies = JSON.parse(list) as { assetType: string; iamPolicy: { bindings: unknown[] } }[];
    expect(policies.length).toBe(org.counts.iamPolicies);
    expect(policies.every((p) => p.iamPolicy.bindings.length > 0)).toBe(true);
  });

  it('gives the scan the same findings from either shape, one for each broken job', async () => {
    const fromExport = await scan(org.byShape.export!);
    const fromList = await scan(org.byShape.list!);
    expect(fromList.summary.findings).toEqual(fromExport.summary.findings);
    expect(fromList.tally).toEqual(fromExport.tally);
    const { summary, tally } = fromExport;
    const c = org.counts;
    expect(summary.unreadableRecords).toBe(0);
    expect(summary.coverageGaps).toEqual([]);
    expect(summary.jobsScanned).toBe(3000);
    expect(summary.assetsRead).toBe(c.records);
    const n = c.jobsByCase;
    expect(tally.get('http-target-uses-oidc/fail')).toBe(n.noToken + n.oauthToRun);
    expect(tally.get('google-api-target-uses-oauth/fail')).toBe(n.oidcToGoogleApi);
    expect(tally.get('token-sa-exists-and-enabled/fail')).toBe(n.disabledSa);
    expect(tally.get('token-sa-not-default-compute/fail')).toBe(n.defaultComputeSa);
    expect(tally.get('oidc-audience-matches-target/fail')).toBe(n.wrongAudience + n.hostOnlyGen1);
    // Some targets are public or have the invoker check off: their jobs pass without a grant.
    const denied = tally.get('oidc-sa-can-invoke-target/fail') ?? 0;
    expect(denied).toBeLessThanOrEqual(n.saWithoutInvoker);
    expect(denied).toBeGreaterThan(n.saWithoutInvoker * 0.8);
    // A good job's 401 is reported on its own, unless another finding of the job explains it.
    expect(tally.get('last-attempt-authorized/fail')).toBeGreaterThan(n.lastAttemptUnauthenticated * 0.9);
    expect(tally.get('scheduler-service-agent-has-role/fail')).toBeGreaterThan(0);
    expect(tally.get('oidc-audience-matches-target/unverifiable')).toBe(n.unknownTarget);
  });
});
