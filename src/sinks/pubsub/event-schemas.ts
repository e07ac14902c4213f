import { z } from 'zod';
import { FINDING_SCHEMA_VERSION, SEVERITIES, STATUSES } from '../../findings/schema.js';
import { decodeFindingMessage, EVENT_FINDING, EVENT_FINDING_RESOLVED, EVENT_SCAN_COMPLETED, findingMessage, jobIdOf, resolvedMessage } from './message.js';
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

/**
 * Attributes are what subscriptions filter on (`NOT attributes:suppressed`, `attributes.severity`):
 * they must be exactly those the scanner makes of the data, none added, none changed, none left
 * out. A tampered `suppressed=true` on a real failure would silence its alert.
 */
function attributeProblem(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>): string | undefined {
  for (const key of Object.keys(actual)) {
    if (!Object.hasOwn(expected, key)) return `attribute ${key} is not one the scanner writes for this data`;
    if (actual[key] !== expected[key]) return `attribute ${key} does not match the data`;
  }
  for (const key of Object.keys(expected)) if (!Object.hasOwn(actual, key)) return `attribute ${key} is missing`;
  return undefined;
}

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
      if (!(STATUSES as readonly string[]).includes(finding.status)) return 'unknown status';
      return attributeProblem(attributes, findingMessage(finding).attributes);
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
      const done = parsed.scanCompleted;
      return attributeProblem(attributes, {
        eventType: EVENT_SCAN_COMPLETED,
        schemaVersion: String(parsed.schemaVersion),
        scanId: parsed.scanId,
        version: done.version,
        partial: String(done.partial),
        deliveryPartial: String(done.delivery.findingsSpooled > 0),
        ...(done.shard ? { shardIndex: String(done.shard.index), shardCount: String(done.shard.count) } : {}),
      });
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
      return attributeProblem(attributes, resolvedMessage(record).attributes);
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
      const r = parsed.remediationRecord;
      if (r.result !== result) return `its result is ${r.result}, not ${result}`;
      return attributeProblem(attributes, {
        eventType: `remediation.${result}`,
        schemaVersion: String(parsed.schemaVersion),
        scanId: parsed.scanId,
        findingId: parsed.findingId,
        ruleId: parsed.ruleId,
        planId: r.planId,
        entryId: r.entryId,
        action: r.action,
        changeKind: r.changeKind,
        projectId: /^projects\/([^/]+)/.exec(r.job)?.[1] ?? '',
        jobId: jobIdOf(r.job),
      });
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
