import { readFileSync } from 'node:fs';
import type { Finding } from '../../src/findings/schema.js';
import type { FindingSink, SinkReport } from '../../src/sinks/sink.js';
import type { FakeGroup } from '../support/fake-cloud-identity/index.js';

/** The sample organization's evidence beyond the inventory: execution log entries and Cloud Identity groups. */
export const SAMPLE_LOG_ENTRIES = 'examples/sample-org/evidence/log-entries.scheduler-executions.ndjson';
export const SAMPLE_GROUPS = 'examples/sample-org/evidence/cloud-identity-groups.json';
/** When the sample's scans happen: a day after the jobs' last attempts. */
export const SAMPLE_NOW = new Date('2026-11-30T04:00:00Z');

export function sampleLogEntries(): Record<string, unknown>[] {
  return readFileSync(SAMPLE_LOG_ENTRIES, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function sampleGroups(): { customer: string; groups: FakeGroup[] } {
  return JSON.parse(readFileSync(SAMPLE_GROUPS, 'utf8')) as { customer: string; groups: FakeGroup[] };
}

/** Keeps every finding in memory. */
export class Collect implements FindingSink {
  readonly name = 'collect';
  readonly findings: Finding[] = [];
  write(f: Finding): void {
    this.findings.push(f);
  }
  async close(): Promise<SinkReport> {
    return { sink: this.name, delivered: this.findings.length, failed: 0 };
  }
}
