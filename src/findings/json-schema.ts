import { z } from 'zod';
import { FindingSchema } from './schema.js';

/** The finding's JSON Schema, generated from the zod schema so the two cannot drift. */
export function findingJsonSchema(): Record<string, unknown> {
  return {
    title: 'cronwarden finding, schema version 1',
    ...z.toJSONSchema(FindingSchema, { target: 'draft-2020-12' }),
  };
}
