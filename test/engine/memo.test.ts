import { mkdtemp, rm } from 'node:fs/promises';
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

async function findings(rules: readonly Rule[]): Promise<Finding[]> {
  const out: Finding[] = [];
  await runScan({
    source: new FileAssetSource(org.byShape.export!),
    rules,
    logger: textLogger('silent'),
    includePasses: true,
    scanId: 'memo',
    now: () => new Date('2026-05-01T12:00:00Z'),
    sinks: [{ name: 'collect', write: (f) => void out.push(f), close: async () => ({ sink: 'collect', delivered: 0, failed: 0 }) }],
  });
  return out;
}

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
    const afresh = await findings(allRules.map((r): Rule => ({ meta: r.meta, evaluate: r.evaluate, ...(r.remediate ? { remediate: r.remediate } : {}), ...(r.fix ? { fix: r.fix } : {}) })));
    expect(withMemo.length).toBeGreaterThan(4000 * 6);
    expect(withMemo).toEqual(afresh);
  });
});
