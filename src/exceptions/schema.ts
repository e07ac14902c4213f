import { z } from 'zod';

const required = { error: (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : undefined) };
const nonEmpty = z.string(required).trim().min(1, 'must not be empty');
const list = z.array(nonEmpty).min(1);

/** One accepted risk: which rule(s), which jobs, why, who owns it, until when. */
export const ExceptionEntrySchema = z
  .object({
    /** A name for the entry, shown in `suppression.entry` (default: `#N`, its position). */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, underscore, hyphen (1-64)').optional(),
    /** A rule id, or a list of them. */
    rule: z.union(
      [z.string().regex(/^[a-z0-9-]+$/, 'a rule id'), z.array(z.string().regex(/^[a-z0-9-]+$/, 'a rule id')).min(1)],
      { error: (iss) => (iss.input === undefined ? 'required (a rule id or a list of them)' : 'a rule id or a list of them') },
    ),
    /** What it covers; every criterion given must match, any item of a list may. */
    match: z
      .object({
        /** Globs on the job id (`nightly-*`) or, with a `/`, on the full job name (`projects/p/locations/*\/jobs/*`). */
        jobs: list.optional(),
        /** Project ids (globs allowed). */
        projects: list.optional(),
        /** Locations (globs allowed). */
        locations: list.optional(),
      })
      .strict()
      .refine((m) => m.jobs || m.projects || m.locations, 'give at least one of jobs, projects, locations: an exception never covers everything'),
    reason: nonEmpty,
    owner: nonEmpty,
    /** The last day (UTC) the entry applies, YYYY-MM-DD. */
    expires: z.iso.date({ error: (iss) => (iss.input === undefined ? 'required (the last day the exception applies, YYYY-MM-DD)' : 'a date, YYYY-MM-DD') }),
    ticket: nonEmpty.optional(),
  })
  .strict();

export const ExceptionsFileSchema = z
  .object({
    exceptions: z.array(ExceptionEntrySchema),
  })
  .strict();

export type ExceptionEntry = z.infer<typeof ExceptionEntrySchema>;
export type ExceptionsFile = z.infer<typeof ExceptionsFileSchema>;

/** The JSON Schema for editors (schemas/exceptions.schema.json), generated from the zod schema. */
export function exceptionsJsonSchema(): Record<string, unknown> {
  return {
    title: 'cronwarden exceptions file',
    ...z.toJSONSchema(ExceptionsFileSchema, { target: 'draft-2020-12', io: 'input' }),
  };
}
