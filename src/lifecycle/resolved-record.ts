import { z } from 'zod';
import { FINDING_SCHEMA_VERSION, SeveritySchema } from '../findings/schema.js';

export const RECORD_TYPE_RESOLVED = 'finding.resolved';

/** Why a finding was resolved: the job was judged under the rule and no longer raised it, or the job is gone. */
export const RESOLUTION_REASONS = ['no-longer-raised', 'job-deleted'] as const;
export type ResolutionReason = (typeof RESOLUTION_REASONS)[number];

/**
 * A finding an earlier scan reported that this scan judged and did not find. Its own record
 * type, beside findings in JSONL and JSON output and on Pub/Sub (`eventType=finding.resolved`),
 * so the finding schema stays strict. It carries what the state keeps of an open finding.
 */
export const ResolvedRecordSchema = z
  .object({
    recordType: z.literal(RECORD_TYPE_RESOLVED),
    schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
    lifecycle: z.literal('resolved'),
    findingId: z.string().regex(/^[0-9a-f]{32}$/),
    ruleId: z.string().regex(/^[a-z0-9-]+$/),
    severity: SeveritySchema,
    job: z
      .object({
        name: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/),
        project: z.string().min(1),
        location: z.string().min(1),
      })
      .strict(),
    firstSeenAt: z.iso.datetime(),
    resolvedAt: z.iso.datetime(),
    reason: z.enum(RESOLUTION_REASONS),
    scanId: z.string().min(1),
  })
  .strict();

export type ResolvedRecord = z.infer<typeof ResolvedRecordSchema>;

/** True for a `finding.resolved` record (by its `recordType`), false for a finding. */
export function isResolvedRecord(value: unknown): value is ResolvedRecord {
  return typeof value === 'object' && value !== null && (value as { recordType?: unknown }).recordType === RECORD_TYPE_RESOLVED;
}
