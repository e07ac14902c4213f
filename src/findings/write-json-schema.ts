import { writeFileSync } from 'node:fs';
import { findingJsonSchema } from './json-schema.js';

/** Regenerates schemas/finding.schema.json from the zod schema. */
writeFileSync('schemas/finding.schema.json', `${JSON.stringify(findingJsonSchema(), null, 2)}\n`);
