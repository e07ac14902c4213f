import { z } from 'zod';
import { FindingSchema } from './schema.js';
import { ResolvedRecordSchema } from '../lifecycle/resolved-record.js';

/** The finding's JSON Schema, generated from the zod schema so the two cannot drift. */
export function findingJsonSchema(): Record<string, unknown> {
  return {
    title: 'cronwarden finding, schema version 1',
    ...z.toJSONSchema(FindingSchema, { target: 'draft-2020-12' }),
  };
}

/** The `finding.resolved` record's JSON Schema, generated the same way. */
export function resolvedJsonSchema(): Record<string, unknown> {
  return {
    title: 'cronwarden finding.resolved record, schema version 1',
    ...z.toJSONSchema(ResolvedRecordSchema, { target: 'draft-2020-12' }),
  };
}
