import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetRecord, InputProblem, RecordResult } from '../../src/inventory/asset-record.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import type { SourceReport } from '../../src/inventory/source.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-file-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(paths: string[]): Promise<{ records: AssetRecord[]; problems: InputProblem[]; report: SourceReport }> {
  const records: AssetRecord[] = [];
  const problems: InputProblem[] = [];
  const report = await new FileAssetSource(paths).read((r: RecordResult) => {
    if (r.ok) records.push(r.record);
    else problems.push(r.problem);
  });
  return { records, problems, report };
}

const JOB_DATA = {
  name: 'projects/acme-prod/locations/europe-west1/jobs/nightly',
  state: 'ENABLED',
  httpTarget: {
    uri: 'https://report-abc123-ew.a.run.app/run',
    httpMethod: 'POST',
    oidcToken: { serviceAccountEmail: 'sched@acme-prod.iam.gserviceaccount.com' },
  },
};

/** An export line: snake_case envelope, camelCase data (GCP-FACTS §11). */
const exportJob = {
  name: '//cloudscheduler.googleapis.com/projects/acme-prod/locations/europe-west1/jobs/nightly',
  asset_type: 'cloudscheduler.googleapis.com/Job',
  resource: {
    version: 'v1',
    discovery_document_uri: 'https://cloudscheduler.googleapis.com/$discovery/rest?version=v1',
    discovery_name: 'Job',
    parent: '//cloudresourcemanager.googleapis.com/projects/123456789012',
    location: 'europe-west1',
    data: JOB_DATA,
  },
  ancestors: ['projects/123456789012', 'folders/42', 'organizations/7'],
  update_time: '2026-05-01T10:00:00Z',
};
const exportPolicy = {
  name: '//run.googleapis.com/projects/acme-prod/locations/europe-west1/services/report',
  asset_type: 'run.googleapis.com/Service',
  iam_policy: {
    bindings: [{ role: 'roles/run.invoker', members: ['serviceAccount:sched@acme-prod.iam.gserviceaccount.com'] }],
    etag: 'BwX=',
  },
  ancestors: ['projects/123456789012', 'folders/42', 'organizations/7'],
  update_time: '2026-05-01T10:00:00Z',
};
/** A list element: camelCase envelope. */
const listJob = {
  name: exportJob.name,
  assetType: exportJob.asset_type,
  resource: { version: 'v1', discoveryDocumentUri: exportJob.resource.discovery_document_uri, location: 'europe-west1', data: JOB_DATA },
  ancestors: exportJob.ancestors,
  updateTime: '2026-05-01T10:00:00Z',
};
const listPolicy = {
  name: exportPolicy.name,
  assetType: exportPolicy.asset_type,
  iamPolicy: exportPolicy.iam_policy,
  ancestors: exportPolicy.ancestors,
};

const ndjson = (values: unknown[]): string => values.map((v) => JSON.stringify(v)).join('\n') + '\n';

function expectNormalised(records: AssetRecord[]): void {
  expect(records).toHaveLength(2);
  const [job, policy] = records as [AssetRecord, AssetRecord];
  expect(job).toMatchObject({
    name: exportJob.name,
    assetType: 'cloudscheduler.googleapis.com/Job',
    resource: { version: 'v1', location: 'europe-west1', data: JOB_DATA },
    ancestors: exportJob.ancestors,
    updateTime: '2026-05-01T10:00:00Z',
  });
  expect(policy).toMatchObject({ assetType: 'run.googleapis.com/Service', iamPolicy: exportPolicy.iam_policy });
}

describe('FileAssetSource: shapes', () => {
  it('reads a `gcloud asset export` NDJSON file with a snake_case envelope', async () => {
    const path = await file('export.ndjson', ndjson([exportJob, exportPolicy]));
    const { records, problems, report } = await readAll([path]);
    expect(problems).toEqual([]);
    expectNormalised(records);
    expect(records.map((r) => r.origin)).toEqual([`${path}:1`, `${path}:2`]);
    expect(report).toMatchObject({ records: 2, problemCount: 0, problems: [] });
  });

  it('reads a pretty-printed `gcloud asset list --format=json` array with a camelCase envelope', async () => {
    const path = await file('list.json', JSON.stringify([listJob, listPolicy], null, 2) + '\n');
    const { records, problems } = await readAll([path]);
    expect(problems).toEqual([]);
    expectNormalised(records);
    expect(records[0]!.origin).toBe(`${path}:2`);
  });

  it('reads NDJSON of list elements and an array behind leading blank lines', async () => {
    const a = await file('list.ndjson', ndjson([listJob, listPolicy]));
    const b = await file('padded.json', '\n\n  ' + JSON.stringify([listJob, listPolicy]));
    const { records, problems } = await readAll([a, b]);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(4);
    expect(records[2]!.origin).toBe(`${b}:3`);
  });

  it('reads gzipped files of both shapes', async () => {
    const a = await file('export.ndjson.gz', gzipSync(ndjson([exportJob, exportPolicy])));
    const b = await file('list.json.gz', gzipSync(JSON.stringify([listJob, listPolicy], null, 2)));
    const { records, problems } = await readAll([a, b]);
    expect(problems).toEqual([]);
    expectNormalised(records.slice(0, 2));
    expectNormalised(records.slice(2));
  });

  it('counts lines right when the file starts with more blank text than one chunk', async () => {
    const text = '\n'.repeat(100_000) + '{"name": oops}\n' + JSON.stringify(exportJob) + '\n';
    const a = await file('blank-start.ndjson', text);
    const b = await file('blank-start.ndjson.gz', gzipSync(text));
    const { records, problems } = await readAll([a, b]);
    expect(records.map((r) => r.origin)).toEqual([`${a}:100002`, `${b}:100002`]);
    expect(problems.map((p) => p.origin)).toEqual([`${a}:100001`, `${b}:100001`]);
  });

  it('takes a file that starts with a byte-order mark', async () => {
    const a = await file('bom.ndjson', '\uFEFF' + ndjson([exportJob, exportPolicy]));
    const b = await file('bom.json', '\uFEFF' + JSON.stringify([listJob, listPolicy]));
    const { records, problems } = await readAll([a, b]);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(4);
  });

  it('reads an empty NDJSON file as no records and no problem', async () => {
    const path = await file('empty.ndjson', '');
    expect(await readAll([path])).toMatchObject({ records: [], problems: [] });
  });
});

describe('FileAssetSource: problems are named and reading goes on', () => {
  it('names a missing file and a directory, then reads the next file', async () => {
    const missing = join(dir, 'no-such-file.ndjson');
    const sub = join(dir, 'a-directory');
    await mkdir(sub, { recursive: true });
    const good = await file('good.ndjson', ndjson([exportJob]));
    const { records, problems, report } = await readAll([missing, sub, good]);
    expect(problems).toEqual([
      { origin: missing, message: 'file does not exist' },
      { origin: sub, message: 'is a directory, not a file' },
    ]);
    expect(records).toHaveLength(1);
    expect(report).toMatchObject({ records: 1, problemCount: 2 });
  });

  it('names a line that is not JSON by file:line and reads the lines after it', async () => {
    const path = await file(
      'bad-line.ndjson',
      [JSON.stringify(exportJob), '{"name": "//x", "asset_type": ', 'not json at all', JSON.stringify(exportPolicy), ''].join('\n'),
    );
    const { records, problems } = await readAll([path]);
    expect(records.map((r) => r.origin)).toEqual([`${path}:1`, `${path}:4`]);
    expect(problems.map((p) => p.origin)).toEqual([`${path}:2`, `${path}:3`]);
    for (const p of problems) expect(p.message).toMatch(/^not valid JSON/);
  });

  it('names records without a name, without a type, or with a wrong envelope, and goes on', async () => {
    const path = await file(
      'bad-envelope.ndjson',
      ndjson([
        { asset_type: 'cloudscheduler.googleapis.com/Job', resource: { data: JOB_DATA } },
        { name: '//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/j', resource: { data: JOB_DATA } },
        { name: 42, asset_type: 'run.googleapis.com/Service' },
        { name: '//x', asset_type: 'run.googleapis.com/Service', resource: 'text' },
        { name: '//x', asset_type: 'run.googleapis.com/Service', resource: { data: [1, 2] } },
        { name: '//x', asset_type: 'run.googleapis.com/Service', iam_policy: 'none' },
        [1, 2, 3],
        'a string',
        exportJob,
      ]),
    );
    const { records, problems, report } = await readAll([path]);
    expect(problems.map((p) => [p.origin.slice(path.length), p.message])).toEqual([
      [':1', 'asset record has no "name"'],
      [':2', 'asset //cloudscheduler.googleapis.com/projects/p/locations/l/jobs/j has no "asset_type"/"assetType"'],
      [':3', 'asset record has no "name"'],
      [':4', 'asset //x: "resource" is not an object'],
      [':5', 'asset //x: "resource.data" is not an object'],
      [':6', 'asset //x: "iam_policy" is not an object'],
      [':7', 'record is not a JSON object'],
      [':8', 'record is not a JSON object'],
    ]);
    expect(records.map((r) => r.origin)).toEqual([`${path}:9`]);
    expect(report).toMatchObject({ records: 1, problemCount: 8 });
  });

  it('reports a truncated array after reading the records before the cut', async () => {
    const whole = JSON.stringify([listJob, listPolicy, listJob], null, 2);
    const path = await file('truncated.json', whole.slice(0, whole.lastIndexOf('"ancestors"')));
    const { records, problems } = await readAll([path]);
    expect(records).toHaveLength(2);
    expect(problems).toHaveLength(2);
    expect(problems[0]!.message).toMatch(/^not valid JSON/);
    expect(problems[1]!.message).toMatch(/not closed/);
    for (const p of problems) expect(p.origin).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+$`));
  });

  it('reports text after a multi-line array and keeps the records of the array', async () => {
    const path = await file('trailing.json', JSON.stringify([listJob], null, 2) + '\n' + JSON.stringify([listPolicy]));
    const { records, problems } = await readAll([path]);
    expect(records).toHaveLength(1);
    expect(problems).toEqual([{ origin: `${path}:${JSON.stringify([listJob], null, 2).split('\n').length + 1}`, message: 'text after the end of the JSON array' }]);
  });

  it('reads an NDJSON file whose first line was damaged into an array', async () => {
    const damaged = await file('damaged-first.ndjson', ['[null, 1]', JSON.stringify(exportJob), JSON.stringify(exportPolicy)].join('\n'));
    const oneLineArray = await file('one-line-array.ndjson', ['[{"a": 1}]', JSON.stringify(exportJob)].join('\n'));
    const { records, problems } = await readAll([damaged, oneLineArray]);
    expect(records.map((r) => r.origin)).toEqual([`${damaged}:2`, `${damaged}:3`, `${oneLineArray}:2`]);
    expect(problems).toEqual([
      { origin: `${damaged}:1`, message: 'record is not a JSON object' },
      { origin: `${oneLineArray}:1`, message: 'asset record has no "name"' },
    ]);
  });

  it('reports a file that is only an opening bracket as an unclosed array', async () => {
    const path = await file('bracket.json', '[\n');
    const { records, problems } = await readAll([path]);
    expect(records).toEqual([]);
    expect(problems).toEqual([{ origin: `${path}:2`, message: 'the JSON array is not closed (truncated file?)' }]);
  });

  it('tells gzip by its content, not its name', async () => {
    const plainNamedGz = await file('plain.ndjson.gz', ndjson([exportJob]));
    const gzipNamedPlain = await file('zipped.ndjson', gzipSync(ndjson([exportPolicy])));
    const { records, problems } = await readAll([plainNamedGz, gzipNamedPlain]);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.origin)).toEqual([`${plainNamedGz}:1`, `${gzipNamedPlain}:1`]);
  });

  it('names damaged gzip data, keeping the records read before the damage', async () => {
    const zipped = gzipSync(ndjson(Array.from({ length: 2000 }, () => exportJob)));
    const cut = await file('cut.ndjson.gz', zipped.subarray(0, Math.floor(zipped.length * 0.8)));
    const corrupt = Buffer.from(zipped);
    corrupt.fill(0x55, 200, 400);
    const damaged = await file('damaged.ndjson.gz', corrupt);
    const good = await file('after.ndjson', ndjson([exportPolicy]));
    const { records, problems } = await readAll([cut, damaged, good]);
    expect(problems.filter((p) => p.origin === cut)).toEqual([{ origin: cut, message: 'gzip data ends early (truncated file?)' }]);
    expect(problems.find((p) => p.origin === damaged)).toMatchObject({ message: expect.stringMatching(/gzip/) });
    expect(records.filter((r) => r.origin.startsWith(`${cut}:`)).length).toBeGreaterThan(100);
    expect(records.at(-1)!.origin).toBe(`${good}:1`);
  });

  it('keeps the first problems verbatim and counts the rest', async () => {
    const path = await file('many-bad.ndjson', 'x\n'.repeat(1500));
    const { problems, report } = await readAll([path]);
    expect(problems).toHaveLength(1500);
    expect(report.problemCount).toBe(1500);
    expect(report.problems).toHaveLength(1000);
  });
});
