import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/findings/schema.js';
import type { RecordResult } from '../../src/inventory/asset-record.js';
import { FileAssetSource, isJobRecordBytes, isJobRecordText } from '../../src/inventory/file-source.js';
import type { AssetSource } from '../../src/inventory/source.js';
import { textLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { generateSyntheticOrg } from '../../bench/synthetic-org.js';

const JOB = 'cloudscheduler.googleapis.com/Job';

describe('telling a job record from its first keys', () => {
  it('knows the envelope orders exports and listings write', () => {
    expect(isJobRecordText(`{"name":"//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/j","asset_type":"${JOB}","resource":{}}`)).toBe(true);
    expect(isJobRecordText(`{\n    "name": "//x/\\"quoted\\"",\n    "assetType": "${JOB}",\n    "resource": {}\n  }`)).toBe(true);
    expect(isJobRecordText(`{"asset_type":"${JOB}","name":"//x"}`)).toBe(true);
    // gcloud asset list --format=json sorts the keys: ancestors, assetType, name, ...
    expect(isJobRecordText(`{\n    "ancestors": [\n      "projects/1",\n      "organizations/2"\n    ],\n    "assetType": "${JOB}",\n    "name": "//x"`)).toBe(true);
    expect(isJobRecordText(`{"ancestors":[],"name":"//x","asset_type":"${JOB}"}`)).toBe(true);
  });

  it('never takes a nested mention or another type for a job', () => {
    expect(isJobRecordText(`{"name":"//run","asset_type":"run.googleapis.com/Service","related_asset":{"asset_type":"${JOB}"}}`)).toBe(false);
    expect(isJobRecordText(`{"name":"//x","resource":{"data":{"asset_type":"${JOB}"}},"asset_type":"${JOB}"}`)).toBe(false);
    expect(isJobRecordText(`{"name":"//x","asset_type":"${JOB}Other"}`)).toBe(false);
    expect(isJobRecordText(`{"ancestors":["a"],"resource":{"assetType":"${JOB}"},"assetType":"${JOB}"}`)).toBe(false);
    expect(isJobRecordText(`{"updateTime":"t","ancestors":[],"assetType":"${JOB}"}`)).toBe(false);
  });
});

describe('telling a job record from its first bytes', () => {
  const bytesSay = (text: string): boolean => {
    // Inside a larger buffer, as the reader sees it.
    const buf = Buffer.from(`xx${text}yy`, 'utf8');
    return isJobRecordBytes(buf, 2, buf.length - 2);
  };

  it('agrees with the text test, for names of any length and any characters', () => {
    const name = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ minLength: 200, maxLength: 1500 }));
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('asset_type', 'assetType'),
        fc.constantFrom(JOB, 'run.googleapis.com/Service', `${JOB}Other`),
        fc.constantFrom('', ' ', '\n  '),
        fc.constantFrom('name-first', 'type-first', 'ancestors-first'),
        (n, key, type, gap, order) => {
          const head =
            order === 'name-first'
              ? `{${gap}"name":${gap}${JSON.stringify(n)},${gap}"${key}":"${type}"`
              : order === 'type-first'
                ? `{"${key}":"${type}","name":${JSON.stringify(n)}`
                : `{${gap}"ancestors":${gap}[${gap}${JSON.stringify(n)},${gap}"organizations/1"],${gap}"${key}":"${type}"`;
          const text = `${head},"resource":{"data":{"name":"é"}}}`;
          expect(bytesSay(text)).toBe(isJobRecordText(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sees a job behind a name longer than its first look, and gives up only past the longest real name', () => {
    const record = (n: string): string => `{"name":${JSON.stringify(n)},"asset_type":"${JOB}","resource":{}}`;
    expect(bytesSay(record(`//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/${'j'.repeat(500)}`))).toBe(true);
    expect(bytesSay(record(`//x/${'é'.repeat(400)}`))).toBe(true);
    expect(bytesSay(record('x'.repeat(5000)))).toBe(false);
  });
});

/** The same files, read without deferring jobs: every job is held in the model, as before. */
function holdingEverything(paths: string[]): AssetSource {
  const inner = new FileAssetSource(paths);
  return { description: inner.description, read: (onRecord: (r: RecordResult) => void) => inner.read(onRecord) };
}

async function findingsOf(source: AssetSource): Promise<{ findings: Finding[]; summary: Awaited<ReturnType<typeof runScan>>['summary'] }> {
  const findings: Finding[] = [];
  const result = await runScan({
    source,
    rules: allRules,
    logger: textLogger('silent'),
    includePasses: true,
    sinks: [{ name: 'collect', write: (f) => void findings.push(f), close: async () => ({ sink: 'collect', delivered: 0, failed: 0 }) }],
  });
  return { findings, summary: result.summary };
}

const key = (f: Finding): string => `${f.findingId} ${f.status} ${f.severity} ${JSON.stringify(f.evidence)}`;

describe('deferred job records', () => {
  it('give the same findings and summary as holding every job', async () => {
    const deferred = await findingsOf(new FileAssetSource(SAMPLE_FILES));
    const held = await findingsOf(holdingEverything(SAMPLE_FILES));
    expect(deferred.findings.map(key).sort()).toEqual(held.findings.map(key).sort());
    const strip = ({ scanId: _s, startedAt: _t, durationMs: _d, ...rest }: typeof deferred.summary) => rest;
    expect(strip(deferred.summary)).toEqual(strip(held.summary));
    expect(deferred.summary.jobsScanned).toBe(36);
  });

  it('are held back in the first read and read later, with their lines, from plain and gzipped files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-defer-'));
    const text = readFileSync(SAMPLE_FILES[0]!, 'utf8');
    const gz = join(dir, 'resources.ndjson.gz');
    writeFileSync(gz, gzipSync(text));
    const jobLines = text.split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => l.includes(`"asset_type":"${JOB}"`)).map(([, n]) => n);
    for (const path of [SAMPLE_FILES[0]!, gz]) {
      const first: RecordResult[] = [];
      const report = await new FileAssetSource([path]).read((r) => void first.push(r), { deferJobs: true });
      expect(first.some((r) => r.ok && r.record.assetType === JOB)).toBe(false);
      expect(report.deferredJobs?.count).toBe(jobLines.length);
      const later: RecordResult[] = [];
      await report.deferredJobs!.read(async (r) => {
        await new Promise((resolve) => setImmediate(resolve));
        later.push(r);
      });
      expect(later.map((r) => (r.ok ? r.record.origin : r.problem.origin))).toEqual(jobLines.map((n) => `${path}:${n}`));
    }
  });

  it('are held back from `gcloud asset list` arrays too, whose keys come sorted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-defer-'));
    const org = await generateSyntheticOrg({ dir, projects: 3, jobs: 40, targets: 6, seed: 5, shape: 'list' });
    const first: RecordResult[] = [];
    const report = await new FileAssetSource(org.byShape.list!).read((r) => void first.push(r), { deferJobs: true });
    expect(first.filter((r) => r.ok && r.record.assetType === JOB)).toEqual([]);
    expect(report.deferredJobs?.count).toBe(40);
  });

  it('still judges a job whose name is too long to be told from its first bytes, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-defer-'));
    const long = join(dir, 'long.ndjson');
    const jobName = `projects/acme-prod/locations/europe-west1/jobs/${'j'.repeat(5000)}`;
    const data = { name: jobName, state: 'ENABLED', httpTarget: { uri: 'https://example.com/x' } };
    writeFileSync(long, JSON.stringify({ name: `//cloudscheduler.googleapis.com/${jobName}`, asset_type: JOB, resource: { data } }) + '\n');
    const first: RecordResult[] = [];
    const report = await new FileAssetSource([long]).read((r) => void first.push(r), { deferJobs: true });
    expect(report.deferredJobs).toBeUndefined();
    expect(first.filter((r) => r.ok && r.record.assetType === JOB)).toHaveLength(1);
    const { summary } = await findingsOf(new FileAssetSource([...SAMPLE_FILES, long]));
    expect(summary.jobsScanned).toBe(37);
  });

  it('names a record whose first keys say job but whose type is another, and the scan is partial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-defer-'));
    const odd = join(dir, 'odd.ndjson');
    // Duplicate keys: JSON.parse keeps the last one.
    writeFileSync(odd, `{"name":"//run.googleapis.com/projects/p/locations/l/services/s","asset_type":"${JOB}","asset_type":"run.googleapis.com/Service","resource":{"data":{}}}\n`);
    const { summary } = await findingsOf(new FileAssetSource([...SAMPLE_FILES, odd]));
    expect(summary.partial).toBe(true);
    expect(summary.problems).toEqual([
      { origin: `${odd}:1`, message: expect.stringContaining('read as a Scheduler job by its first keys, but its asset type is run.googleapis.com/Service') },
    ]);
    expect(summary.jobsScanned).toBe(36);
  });
});
