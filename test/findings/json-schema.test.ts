import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findingJsonSchema, resolvedJsonSchema } from '../../src/findings/json-schema.js';

describe('schemas/finding.schema.json', () => {
  it('is the JSON Schema generated from the zod finding schema (regenerate with: node dist/src/findings/write-json-schema.js)', () => {
    const committed = JSON.parse(readFileSync('schemas/finding.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(findingJsonSchema());
  });
});

describe('schemas/finding-resolved.schema.json', () => {
  it('is the JSON Schema generated from the zod record schema', () => {
    const committed = JSON.parse(readFileSync('schemas/finding-resolved.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(resolvedJsonSchema());
  });
});
