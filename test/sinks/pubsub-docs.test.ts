import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIGQUERY_SCHEMA_FILE, bigQuerySchema, bigQuerySchemaText, TOPIC_SCHEMA_FILE } from '../support/bigquery-schema.js';

describe('docs/pubsub.md', () => {
  const doc = readFileSync(new URL('../../docs/pubsub.md', import.meta.url), 'utf8');
  const generated = bigQuerySchema(readFileSync(TOPIC_SCHEMA_FILE, 'utf8'));

  it(`${BIGQUERY_SCHEMA_FILE}, the file bq mk is given, is the table schema of the topic schema (regenerate: npm run build && node dist/test/support/bigquery-schema.js)`, () => {
    expect(readFileSync(BIGQUERY_SCHEMA_FILE, 'utf8')).toBe(bigQuerySchemaText(generated));
    const bqMk = /bq mk --table --schema=(\S+)/.exec(doc);
    expect(bqMk?.[1]).toBe(BIGQUERY_SCHEMA_FILE);
  });

  it('shows that table schema, column for column', () => {
    const block = /<!-- bigquery-table-schema -->\s*```json\n([\s\S]*?)```/.exec(doc);
    expect(block, 'the table schema block in docs/pubsub.md').not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(generated);
  });
});

/**
 * Whether a documented example matches a real value: `…` stands for any string, or, as the last
 * item of a list, for the items the example leaves out; a shorter list of records than the real
 * one (said to be shortened) must hold records that are all in it; `volatile` keys may differ.
 */
function exampleMismatches(example: unknown, actual: unknown, path = '$', volatile = new Set<string>()): string[] {
  if (example === '…') return [];
  if (Array.isArray(example)) {
    if (!Array.isArray(actual)) return [`${path}: not a list`];
    if (example.at(-1) === '…') {
      const head = example.slice(0, -1);
      return head.flatMap((e, i) => exampleMismatches(e, actual[i], `${path}[${i}]`, volatile));
    }
    if (example.length < actual.length) {
      return example.flatMap((e, i) => (actual.some((a) => exampleMismatches(e, a, '', volatile).length === 0) ? [] : [`${path}[${i}]: ${JSON.stringify(e)} is in no real item`]));
    }
    if (example.length !== actual.length) return [`${path}: ${example.length} items, the real list has ${actual.length}`];
    return example.flatMap((e, i) => exampleMismatches(e, actual[i], `${path}[${i}]`, volatile));
  }
  if (example !== null && typeof example === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${path}: not an object`];
    const keys = new Set([...Object.keys(example), ...Object.keys(actual)]);
    return [...keys].flatMap((k) => {
      if (volatile.has(k)) return typeof (example as Record<string, unknown>)[k] === typeof (actual as Record<string, unknown>)[k] ? [] : [`${path}.${k}: of another type`];
      return exampleMismatches((example as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k], `${path}.${k}`, volatile);
    });
  }
  return example === actual ? [] : [`${path}: the docs say ${JSON.stringify(example)}, a scan of the sample gives ${JSON.stringify(actual)}`];
}

describe('the scan.completed example of docs/pubsub.md', () => {
  it('is what a scan of the bundled sample publishes (scan id, start and duration aside)', async () => {
    const doc = readFileSync(new URL('../../docs/pubsub.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Data of `scan.completed`'));
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as unknown;
    const { runScan } = await import('../../src/scan/run-scan.js');
    const { FileAssetSource } = await import('../../src/inventory/file-source.js');
    const { allRules } = await import('../../rules/index.js');
    const { memoryLogger } = await import('../../src/log/logger.js');
    const { scanCompletedWire } = await import('../../src/sinks/pubsub/message.js');
    const { SAMPLE_FILES } = await import('../support/cli-harness.js');
    const { summary } = await runScan({ source: new FileAssetSource(SAMPLE_FILES), rules: allRules, sinks: [], logger: memoryLogger() });
    // Every fail and unverifiable finding is published before the summary.
    const published = (summary.findings.byStatus.fail ?? 0) + (summary.findings.byStatus.unverifiable ?? 0);
    const actual = scanCompletedWire(summary, { findingsPublished: published, findingsSpooled: 0 });
    expect(exampleMismatches(example, actual, '$', new Set(['scanId', 'startedAt', 'durationMs']))).toEqual([]);
  });
});
