import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The BigQuery table schema of a subscription that writes the findings topic with
 * `--use-topic-schema --write-metadata`: one column per field of the topic schema
 * (schemas/finding.proto; nested messages are RECORDs, lists REPEATED), then the metadata
 * columns. Written to schemas/cronwarden-findings.bq.json, the file docs/pubsub.md passes to
 * `bq mk`; regenerate with `npm run build && node dist/test/support/bigquery-schema.js`.
 */
export const BIGQUERY_SCHEMA_FILE = 'schemas/cronwarden-findings.bq.json';
export const TOPIC_SCHEMA_FILE = 'schemas/finding.proto';

export interface BigQueryField {
  name: string;
  type: string;
  mode?: 'REPEATED';
  fields?: BigQueryField[];
}

const SCALAR: Record<string, string> = { string: 'STRING', bool: 'BOOLEAN', int32: 'INTEGER', int64: 'INTEGER', double: 'FLOAT', bytes: 'BYTES' };

/** Columns added by write_metadata. */
const METADATA: BigQueryField[] = [
  { name: 'subscription_name', type: 'STRING' },
  { name: 'message_id', type: 'STRING' },
  { name: 'publish_time', type: 'TIMESTAMP' },
  { name: 'attributes', type: 'JSON' },
];

function fieldsOf(type: protobuf.Type): BigQueryField[] {
  return type.fieldsArray.map((f) => {
    const field: BigQueryField =
      f.resolvedType instanceof protobuf.Type
        ? { name: f.name, type: 'RECORD', fields: fieldsOf(f.resolvedType) }
        : { name: f.name, type: SCALAR[f.type] ?? `unsupported ${f.type}` };
    if (f.repeated) field.mode = 'REPEATED';
    return field;
  });
}

/** The table schema for the topic schema in `protoSource`. */
export function bigQuerySchema(protoSource: string): BigQueryField[] {
  const { root } = protobuf.parse(protoSource, { keepCase: true });
  const types = root.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  if (types.length !== 1) throw new Error(`a Pub/Sub schema has exactly one top-level type; found ${types.length}`);
  root.resolveAll();
  return [...fieldsOf(types[0]!), ...METADATA];
}

/** The file's text: one column a line at the top level, as `bq mk` users read it. */
export function bigQuerySchemaText(fields: readonly BigQueryField[]): string {
  return `${JSON.stringify(fields, null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(BIGQUERY_SCHEMA_FILE, bigQuerySchemaText(bigQuerySchema(readFileSync(TOPIC_SCHEMA_FILE, 'utf8'))));
}
