import { z } from 'zod';
import { FINDING_SCHEMA_VERSION, SEVERITIES, STATUSES } from '../../findings/schema.js';
import { decodeFindingMessage, EVENT_FINDING, EVENT_FINDING_RESOLVED, EVENT_SCAN_COMPLETED } from './message.js';
import { ResolvedRecordSchema } from '../../lifecycle/resolved-record.js';

/**
 * What a message of one `eventType` must be before `replay-spool` publishes it: a spool file is
 * a local file anyone with access could have edited, and consumers trust the topic. A validator
 * returns what is wrong, or undefined.
 */
export type EventValidator = (data: string, attributes: Readonly<Record<string, string>>) => string | undefined;

const count = z.number().int().min(0);
const statusCounts = z.object({ fail: count, unverifiable: count, pass: count });

/** The `scan.completed` data (see scanCompletedWire); fields added later are let through. */
export const ScanCompletedWireSchema = z.object({
  schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
  scanId: z.string().min(1),
  scanCompleted: z.object({
    version: z.string(),
    startedAt: z.iso.datetime(),
    durationMs: count,
    jobsScanned: count,
    assetsRead: count,
    assetsSkippedByType: z.array(z.object({ assetType: z.string(), count })),
    rulesRun: z.array(z.string()),
    findings: z.object({
      total: count,
      byRule: z.array(statusCounts.extend({ ruleId: z.string() })),
      bySeverity: z.array(z.object({ severity: z.enum(SEVERITIES), fail: count, unverifiable: count })),
      byStatus: statusCounts,
    }),
    unreadableRecords: count,
    problems: z.array(z.object({ origin: z.string(), message: z.string() })),
    coverageGaps: z.array(z.object({ scope: z.string(), reason: z.string() })),
    coverageGapsTotal: count,
    partial: z.boolean(),
    shard: z.object({ index: count, count }).optional(),
    delivery: z.object({ findingsPublished: count, findingsSpooled: count }),
  }),
});

/** A `remediation.*` event's data (src/remediation/record-message.ts); fields added later are let through. */
const RemediationWireSchema = z.object({
  schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
  scanId: z.string().min(1),
  findingId: z.string().min(1),
  ruleId: z.string().min(1),
  remediationRecord: z.object({
    recordVersion: count,
    result: z.enum(['applied', 'skipped', 'failed']),
    reason: z.string(),
    action: z.string(),
    planId: z.string(),
    entryId: z.string(),
    job: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/),
    changeKind: z.string(),
    resource: z.string(),
    beforeJson: z.string(),
    afterJson: z.string(),
    actor: z.string(),
    at: z.iso.datetime(),
    attempts: count,
  }),
});

const zodProblem = (err: unknown): string =>
  err instanceof z.ZodError ? err.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ') : (err as Error).message;

const validators = new Map<string, EventValidator>([
  [
    EVENT_FINDING,
    (data, attributes) => {
      let finding;
      try {
        finding = decodeFindingMessage(data);
      } catch (err) {
        return `data is not a finding (${zodProblem(err)})`;
      }
      for (const key of ['findingId', 'scanId', 'ruleId', 'severity', 'status'] as const) {
        if (attributes[key] !== undefined && attributes[key] !== String(finding[key])) return `attribute ${key} does not match the finding's`;
      }
      if (!(STATUSES as readonly string[]).includes(finding.status)) return 'unknown status';
      return undefined;
    },
  ],
  [
    EVENT_SCAN_COMPLETED,
    (data, attributes) => {
      let parsed;
      try {
        parsed = ScanCompletedWireSchema.parse(JSON.parse(data));
      } catch (err) {
        return `data is not a scan.completed event (${zodProblem(err)})`;
      }
      if (attributes.scanId !== undefined && attributes.scanId !== parsed.scanId) return "attribute scanId does not match the event's";
      return undefined;
    },
  ],
  [
    EVENT_FINDING_RESOLVED,
    (data, attributes) => {
      let record;
      try {
        record = ResolvedRecordSchema.parse(JSON.parse(data));
      } catch (err) {
        return `data is not a finding.resolved record (${zodProblem(err)})`;
      }
      for (const key of ['findingId', 'scanId', 'ruleId', 'severity'] as const) {
        if (attributes[key] !== undefined && attributes[key] !== String(record[key])) return `attribute ${key} does not match the record's`;
      }
      return undefined;
    },
  ],
  ...(['applied', 'skipped', 'failed'] as const).map((result): [string, EventValidator] => [
    `remediation.${result}`,
    (data, attributes) => {
      let parsed;
      try {
        parsed = RemediationWireSchema.parse(JSON.parse(data));
      } catch (err) {
        return `data is not a remediation record (${zodProblem(err)})`;
      }
      if (parsed.remediationRecord.result !== result) return `its result is ${parsed.remediationRecord.result}, not ${result}`;
      for (const key of ['findingId', 'scanId', 'ruleId'] as const) {
        if (attributes[key] !== undefined && attributes[key] !== parsed[key]) return `attribute ${key} does not match the record's`;
      }
      return undefined;
    },
  ]),
]);

/**
 * Adds the schema of another event type (`finding.resolved`, `remediation.*`): until one is
 * registered, messages of that type are kept in the spool, never published unchecked.
 */
export function registerEventSchema(eventType: string, validator: EventValidator): void {
  validators.set(eventType, validator);
}

/** The validator of an event type, if this version knows one. */
export function eventValidator(eventType: string): EventValidator | undefined {
  return validators.get(eventType);
}
