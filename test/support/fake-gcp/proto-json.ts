import protobuf from 'protobufjs';

/**
 * proto3 JSON (what export files and REST hold) ⇄ the plain objects @grpc/proto-loader encodes
 * and decodes (camelCase keys, enums as names, int64 as strings, bytes as Buffers, well-known
 * types as messages). Unknown JSON keys are dropped, as a server drops unknown fields.
 */

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * Sets an own property, whatever its name: `obj[key] = v` with key `__proto__` would replace
 * the prototype instead, and a record may carry any key (seeded data is not trusted).
 */
export function setOwn(obj: Json, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A message type's field by (camelCase) name; never one of Object.prototype's members (`constructor`). */
export function ownField(type: protobuf.Type, name: string): protobuf.Field | undefined {
  return Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function timestampFromJson(value: unknown): { seconds: string; nanos: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

export function timestampToJson(ts: { seconds?: unknown; nanos?: unknown } | null | undefined): string | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds ?? 0);
  const nanos = Number(ts.nanos ?? 0);
  const whole = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (nanos === 0) return `${whole}Z`;
  const digits = String(nanos).padStart(9, '0');
  const fraction = digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits;
  return `${whole}.${fraction}Z`;
}

function durationFromJson(value: unknown): { seconds: string; nanos: number } | undefined {
  const m = typeof value === 'string' ? /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(value) : null;
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
}

function durationToJson(d: { seconds?: unknown; nanos?: unknown }): string {
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (nanos === 0) return `${seconds}s`;
  return `${seconds}.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}s`;
}

export function valueFromJson(value: unknown): Json {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(valueFromJson) } };
  return { structValue: structFromJson(value as Json) };
}

export function structFromJson(json: Json): Json {
  const fields: Json = {};
  for (const [k, v] of Object.entries(json)) setOwn(fields, k, valueFromJson(v));
  return { fields };
}

export function valueToJson(value: Json | null | undefined): unknown {
  if (!value) return null;
  const kind = (value.kind as string | undefined) ?? ['numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'].find((k) => value[k] !== undefined && value[k] !== null);
  switch (kind) {
    case 'numberValue':
    case 'stringValue':
    case 'boolValue':
      return value[kind];
    case 'structValue':
      return structToJson(value.structValue as Json);
    case 'listValue':
      return ((value.listValue as Json | undefined)?.values as Json[] | undefined ?? []).map(valueToJson);
    default:
      return null;
  }
}

export function structToJson(struct: Json | null | undefined): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries((struct?.fields as Json | undefined) ?? {})) setOwn(out, k, valueToJson(v as Json));
  return out;
}

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

function fullName(type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '');
}

function scalarFromJson(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof value === 'number') return field.resolvedType.valuesById[value] ?? value;
    return typeof value === 'string' && value in field.resolvedType.values ? value : undefined;
  }
  if (field.resolvedType instanceof protobuf.Type) return isObject(value) || typeof value === 'string' ? messageFromJson(field.resolvedType, value) : undefined;
  switch (field.type) {
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64':
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    default:
      return typeof value === 'number' ? value : typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : undefined;
  }
}

/** A proto3-JSON value (snake or camel keys) as a message object for `type`. */
export function messageFromJson(type: protobuf.Type, json: unknown): Json | undefined {
  switch (fullName(type)) {
    case 'google.protobuf.Timestamp':
      return timestampFromJson(json);
    case 'google.protobuf.Duration':
      return durationFromJson(json);
    case 'google.protobuf.Struct':
      return isObject(json) ? structFromJson(json) : undefined;
    case 'google.protobuf.Value':
      return valueFromJson(json);
    case 'google.protobuf.ListValue':
      return Array.isArray(json) ? { values: json.map(valueFromJson) } : undefined;
    case 'google.protobuf.FieldMask':
      return typeof json === 'string' ? { paths: json.split(',').filter(Boolean) } : undefined;
    case 'google.protobuf.Any':
      return undefined;
  }
  if (WRAPPERS.has(fullName(type))) {
    const inner = scalarFromJson(type.fields.value!, json);
    return inner === undefined ? undefined : { value: inner };
  }
  if (!isObject(json)) return undefined;
  const out: Json = {};
  for (const [rawKey, value] of Object.entries(json)) {
    const field = ownField(type, camel(rawKey));
    if (!field || value === null || value === undefined) continue;
    field.resolve();
    if (field.map) {
      if (!isObject(value)) continue;
      const map: Json = {};
      for (const [k, v] of Object.entries(value)) {
        const converted = scalarFromJson(field, v);
        if (converted !== undefined) setOwn(map, k, converted);
      }
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value)) continue;
      out[field.name] = value.map((v) => scalarFromJson(field, v)).filter((v) => v !== undefined);
    } else {
      const converted = scalarFromJson(field, value);
      if (converted !== undefined) out[field.name] = converted;
    }
  }
  return out;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (field.resolvedType instanceof protobuf.Enum) return value === 0 || value === field.resolvedType.valuesById[0];
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.length === 0;
  return value === '' || value === 0 || value === '0' || value === false;
}

function scalarToJson(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return typeof value === 'number' ? (field.resolvedType.valuesById[value] ?? value) : value;
  if (field.resolvedType instanceof protobuf.Type) return messageToJson(field.resolvedType, value as Json);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/** A decoded message object (defaults filled in or not) as proto3 JSON, defaults left out. */
export function messageToJson(type: protobuf.Type, message: Json | null | undefined): unknown {
  if (!message) return undefined;
  switch (fullName(type)) {
    case 'google.protobuf.Timestamp':
      return timestampToJson(message);
    case 'google.protobuf.Duration':
      return durationToJson(message);
    case 'google.protobuf.Struct':
      return structToJson(message);
    case 'google.protobuf.Value':
      return valueToJson(message);
    case 'google.protobuf.ListValue':
      return ((message.values as Json[] | undefined) ?? []).map(valueToJson);
    case 'google.protobuf.FieldMask':
      return ((message.paths as string[] | undefined) ?? []).join(',');
    case 'google.protobuf.Any':
      return undefined;
  }
  if (WRAPPERS.has(fullName(type))) return scalarToJson(type.fields.value!, message.value);
  const out: Json = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const value = message[field.name];
    if (field.map) {
      if (!isObject(value) || Object.keys(value).length === 0) continue;
      const map: Json = {};
      for (const [k, v] of Object.entries(value)) setOwn(map, k, scalarToJson(field, v));
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      out[field.name] = value.map((v) => scalarToJson(field, v));
    } else if (!isDefault(field, value)) {
      const converted = scalarToJson(field, value);
      if (converted !== undefined) out[field.name] = converted;
    }
  }
  return out;
}
