import { z } from 'zod';
import { JobAuthorizationSchema } from './plan-schema.js';

export const RECORD_VERSION = 1;
export const RECORD_KIND = 'cronwarden.remediation-record';
export const RESULTS = ['applied', 'skipped', 'failed'] as const;
export type ChangeResult = (typeof RESULTS)[number];

const RecordChangeSchema = z.union([
  z.object({ kind: z.literal('job-token'), job: z.string(), before: JobAuthorizationSchema, after: JobAuthorizationSchema }).strict(),
  z
    .object({
      kind: z.literal('iam-member'),
      api: z.enum(['run', 'functions-v1']),
      resource: z.string(),
      role: z.string(),
      member: z.string(),
      before: z.object({ memberPresent: z.boolean() }).strict(),
      after: z.object({ memberPresent: z.boolean() }).strict(),
    })
    .strict(),
]);

/**
 * What happened to one planned change (or one undo): written to the output as a JSON line, to
 * Cloud Logging as a structured entry and, with a topic, to Pub/Sub as `remediation.RESULT`.
 * `fix undo` reads these lines back.
 */
export const ChangeRecordSchema = z
  .object({
    kind: z.literal(RECORD_KIND),
    recordVersion: z.literal(RECORD_VERSION),
    result: z.enum(RESULTS),
    /** Why it was skipped or failed; for an applied change, what was verified. */
    reason: z.string(),
    /** `apply` or `undo`. */
    action: z.enum(['apply', 'undo']),
    planId: z.string(),
    entryId: z.string(),
    findingId: z.string(),
    scanId: z.string(),
    ruleId: z.string(),
    job: z.string(),
    /** The change as made: `before` is what the live API showed just before it. */
    change: RecordChangeSchema,
    terraform: z.string(),
    /** Who ran it: the Cloud Run job and execution, or the local user and host. */
    actor: z.string(),
    at: z.iso.datetime(),
    /** Write attempts, retries after a conflict or an UPDATE_FAILED job included. */
    attempts: z.number().int().min(0),
  })
  .strict();

export type ChangeRecord = z.infer<typeof ChangeRecordSchema>;
export type RecordChange = ChangeRecord['change'];
