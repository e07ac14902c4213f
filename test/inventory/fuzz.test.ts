import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticOrg } from '../../bench/synthetic-org.js';
import { allRules } from '../../rules/index.js';
import type { RecordResult } from '../../src/inventory/asset-record.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import type { AssetSource } from '../../src/inventory/source.js';
import type { Finding } from '../../src/findings/schema.js';
import { textLogger } from '../../src/log/logger.js';
import { ASSET_TYPES } from '../../src/model/asset-types.js';
import { runScan } from '../../src/scan/run-scan.js';

/**
 * Export files that mix good asset records with damaged ones: the scan must not throw, must
 * read every good record, and must judge every good job exactly as a scan of the good records
 * alone does. Damaged records live under their own names, so that they cannot stand in for a
 * good asset; what they may do is fail to parse, be skipped, or add assets of their own.
 */

const RUNS = Number(process.env.CRONWARDEN_FUZZ_RUNS ?? 200);
/** Fixed, so that runs are reproducible; set CRONWARDEN_FUZZ_SEED to explore further. */
const SEED = Number(process.env.CRONWARDEN_FUZZ_SEED ?? 20260501);

let dir: string;
let goodResources: string[];
let goodPolicies: string[];
/** `assetType name` of every good record, once per record. */
let goodKeys: string[];
let baseline: Map<string, string[]>;
let runCounter = 0;

const keyOf = (r: { assetType: string; name: string }): string => `${r.assetType} ${r.name}`;

/** What a finding says about a job, without the per-scan identity. */
function comparable(f: Finding): string {
  const { scanId: _s, observedAt: _o, ...rest } = f;
  return JSON.stringify(rest);
}

async function scanFindings(source: AssetSource): Promise<{ byJob: Map<string, string[]>; summary: Awaited<ReturnType<typeof runScan>>['summary'] }> {
  const byJob = new Map<string, string[]>();
  const { summary } = await runScan({
    source,
    rules: allRules,
    logger: textLogger('silent'),
    includePasses: true,
    now: () => new Date('2026-05-01T12:00:00Z'),
    scanId: 'fuzz',
    sinks: [
      {
        name: 'collect',
        write(f) {
          const list = byJob.get(f.job.name) ?? [];
          list.push(comparable(f));
          byJob.set(f.job.name, list);
        },
        async close() {
          return { sink: 'collect', delivered: 0, failed: 0 };
        },
      },
    ],
  });
  for (const list of byJob.values()) list.sort();
  return { byJob, summary };
}

function tap(inner: AssetSource, seen: string[]): AssetSource {
  return {
    description: inner.description,
    read: (onRecord: (r: RecordResult) => void) =>
      inner.read((r) => {
        if (r.ok) seen.push(keyOf(r.record));
        onRecord(r);
      }),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-fuzz-'));
  const org = await generateSyntheticOrg({ dir: join(dir, 'good'), projects: 3, jobs: 80, targets: 16, seed: 7, shape: 'export' });
  const [resources, policies] = org.byShape.export!;
  const lines = async (p: string): Promise<string[]> => (await readFile(p, 'utf8')).split('\n').filter((l) => l !== '');
  goodResources = await lines(resources!);
  goodPolicies = await lines(policies!);
  goodKeys = [...goodResources, ...goodPolicies].map((l) => {
    const v = JSON.parse(l) as { asset_type: string; name: string };
    return keyOf({ assetType: v.asset_type, name: v.name });
  });
  baseline = (await scanFindings(new FileAssetSource([resources!, policies!]))).byJob;
  expect(baseline.size).toBe(80);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const USED_TYPES = Object.values(ASSET_TYPES);
const FUZZ_PROJECT = 'fuzz-zone-000';

/** A name no good asset has: under a project and an organization the synthetic org does not use. */
const fuzzName = fc.tuple(fc.constantFrom(...USED_TYPES), fc.nat(9999)).map(([type, n]) => {
  const service = type.split('/')[0]!;
  switch (type) {
    case ASSET_TYPES.job:
      return { type, name: `//${service}/projects/${FUZZ_PROJECT}/locations/europe-west1/jobs/fuzz-${n}` };
    case ASSET_TYPES.runService:
      return { type, name: `//${service}/projects/${FUZZ_PROJECT}/locations/europe-west1/services/fuzz-${n}` };
    case ASSET_TYPES.functionV1:
    case ASSET_TYPES.functionV2:
      return { type, name: `//${service}/projects/${FUZZ_PROJECT}/locations/europe-west1/functions/fuzz-${n}` };
    case ASSET_TYPES.serviceAccount:
      return { type, name: `//${service}/projects/${FUZZ_PROJECT}/serviceAccounts/9${n}` };
    case ASSET_TYPES.role:
      return { type, name: `//${service}/projects/${FUZZ_PROJECT}/roles/fuzz${n}` };
    case ASSET_TYPES.organization:
      return { type, name: `//${service}/organizations/99${n}` };
    case ASSET_TYPES.folder:
      return { type, name: `//${service}/folders/99${n}` };
    default:
      return { type, name: `//${service}/projects/99${n}` };
  }
});

/** A value of any JSON type, for a field that should have one particular type. */
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Strings that look like the identities good assets use: a damaged record must not take them over. */
const fuzzString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.nat(9999).map((n) => `fuzz-${n}@${FUZZ_PROJECT}.iam.gserviceaccount.com`),
  fc.nat(9999).map((n) => `https://fuzz-${n}-xyz-ew.a.run.app/p?q=${n}`),
  fc.nat(9999).map((n) => `projects/${FUZZ_PROJECT}/locations/europe-west1/jobs/fuzz-${n}`),
);

/** resource.data for any used type: random keys and values, some with the fields the model reads, wrongly typed. */
const fuzzData = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 6 }),
  fc.record(
    {
      name: fc.oneof(fuzzString, anyJson),
      email: fc.oneof(fuzzString, anyJson),
      projectNumber: fc.oneof(fc.nat().map(String), anyJson),
      projectId: fc.oneof(fuzzString, anyJson),
      disabled: anyJson,
      state: anyJson,
      environment: fc.oneof(fc.constantFrom('GEN_1', 'GEN_2', 'x'), anyJson),
      url: fc.oneof(fuzzString, anyJson),
      uri: fc.oneof(fuzzString, anyJson),
      urls: fc.oneof(fc.array(fuzzString, { maxLength: 3 }), anyJson),
      customAudiences: anyJson,
      invokerIamDisabled: anyJson,
      includedPermissions: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), anyJson),
      httpsTrigger: fc.oneof(fc.record({ url: fc.oneof(fuzzString, anyJson) }), anyJson),
      serviceConfig: fc.oneof(fc.record({ service: fc.oneof(fuzzString, anyJson), uri: fc.oneof(fuzzString, anyJson) }, { requiredKeys: [] }), anyJson),
      metadata: fc.oneof(fc.record({ annotations: fc.dictionary(fc.constantFrom('run.googleapis.com/urls', 'run.googleapis.com/custom-audiences', 'run.googleapis.com/invoker-iam-disabled', 'x'), fc.oneof(fc.string(), anyJson)) }), anyJson),
      status: fc.oneof(fc.record({ code: anyJson, message: anyJson, url: fc.oneof(fuzzString, anyJson) }, { requiredKeys: [] }), anyJson),
      httpTarget: fc.oneof(
        fc.record(
          {
            uri: fc.oneof(fuzzString, anyJson),
            oidcToken: fc.oneof(fc.record({ serviceAccountEmail: fc.oneof(fuzzString, anyJson), audience: fc.oneof(fuzzString, anyJson) }, { requiredKeys: [] }), anyJson),
            oauthToken: anyJson,
          },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
      pubsubTarget: anyJson,
      appEngineHttpTarget: anyJson,
    },
    { requiredKeys: [] },
  ),
);

/** Bindings that are anything from right to nonsense. */
const fuzzBindings = fc.oneof(
  anyJson,
  fc.array(
    fc.oneof(
      anyJson,
      fc.record(
        {
          role: fc.oneof(fc.constantFrom('roles/run.invoker', 'roles/cloudfunctions.invoker', 'roles/cloudscheduler.serviceAgent', 'projects/x/roles/y', 'weird'), anyJson),
          members: fc.oneof(fc.array(fc.oneof(fc.constantFrom('allUsers', 'group:g@acme.example', 'serviceAccount:fuzz@x.iam.gserviceaccount.com'), fc.string(), anyJson), { maxLength: 4 }), anyJson),
          condition: fc.oneof(fc.record({ title: fc.string(), expression: fc.string() }, { requiredKeys: [] }), anyJson),
        },
        { requiredKeys: [] },
      ),
    ),
    { maxLength: 5 },
  ),
);

type Damaged = string | Uint8Array;

/**
 * The verdicts (rule and status) of a damaged scan, mapped onto the baseline's: an
 * unverifiable one stands for the baseline verdict of its rule that it replaced. A pass may
 * rest on another grant than before (the resource's policy unreadable, the project's granting).
 * Anything else (a new pass or fail, a rule missing) stays and shows in the diff.
 */
function verdicts(lines: readonly string[]): string[] {
  return lines.map((l) => JSON.parse(l) as { ruleId: string; status: string }).map((f) => `${f.ruleId} ${f.status}`).sort();
}
function asConfidentAs(damaged: readonly string[], baseline: readonly string[]): string[] {
  const left = verdicts(baseline);
  const out: string[] = [];
  const unverifiable: string[] = [];
  for (const v of verdicts(damaged)) {
    const at = left.indexOf(v);
    if (at !== -1) {
      left.splice(at, 1);
      out.push(v);
    } else if (v.endsWith(' unverifiable')) unverifiable.push(v);
    else out.push(v);
  }
  for (const v of unverifiable) {
    const rule = v.slice(0, v.indexOf(' '));
    const at = left.findIndex((b) => b.startsWith(`${rule} `));
    out.push(at === -1 ? v : left.splice(at, 1)[0]!);
  }
  return out.sort();
}

/** One damaged line: its text (or raw bytes), never containing a newline. */
function damagedLine(good: readonly string[]): fc.Arbitrary<Damaged> {
  const goodLine = fc.nat(good.length - 1).map((i) => good[i]!);
  return fc.oneof(
    // random JSON of any kind: scalars, arrays, objects
    anyJson.map((v) => JSON.stringify(v)),
    // a good record cut short
    fc.tuple(goodLine, fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([l, at]) => l.slice(0, Math.max(1, Math.floor(l.length * at)))),
    // a good record, renamed, with one envelope field of a wrong type or missing
    fc
      .tuple(
        goodLine,
        fuzzName,
        fc.constantFrom('name', 'asset_type', 'resource', 'iam_policy', 'ancestors', 'update_time', 'resource.data', 'resource.version'),
        fc.oneof(anyJson, fc.constant(undefined)),
      )
      .map(([l, id, field, value]) => {
        const v = JSON.parse(l) as Record<string, unknown>;
        v.name = id.name;
        const resource = v.resource as Record<string, unknown> | undefined;
        // The data keeps no good identity: a job's data.name, an account's email.
        if (resource?.data) resource.data = { ...(resource.data as object), name: `fuzz/${id.name}`, email: `fuzz-${id.name.length}@${FUZZ_PROJECT}.iam.gserviceaccount.com`, projectNumber: '99', projectId: FUZZ_PROJECT, url: 'https://fuzz.example', uri: 'https://fuzz.example', urls: [], httpsTrigger: {}, serviceConfig: {}, status: {}, metadata: {} };
        if (field.startsWith('resource.')) {
          if (resource && typeof resource === 'object') resource[field.slice('resource.'.length)] = value;
        } else if (value === undefined) delete v[field];
        else v[field] = value;
        return JSON.stringify(v);
      }),
    // a record of a used type with random data
    fc.tuple(fuzzName, fuzzData, fc.oneof(fc.constant(undefined), anyJson, fc.array(fc.string(), { maxLength: 4 }))).map(([id, data, ancestors]) =>
      JSON.stringify({ name: id.name, asset_type: id.type, resource: { version: 'v1', data }, ...(ancestors === undefined ? {} : { ancestors }) }),
    ),
    // an IAM-policy record with garbage bindings
    fc.tuple(fuzzName, fuzzBindings).map(([id, bindings]) => JSON.stringify({ name: id.name, asset_type: id.type, iam_policy: { bindings } })),
    // bytes that are not UTF-8 text, blanks, a lone CR
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => b.map((x) => (x === 10 ? 32 : x))),
    fc.constantFrom('', '   ', '\r', '\t', 'null', '[]', '{}', '{"name":', '}'),
  );
}

/** Good lines in order, with damaged lines dropped in at random places. */
function mixed(good: readonly string[]): fc.Arbitrary<Damaged[]> {
  return fc.array(fc.tuple(fc.nat(good.length), damagedLine(good)), { maxLength: 25 }).map((inserts) => {
    const out: Damaged[] = [...good];
    for (const [at, line] of [...inserts].sort((a, b) => b[0] - a[0])) out.splice(at, 0, line);
    return out;
  });
}

function toBytes(lines: readonly Damaged[], crlf: boolean): Buffer {
  const eol = Buffer.from(crlf ? '\r\n' : '\n');
  return Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : Buffer.from(l), eol]));
}

describe('export files with damaged records', () => {
  it('never throw, read every good record, and judge every good job as without the damage, or unverifiable', async () => {
    await fc.assert(
      fc.asyncProperty(mixed(goodResources), mixed(goodPolicies), fc.boolean(), fc.boolean(), async (resources, policies, gzip, crlf) => {
        const n = runCounter++;
        const files = [join(dir, `r${n}.ndjson${gzip ? '.gz' : ''}`), join(dir, `p${n}.ndjson`)];
        const r = toBytes(resources, crlf);
        await writeFile(files[0]!, gzip ? gzipSync(r) : r);
        await writeFile(files[1]!, toBytes(policies, crlf));
        const seen: string[] = [];
        const { byJob, summary } = await scanFindings(tap(new FileAssetSource(files), seen));

        const seenCount = new Map<string, number>();
        for (const k of seen) seenCount.set(k, (seenCount.get(k) ?? 0) + 1);
        for (const k of goodKeys) {
          const left = seenCount.get(k) ?? 0;
          expect(left, `good record ${k} was not read`).toBeGreaterThan(0);
          seenCount.set(k, left - 1);
        }
        // Damage can only take confidence away: a record that was there but cannot be read (or
        // input that cannot be tied to any asset) makes the verdicts that needed it unverifiable,
        // and never adds a pass or a fail that the undamaged input does not give.
        for (const [job, findings] of baseline) expect(asConfidentAs(byJob.get(job) ?? [], findings), job).toEqual(verdicts(findings));
        expect(summary.assetsRead).toBe(seen.length);
        for (const f of byJob.keys()) if (!baseline.has(f)) expect(f).toContain(FUZZ_PROJECT);
        await rm(files[0]!);
        await rm(files[1]!);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });

  it('judges the same with the records in any order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...goodResources, ...goodPolicies], { minLength: goodResources.length + goodPolicies.length }), async (lines) => {
        const file = join(dir, `shuffled-${runCounter++}.ndjson`);
        await writeFile(file, lines.join('\n') + '\n');
        const { byJob } = await scanFindings(new FileAssetSource([file]));
        expect(byJob).toEqual(baseline);
        await rm(file);
      }),
      { numRuns: 20, seed: SEED + 1 },
    );
  });
});
