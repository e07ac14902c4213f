import { z } from 'zod';

/** The plan file's format version: additive changes keep it, anything else bumps it. */
export const PLAN_VERSION = 1;
export const PLAN_KIND = 'cronwarden.remediation-plan';

/** A service account's email: letters, digits and `.`, `_`, `-` only (no spaces, commas or controls). */
const EMAIL = '[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*\\.[A-Za-z]{2,}';
const email = z.string().regex(new RegExp(`^${EMAIL}$`), 'a service account email');
const jobName = z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/, 'projects/P/locations/L/jobs/J');

export const JobAuthorizationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('oidc'), serviceAccountEmail: email, audience: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('oauth'), serviceAccountEmail: email, scope: z.string().min(1).optional() }).strict(),
]);

export const JobTokenChangeSchema = z
  .object({ kind: z.literal('job-token'), job: jobName, before: JobAuthorizationSchema, after: JobAuthorizationSchema })
  .strict();

export const IamMemberChangeSchema = z
  .object({
    kind: z.literal('iam-member'),
    api: z.enum(['run', 'functions-v1']),
    resource: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/(services|functions)\/[^/]+$/, 'a Cloud Run service or Cloud Function name'),
    role: z.enum(['roles/run.invoker', 'roles/cloudfunctions.invoker']),
    member: z.string().regex(new RegExp(`^serviceAccount:${EMAIL}$`), 'serviceAccount:EMAIL'),
    before: z.object({ memberPresent: z.literal(false) }).strict(),
    after: z.object({ memberPresent: z.literal(true) }).strict(),
  })
  .strict()
  .refine((c) => (c.api === 'run') === c.resource.includes('/services/') && (c.api === 'run') === (c.role === 'roles/run.invoker'), {
    message: 'run changes grant roles/run.invoker on a service; functions-v1 changes grant roles/cloudfunctions.invoker on a function',
  });

export const ChangeSchema = z.union([JobTokenChangeSchema, IamMemberChangeSchema]);

/** One change the plan proposes. Deleting an entry from the file withholds approval for it. */
export const PlanEntrySchema = z
  .object({
    /** Stable for the same change: `fix apply` reports by it, and records name it. */
    entryId: z.string().regex(/^[0-9a-f]{16}$/),
    findingId: z.string().regex(/^[0-9a-f]{32}$/),
    ruleId: z.string().min(1),
    job: jobName,
    why: z.string().min(1),
    change: ChangeSchema,
    /** The rule's Terraform fix: an out-of-band change to a Terraform-managed resource is reverted by the next apply. */
    terraform: z.string(),
    /** Names of the `context.assets` its re-check judges with (the target, its policies and ancestry). */
    contextAssets: z.array(z.string()).optional(),
    /** Other findings the same change fixes (jobs sharing a target and account). */
    alsoFixes: z.array(z.string()).optional(),
  })
  .strict();

/** A failing finding the plan leaves to a person, with the rule's hand fix. */
export const ManualEntrySchema = z
  .object({
    findingId: z.string(),
    ruleId: z.string(),
    job: z.string(),
    reason: z.string(),
    fix: z.object({ gcloud: z.string(), terraform: z.string() }),
  })
  .strict();

/** An asset record (Cloud Asset camelCase envelope) the re-check judges the rule with. */
const ContextAssetSchema = z
  .object({
    name: z.string(),
    assetType: z.string(),
    resource: z.record(z.string(), z.unknown()).optional(),
    iamPolicy: z.record(z.string(), z.unknown()).optional(),
    ancestors: z.array(z.string()).optional(),
  })
  .strict();

export const PlanSchema = z
  .object({
    kind: z.literal(PLAN_KIND),
    version: z.literal(PLAN_VERSION),
    planId: z.string().min(1),
    scanId: z.string().min(1),
    createdAt: z.iso.datetime(),
    /** Where the findings came from: a scan it ran, or a findings file. */
    source: z.enum(['scan', 'findings-file']),
    // One entry per change: a copied entry would be made (and counted against the cap) twice.
    changes: z.array(PlanEntrySchema).superRefine((entries, ctx) => {
      const seen = new Map<string, number>();
      for (const [i, e] of entries.entries()) {
        const first = seen.get(e.entryId);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'entryId'], message: `the same change as entry ${first} (entryId ${e.entryId}); remove one` });
        else seen.set(e.entryId, i);
      }
    }),
    manual: z.array(ManualEntrySchema),
    /**
     * What the scan knew about each change's target (its resource, policies and ancestry): the
     * re-check before a change judges the rule on the live job (and live policy) with these.
     */
    context: z.object({ assets: z.array(ContextAssetSchema) }).strict(),
  })
  .strict();

export type Plan = z.infer<typeof PlanSchema>;
export type PlanEntry = z.infer<typeof PlanEntrySchema>;
export type ManualEntry = z.infer<typeof ManualEntrySchema>;
export type ContextAsset = z.infer<typeof ContextAssetSchema>;
