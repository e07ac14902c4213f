import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/**
 * Validates JSON message data against the topic schema the way Pub/Sub's JSON encoding reads it:
 * protobufjs parses `schemas/finding.proto`; a strict walk applies the protobuf JSON mapping
 * (unknown fields refused, `null` accepted as "not set", scalar types checked), and a binary
 * round trip through protobufjs checks that nothing the scanner sends is lost on the way.
 * The emulator cannot do this: it answers UNIMPLEMENTED to Protocol Buffer schemas.
 */
export function loadTopicSchema(path = new URL('../../schemas/finding.proto', import.meta.url)): protobuf.Type {
  const source = readFileSync(path, 'utf8');
  const { root } = protobuf.parse(source, { keepCase: true });
  const types = root.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  if (types.length !== 1) throw new Error(`a Pub/Sub schema has exactly one top-level type; found ${types.length}`);
  if (/^\s*import\s/m.test(source)) throw new Error('Pub/Sub schemas cannot import other files');
  root.resolveAll();
  return types[0]!;
}

/** Problems found, by JSON path; empty when the data is valid. */
export function validateJson(type: protobuf.Type, data: string): string[] {
  const problems: string[] = [];
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    return [`not JSON: ${(err as Error).message}`];
  }
  checkMessage(type, value, '$', problems);
  if (problems.length === 0) {
    const decoded = type.toObject(type.decode(type.encode(type.fromObject(value as Record<string, unknown>)).finish()), {
      longs: Number,
      arrays: false,
      objects: false,
    });
    const expected = withoutNulls(value);
    if (JSON.stringify(sortKeys(decoded)) !== JSON.stringify(sortKeys(expected))) {
      problems.push(`binary round trip changed the message:\n  sent ${JSON.stringify(sortKeys(expected))}\n  got  ${JSON.stringify(sortKeys(decoded))}`);
    }
  }
  return problems;
}

function checkMessage(type: protobuf.Type, value: unknown, path: string, problems: string[]): void {
  if (value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: expected an object for ${type.name}, got ${describe(value)}`);
    return;
  }
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => camel(f.name) === key);
    if (!field) {
      problems.push(`${path}.${key}: no such field in ${type.name}`);
      continue;
    }
    if (seen.has(field.name)) problems.push(`${path}.${key}: field ${field.name} given twice`);
    seen.add(field.name);
    checkField(field, v, `${path}.${key}`, problems);
  }
}

function checkField(field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
  if (value === null) return;
  if (field instanceof protobuf.MapField) {
    if (typeof value !== 'object' || Array.isArray(value)) return void problems.push(`${path}: expected an object (map), got ${describe(value)}`);
    for (const [k, v] of Object.entries(value)) checkSingle(field, v, `${path}.${k}`, problems);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return void problems.push(`${path}: expected an array, got ${describe(value)}`);
    value.forEach((v, i) => {
      if (v === null) problems.push(`${path}[${i}]: null in a repeated field`);
      else checkSingle(field, v, `${path}[${i}]`, problems);
    });
    return;
  }
  checkSingle(field, value, path, problems);
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

function checkSingle(field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
  if (field.resolvedType instanceof protobuf.Type) return checkMessage(field.resolvedType, value, path, problems);
  if (field.resolvedType instanceof protobuf.Enum) {
    const e = field.resolvedType;
    if (typeof value === 'string' ? !(value in e.values) : !(typeof value === 'number' && Number.isInteger(value))) {
      problems.push(`${path}: ${describe(value)} is not a value of enum ${e.name}`);
    }
    return;
  }
  const t = field.type;
  if (t === 'string') {
    if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${describe(value)}`);
  } else if (t === 'bool') {
    if (typeof value !== 'boolean') problems.push(`${path}: expected true or false, got ${describe(value)}`);
  } else if (t === 'bytes') {
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) problems.push(`${path}: expected base64, got ${describe(value)}`);
  } else if (t === 'double' || t === 'float') {
    if (typeof value !== 'number' && !(typeof value === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(value))) {
      problems.push(`${path}: expected a number, got ${describe(value)}`);
    }
  } else if (t in INT_RANGES) {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    const [min, max] = INT_RANGES[t]!;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) problems.push(`${path}: expected ${t}, got ${describe(value)}`);
  } else {
    problems.push(`${path}: unsupported field type ${t}`);
  }
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text && text.length > 60 ? `${text.slice(0, 60)}…` : String(text);
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
