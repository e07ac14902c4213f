import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';

/**
 * Real export files written by another project (forseti-security's inventory test data, in the
 * shared third-party directory beside the repository): older snake_case envelopes, mostly
 * without `ancestors`, and many asset types the scanner does not use. They must load whole.
 */
const DIR = fileURLToPath(new URL('../../../shared/third-party/forseti-cai-exports/', import.meta.url));
const present = existsSync(DIR);

/** Per file: records read, records of types the scanner skips. Nothing in them is unreadable. */
const EXPECTED: Record<string, { assetsRead: number; skipped: number; skippedTypes: Record<string, number> }> = {
  'mock_cai_resources.ndjson': {
    assetsRead: 133,
    skipped: 120,
    skippedTypes: {
      'compute.googleapis.com/Subnetwork': 24,
      'compute.googleapis.com/Firewall': 7,
      'compute.googleapis.com/Instance': 4,
      'iam.googleapis.com/ServiceAccountKey': 1,
      'k8s.io/Pod': 1,
      'spanner.googleapis.com/Database': 1,
    },
  },
  'mock_cai_iam_policies.ndjson': {
    assetsRead: 22,
    skipped: 12,
    skippedTypes: {
      'cloudbilling.googleapis.com/BillingAccount': 2,
      'storage.googleapis.com/Bucket': 2,
      'bigquery.googleapis.com/Dataset': 2,
      'dataproc.googleapis.com/Cluster': 2,
      'cloudkms.googleapis.com/CryptoKey': 1,
      'cloudkms.googleapis.com/KeyRing': 1,
      'pubsub.googleapis.com/Topic': 1,
      'pubsub.googleapis.com/Subscription': 1,
    },
  },
  'mock_cai_access_policies.ndjson': { assetsRead: 5, skipped: 0, skippedTypes: {} },
  'mock_cai_org_policies.ndjson': { assetsRead: 3, skipped: 0, skippedTypes: {} },
  'mock_cai_long_resource_name.ndjson': {
    assetsRead: 2,
    skipped: 2,
    skippedTypes: { 'spanner.googleapis.com/Instance': 1, 'spanner.googleapis.com/Database': 1 },
  },
};

async function scan(paths: string[]) {
  const logger = memoryLogger();
  const result = await runScan({ source: new FileAssetSource(paths), rules: allRules, sinks: [], logger });
  return { ...result, logger };
}

describe.skipIf(!present)('third-party CAI exports (forseti test data)', () => {
  const files = present ? readdirSync(DIR).filter((f) => f.endsWith('.ndjson') || f.endsWith('.json')) : [];

  it('knows every file there', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s loads through the scan without a crash or an unreadable record', async (name) => {
    const { summary, logger } = await scan([`${DIR}${name}`]);
    const expected = EXPECTED[name]!;
    expect(summary.unreadableRecords).toBe(0);
    expect(summary.problems).toEqual([]);
    // These files hold no Scheduler job: that warning is expected, no other.
    expect(logger.lines.filter((l) => (l.level === 'warn' || l.level === 'error') && !l.message.startsWith('no Scheduler job found'))).toEqual([]);
    expect(summary.assetsRead).toBe(expected.assetsRead);
    const skipped = Object.values(summary.assetsSkippedByType).reduce((a, b) => a + b, 0);
    expect(skipped).toBe(expected.skipped);
    expect(summary.assetsSkippedByType).toMatchObject(expected.skippedTypes);
    expect(summary.jobsScanned).toBe(0);
    expect(summary.partial).toBe(false);
  });

  it('reads the organization, folder and project IAM policies, and rebuilds the ancestry from parents', async () => {
    const { inventory, summary } = await scan(files.map((f) => `${DIR}${f}`));
    expect(summary.assetsRead).toBe(165);
    expect(summary.unreadableRecords).toBe(0);

    const bindings = (name: string) => inventory.policy(`//cloudresourcemanager.googleapis.com/${name}`)?.bindings.map((b) => [b.role, b.members.length]);
    expect(bindings('organizations/111222333')).toEqual([['roles/resourcemanager.organizationAdmin', 1]]);
    for (const folder of ['folders/1031', 'folders/1032', 'folders/1033']) expect(bindings(folder)).toEqual([['roles/resourcemanager.folderAdmin', 1]]);
    expect(bindings('projects/1041')).toEqual([['roles/editor', 2], ['roles/owner', 2]]);
    expect(bindings('projects/1043')).toEqual([
      ['roles/editor', 2],
      ['roles/owner', 2],
      ['roles/appengine.codeViewer', 1],
      ['roles/appengine.appViewer', 1],
    ]);
    expect(bindings('projects/1044')).toEqual([['roles/editor', 3], ['roles/owner', 2]]);
    expect(inventory.policy('//cloudresourcemanager.googleapis.com/projects/1041')!.skippedBindings).toBe(0);

    expect([...inventory.projectsByNumber.keys()].sort()).toEqual(['1041', '1042', '1043', '1044']);
    expect(inventory.projectNumber('project4')).toBe('1044');
    expect(inventory.ancestorsOf({ project: 'project4' })).toEqual(['projects/1044', 'folders/1033', 'folders/1032', 'organizations/111222333']);
    expect(inventory.ancestorsOf({ project: 'project1' })).toEqual(['projects/1041', 'organizations/111222333']);

    expect(inventory.serviceAccount('1041-compute@developer.gserviceaccount.com')?.projectId).toBe('project1');
    expect(inventory.coversServiceAccountsOf('project2')).toBe(true);
    expect(inventory.customRole('organizations/111222333/roles/role2')?.permissions.has('compute.firewalls.get')).toBe(true);
    expect(inventory.customRole('projects/project4/roles/role1')).toBeDefined();
  });

  it('answers effective-IAM questions from those policies', async () => {
    const { inventory } = await scan(files.map((f) => `${DIR}${f}`));
    const resource = '//run.googleapis.com/projects/project1/locations/us-central1/services/svc';
    const ancestors = inventory.ancestorsOf({ project: 'project1' });
    // roles/editor on the project holds run.routes.invoke.
    const editor = inventory.access({ member: 'serviceAccount:1-compute@developer.gserviceaccount.com', permission: 'run.routes.invoke', resource, ancestors });
    expect(editor).toMatchObject({ result: 'granted', grants: [{ resource: '//cloudresourcemanager.googleapis.com/projects/1041', role: 'roles/editor' }] });
    // A group holds roles/owner: membership is not in the inventory, so the answer is not a denial.
    const other = inventory.access({ member: 'serviceAccount:x@project1.iam.gserviceaccount.com', permission: 'run.routes.invoke', resource, ancestors });
    expect(other.result).toBe('unverifiable');
  });
});
