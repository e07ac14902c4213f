import { FINDING_SCHEMA_VERSION, FindingSchema, SEVERITIES, STATUSES, type Finding } from '../../findings/schema.js';
import type { ScanSummary } from '../../scan/summary.js';
import { RECORD_TYPE_RESOLVED, ResolvedRecordSchema, type ResolvedRecord } from '../../lifecycle/resolved-record.js';

/** One Pub/Sub message as the client takes it. */
export interface OutgoingMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export const EVENT_FINDING = 'finding';
export const EVENT_SCAN_COMPLETED = 'scan.completed';
export const EVENT_FINDING_RESOLVED = RECORD_TYPE_RESOLVED;

/** Pub/Sub refuses attribute values over 1024 bytes; none of ours should come close. */
const MAX_ATTRIBUTE_BYTES = 1024;
/** The scan.completed event keeps at most this many coverage gaps (the total is always sent). */
export const MAX_GAPS_IN_EVENT = 1000;

/**
 * The finding as it travels on the topic: the finding v1 JSON with `evidence` (a free-form
 * object) carried as `evidenceJson`, a JSON string. Pub/Sub topic schemas cannot describe an
 * arbitrary object (no imports, so no `google.protobuf.Struct`), so the wire form makes the one
 * free-form field a string; {@link decodeFindingMessage} turns it back into a finding.
 */
export type FindingWire = Omit<Finding, 'evidence'> & { evidenceJson: string };

/** The finding in its wire form (see {@link FindingWire}). */
export function findingWire(finding: Finding): FindingWire {
  const { evidence, ...rest } = finding;
  return { ...rest, evidenceJson: JSON.stringify(evidence) };
}

/** `projects/P/locations/L/jobs/J` → `J`. */
export function jobIdOf(jobName: string): string {
  const i = jobName.lastIndexOf('/jobs/');
  return i >= 0 ? jobName.slice(i + '/jobs/'.length) : jobName;
}

/** One finding as one message: its wire JSON as data, the filterable facts as attributes. */
export function findingMessage(finding: Finding): OutgoingMessage {
  return {
    data: Buffer.from(JSON.stringify(findingWire(finding))),
    attributes: attributes({
      eventType: EVENT_FINDING,
      schemaVersion: String(finding.schemaVersion),
      findingId: finding.findingId,
      scanId: finding.scanId,
      ruleId: finding.ruleId,
      severity: finding.severity,
      status: finding.status,
      projectId: finding.job.project,
      location: finding.job.location,
      jobId: jobIdOf(finding.job.name),
      ...(finding.lifecycle ? { lifecycle: finding.lifecycle } : {}),
      // Only when true: a subscription filter keeps the rest with `NOT attributes:suppressed`.
      ...(finding.suppression ? { suppressed: 'true' } : {}),
    }),
  };
}

/** A `finding.resolved` record as one message: the record as data, the finding's routing attributes. */
export function resolvedMessage(record: ResolvedRecord): OutgoingMessage {
  return {
    data: Buffer.from(JSON.stringify(record)),
    attributes: attributes({
      eventType: EVENT_FINDING_RESOLVED,
      schemaVersion: String(record.schemaVersion),
      findingId: record.findingId,
      scanId: record.scanId,
      ruleId: record.ruleId,
      severity: record.severity,
      projectId: record.job.project,
      location: record.job.location,
      jobId: jobIdOf(record.job.name),
      lifecycle: 'resolved',
    }),
  };
}

/** Counts the sink adds to the event: how many findings reached the topic before it. */
export interface DeliveryCounts {
  findingsPublished: number;
  findingsSpooled: number;
}

/** The run summary shaped for the topic schema: lists of records instead of maps, zeros included. */
export function scanCompletedWire(summary: ScanSummary, delivery: DeliveryCounts) {
  const f = summary.findings;
  const statusCounts = (c: Partial<Record<(typeof STATUSES)[number], number>>) =>
    Object.fromEntries(STATUSES.map((s) => [s, c[s] ?? 0])) as Record<(typeof STATUSES)[number], number>;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    scanId: summary.scanId,
    scanCompleted: {
      version: summary.version,
      startedAt: summary.startedAt,
      durationMs: summary.durationMs,
      jobsScanned: summary.jobsScanned,
      assetsRead: summary.assetsRead,
      assetsSkippedByType: Object.entries(summary.assetsSkippedByType).map(([assetType, count]) => ({ assetType, count })),
      rulesRun: [...summary.rulesRun],
      findings: {
        total: f.total,
        byRule: Object.keys(f.byRule)
          .sort()
          .map((ruleId) => ({ ruleId, ...statusCounts(f.byRule[ruleId]!) })),
        bySeverity: SEVERITIES.map((severity) => ({
          severity,
          fail: f.bySeverity[severity]?.fail ?? 0,
          unverifiable: f.bySeverity[severity]?.unverifiable ?? 0,
        })),
        byStatus: statusCounts(f.byStatus),
      },
      unreadableRecords: summary.unreadableRecords,
      problems: summary.problems.map((p) => ({ origin: p.origin, message: p.message })),
      coverageGaps: summary.coverageGaps.slice(0, MAX_GAPS_IN_EVENT).map((g) => ({ scope: g.scope, reason: g.reason })),
      coverageGapsTotal: summary.coverageGaps.length,
      ruleErrors: (summary.ruleErrors ?? []).map((e) => ({ ruleId: e.ruleId, jobs: e.jobs, firstJob: e.firstJob, firstError: e.firstError })),
      partial: summary.partial,
      ...(summary.shard ? { shard: { index: summary.shard.index, count: summary.shard.count } } : {}),
      delivery,
      ...(summary.evidence
        ? { evidence: Object.entries(summary.evidence).flatMap(([evidence, counters]) => Object.entries(counters).map(([counter, value]) => ({ evidence, counter, value }))) }
        : {}),
      ...(summary.lifecycle
        ? {
            lifecycle: {
              new: summary.lifecycle.new,
              open: summary.lifecycle.open,
              reopened: summary.lifecycle.reopened,
              resolved: summary.lifecycle.resolved,
              unknown: summary.lifecycle.unknown,
              ...(summary.lifecycle.problem ? { stateProblem: summary.lifecycle.problem } : {}),
            },
          }
        : {}),
      ...(summary.exceptions
        ? {
            exceptions: {
              suppressed: summary.exceptions.suppressed,
              expired: [...summary.exceptions.expired],
              expiringSoon: [...summary.exceptions.expiringSoon],
              stale: [...summary.exceptions.stale],
            },
          }
        : {}),
    },
  };
}

/** The `scan.completed` event that ends a run's messages. */
export function scanCompletedMessage(summary: ScanSummary, delivery: DeliveryCounts): OutgoingMessage {
  const attrs: Record<string, string> = {
    eventType: EVENT_SCAN_COMPLETED,
    schemaVersion: String(FINDING_SCHEMA_VERSION),
    scanId: summary.scanId,
    version: summary.version,
    partial: String(summary.partial),
    deliveryPartial: String(delivery.findingsSpooled > 0),
  };
  if (summary.shard) {
    attrs.shardIndex = String(summary.shard.index);
    attrs.shardCount = String(summary.shard.count);
  }
  return { data: Buffer.from(JSON.stringify(scanCompletedWire(summary, delivery))), attributes: attributes(attrs) };
}

/** Turns a message's data back into a validated finding or `finding.resolved` record. */
export function decodeMessage(data: Buffer | Uint8Array | string): Finding | ResolvedRecord {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const wire = JSON.parse(text) as Record<string, unknown>;
  if (wire.recordType === RECORD_TYPE_RESOLVED) return ResolvedRecordSchema.parse(wire);
  return decodeFindingMessage(text);
}

/** Turns a finding message's data back into a validated finding (evidence restored). */
export function decodeFindingMessage(data: Buffer | Uint8Array | string): Finding {
  const wire = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as Record<string, unknown>;
  const { evidenceJson, ...rest } = wire;
  return FindingSchema.parse({ ...rest, evidence: typeof evidenceJson === 'string' ? JSON.parse(evidenceJson) : evidenceJson });
}

function attributes(values: Record<string, string>): Record<string, string> {
  for (const k in values) {
    const v = values[k]!;
    // A UTF-16 unit is at most 3 UTF-8 bytes: short values need no measuring (the common case).
    if (v.length * 3 > MAX_ATTRIBUTE_BYTES && Buffer.byteLength(v) > MAX_ATTRIBUTE_BYTES) values[k] = truncateUtf8(v, MAX_ATTRIBUTE_BYTES);
  }
  return values;
}

function truncateUtf8(value: string, maxBytes: number): string {
  let out = Buffer.from(value).subarray(0, maxBytes).toString('utf8');
  // A cut through a multi-byte character decodes to U+FFFD; drop it.
  while (Buffer.byteLength(out) > maxBytes || out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return out;
}
