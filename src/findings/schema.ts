import { z } from 'zod';

export const FINDING_SCHEMA_VERSION = 1;

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const STATUSES = ['fail', 'unverifiable', 'pass'] as const;
export const StatusSchema = z.enum(STATUSES);
export type Status = z.infer<typeof StatusSchema>;

/** Rank for `--fail-on` and sorting: critical is 0. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export const TargetKindSchema = z.enum([
  'cloud-run',
  'function-gen1',
  'function-gen2',
  'unknown-run',
  'unknown-function',
  'google-api',
  'app-engine',
  'pubsub',
  'external',
  'invalid-uri',
]);

/**
 * The finding, version 1. Additive changes keep the version; renaming or removing a field,
 * or changing a field's meaning, bumps it. Documented field by field in the README.
 */
export const FindingSchema = z
  .object({
    schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
    findingId: z.string().regex(/^[0-9a-f]{32}$/),
    scanId: z.string().min(1),
    ruleId: z.string().regex(/^[a-z0-9-]+$/),
    status: StatusSchema,
    severity: SeveritySchema,
    title: z.string().min(1),
    message: z.string().min(1),
    job: z.object({
      name: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/),
      project: z.string().min(1),
      location: z.string().min(1),
      state: z.string(),
      uri: z.string().nullable(),
    }),
    target: z.object({
      kind: TargetKindSchema,
      resource: z.string().nullable(),
      url: z.string().nullable(),
    }),
    evidence: z.record(z.string(), z.unknown()),
    remediation: z.object({
      summary: z.string().min(1),
      automaticFix: z.boolean(),
      /** Shell commands for this job, every value filled in (fail and unverifiable findings). */
      commands: z.array(z.string().min(1)).optional(),
      /** Terraform for the same change, where the rule has one. */
      terraform: z.string().min(1).optional(),
      /** The rule's documentation. */
      docsUrl: z.string().url().optional(),
    }),
    observedAt: z.iso.datetime(),
    /** With a state store (`--state`): new, open (seen by the previous scan too), reopened, or unknown (the state could not be read). */
    lifecycle: z.enum(['new', 'open', 'reopened', 'unknown']).optional(),
    /** With a state store: when the finding's current open period began. */
    firstSeenAt: z.iso.datetime().optional(),
    /** Present when an exception entry covers the finding: it is still reported, not counted for --fail-on. */
    suppression: z
      .object({
        reason: z.string().min(1),
        owner: z.string().min(1),
        /** The last day (UTC) the exception applies, YYYY-MM-DD. */
        expires: z.iso.date(),
        ticket: z.string().min(1).optional(),
        /** Which exception entry: its `id`, or `#N` (1-based position in the file). */
        entry: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Finding = z.infer<typeof FindingSchema>;
