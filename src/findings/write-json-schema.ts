import { writeFileSync } from 'node:fs';
import { exceptionsJsonSchema } from '../exceptions/schema.js';
import { findingJsonSchema, resolvedJsonSchema } from './json-schema.js';

/** Regenerates the committed JSON Schemas from the zod schemas. */
writeFileSync('schemas/finding.schema.json', `${JSON.stringify(findingJsonSchema(), null, 2)}\n`);
writeFileSync('schemas/finding-resolved.schema.json', `${JSON.stringify(resolvedJsonSchema(), null, 2)}\n`);
writeFileSync('schemas/exceptions.schema.json', `${JSON.stringify(exceptionsJsonSchema(), null, 2)}\n`);
