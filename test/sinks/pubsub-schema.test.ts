import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { FINDING_SCHEMA_VERSION, FindingSchema, SEVERITIES, STATUSES, TargetKindSchema, type Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import type { ScanSummary } from '../../src/scan/summary.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { decodeFindingMessage, findingMessage, scanCompletedMessage } from '../../src/sinks/pubsub-sink.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { aFinding, aSummary, someFindings } from './finding-builder.js';
import { loadTopicSchema, validateJson } from './proto-json.js';

const schema = loadTopicSchema();
const valid = (data: Buffer): string[] => validateJson(schema, data.toString('utf8'));

/** Runs the real pipeline over the bundled sample, passes included, keeping what the sink would get. */
async function sampleScan(): Promise<{ findings: Finding[]; summary: ScanSummary }> {
  const findings: Finding[] = [];
  let summary: ScanSummary | undefined;
  const capture: FindingSink = {
    name: 'capture',
    write: (f) => void findings.push(f),
    close: async (s) => {
      summary = s;
      return { sink: 'capture', delivered: findings.length, failed: 0 };
    },
  };
  await runScan({ source: new FileAssetSource(SAMPLE_FILES), rules: allRules, sinks: [capture], logger: memoryLogger(), includePasses: true });
  return { findings, summary: summary! };
}

describe('the topic schema (schemas/finding.proto)', () => {
  it('accepts every message a scan of the sample organization produces', async () => {
    const { findings, summary } = await sampleScan();
    expect(findings.length).toBeGreaterThan(10);
    for (const f of findings) {
      const m = findingMessage(f);
      expect([f.findingId, valid(m.data)]).toEqual([f.findingId, []]);
      expect(decodeFindingMessage(m.data)).toEqual(f);
    }
    expect(valid(scanCompletedMessage(summary, { findingsPublished: findings.length, findingsSpooled: 0 }).data)).toEqual([]);
  });

  it('accepts findings with nulls, nested evidence and non-ASCII text, and a sharded, partial scan.completed', () => {
    const findings = someFindings(200);
    for (const f of findings) expect(valid(findingMessage(f).data)).toEqual([]);
    const summary = aSummary(findings, {
      shard: { index: 2, count: 8 },
      coverageGaps: Array.from({ length: 1500 }, (_, i) => ({ scope: `projects/${i}`, reason: 'denied' })),
    });
    const event = scanCompletedMessage(summary, { findingsPublished: 150, findingsSpooled: 50 });
    expect(valid(event.data)).toEqual([]);
    const data = JSON.parse(event.data.toString('utf8'));
    expect(data.scanCompleted.coverageGaps).toHaveLength(1000);
    expect(data.scanCompleted.coverageGapsTotal).toBe(1500);
    expect(event.attributes).toMatchObject({ shardIndex: '2', shardCount: '8', deliveryPartial: 'true' });
  });

  it('accepts the evidence counters of a scan that read execution logs and group membership', () => {
    const summary = aSummary(someFindings(3), { evidence: { attempts: { loggingCalls: 10, refusedAttempts: 1000 }, groups: { pairs: 1240 } } });
    const event = scanCompletedMessage(summary, { findingsPublished: 3, findingsSpooled: 0 });
    expect(valid(event.data)).toEqual([]);
    expect(JSON.parse(event.data.toString('utf8')).scanCompleted.evidence).toEqual([
      { evidence: 'attempts', counter: 'loggingCalls', value: 10 },
      { evidence: 'attempts', counter: 'refusedAttempts', value: 1000 },
      { evidence: 'groups', counter: 'pairs', value: 1240 },
    ]);
  });

  it('accepts any finding the finding schema accepts (property)', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
    const segment = fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/);
    const finding = fc
      .record({
        findingId: fc.stringMatching(/^[0-9a-f]{32}$/),
        scanId: text,
        ruleId: fc.stringMatching(/^[a-z0-9-]{1,30}$/),
        status: fc.constantFrom(...STATUSES),
        severity: fc.constantFrom(...SEVERITIES),
        title: text,
        message: text,
        project: segment,
        location: segment,
        jobId: fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/),
        state: fc.string(),
        uri: fc.option(fc.webUrl(), { nil: null }),
        kind: fc.constantFrom(...TargetKindSchema.options),
        resource: fc.option(text, { nil: null }),
        url: fc.option(fc.webUrl(), { nil: null }),
        evidence: fc.dictionary(fc.string(), fc.jsonValue()),
        automaticFix: fc.boolean(),
        observedAt: fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
      })
      .map(
        (r): Finding =>
          FindingSchema.parse({
            schemaVersion: FINDING_SCHEMA_VERSION,
            findingId: r.findingId,
            scanId: r.scanId,
            ruleId: r.ruleId,
            status: r.status,
            severity: r.severity,
            title: r.title,
            message: r.message,
            job: { name: `projects/${r.project}/locations/${r.location}/jobs/${r.jobId}`, project: r.project, location: r.location, state: r.state, uri: r.uri },
            target: { kind: r.kind, resource: r.resource, url: r.url },
            evidence: r.evidence,
            remediation: { summary: r.title, automaticFix: r.automaticFix },
            observedAt: r.observedAt,
          }),
      );
    fc.assert(
      fc.property(finding, (f) => {
        const m = findingMessage(f);
        expect(valid(m.data)).toEqual([]);
        expect(decodeFindingMessage(m.data)).toEqual(JSON.parse(JSON.stringify(f)));
        expect(m.attributes.jobId).toBe(f.job.name.split('/jobs/')[1]);
      }),
      { numRuns: 300 },
    );
  });

  it('is checked by a validator that refuses what Pub/Sub would refuse', () => {
    const f = aFinding(1);
    // The finding v1 JSON as such: `evidence` is an object the schema cannot describe.
    expect(validateJson(schema, JSON.stringify(f))).toEqual([expect.stringContaining('$.evidence: no such field')]);
    const wire = JSON.parse(findingMessage(f).data.toString('utf8'));
    expect(validateJson(schema, JSON.stringify({ ...wire, schemaVersion: '1.5' }))[0]).toContain('$.schemaVersion');
    expect(validateJson(schema, JSON.stringify({ ...wire, job: { ...wire.job, uri: 42 } }))[0]).toContain('$.job.uri: expected a string');
    expect(validateJson(schema, JSON.stringify({ ...wire, remediation: { ...wire.remediation, automaticFix: 'yes' } }))[0]).toContain('automaticFix');
    expect(validateJson(schema, 'not json')[0]).toContain('not JSON');
  });
});
