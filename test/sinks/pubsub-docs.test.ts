import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { loadTopicSchema } from './proto-json.js';

interface BigQueryField {
  name: string;
  type: string;
  mode?: 'REPEATED';
  fields?: BigQueryField[];
}

const SCALAR: Record<string, string> = { string: 'STRING', bool: 'BOOLEAN', int32: 'INTEGER', int64: 'INTEGER', double: 'FLOAT', bytes: 'BYTES' };

/** The BigQuery columns a subscription with use_topic_schema writes for this message type. */
function bigQueryFields(type: protobuf.Type): BigQueryField[] {
  return type.fieldsArray.map((f) => {
    const field: BigQueryField =
      f.resolvedType instanceof protobuf.Type
        ? { name: f.name, type: 'RECORD', fields: bigQueryFields(f.resolvedType) }
        : { name: f.name, type: SCALAR[f.type] ?? `unsupported ${f.type}` };
    if (f.repeated) field.mode = 'REPEATED';
    return field;
  });
}

/** Columns added by write_metadata. */
const METADATA: BigQueryField[] = [
  { name: 'subscription_name', type: 'STRING' },
  { name: 'message_id', type: 'STRING' },
  { name: 'publish_time', type: 'TIMESTAMP' },
  { name: 'attributes', type: 'JSON' },
];

describe('docs/pubsub.md', () => {
  it('gives a BigQuery table schema that matches the topic schema, column for column', () => {
    const doc = readFileSync(new URL('../../docs/pubsub.md', import.meta.url), 'utf8');
    const block = /<!-- bigquery-table-schema -->\s*```json\n([\s\S]*?)```/.exec(doc);
    expect(block, 'the table schema block in docs/pubsub.md').not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual([...bigQueryFields(loadTopicSchema()), ...METADATA]);
  });
});
