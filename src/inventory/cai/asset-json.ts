import type { protos } from '@google-cloud/asset';
import type { IamBindingJson, IamPolicyJson } from '../asset-record.js';

type IAsset = protos.google.cloud.asset.v1.IAsset;
type IStruct = protos.google.protobuf.IStruct;
type IValue = protos.google.protobuf.IValue;
type ITimestamp = protos.google.protobuf.ITimestamp;
type IPolicy = protos.google.iam.v1.IPolicy;

const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'] as const;

/**
 * A decoded `google.protobuf.Struct` (`{fields: {k: {kind: 'stringValue', stringValue: …}}}`)
 * as the plain JSON object it stands for.
 */
export function structToJson(struct: IStruct | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = struct?.fields;
  // for…in rather than Object.entries: tens of thousands of assets a scan, each a tree of Structs.
  if (fields) {
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      // `out.__proto__ = v` would set the prototype; a record may carry any key.
      if (key === '__proto__') Object.defineProperty(out, key, { value: valueToJson(fields[key]), enumerable: true, writable: true, configurable: true });
      else out[key] = valueToJson(fields[key]);
    }
  }
  return out;
}

export function valueToJson(value: IValue | null | undefined): unknown {
  if (!value) return null;
  // google-gax decodes with `oneofs: true`, which names the set member in `kind`; fall back
  // to the first member present for objects built by hand.
  const kind = (value as { kind?: string }).kind ?? VALUE_KINDS.find((k) => value[k] !== undefined && value[k] !== null);
  switch (kind) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}

/** RFC 3339 with 0, 3, 6 or 9 fractional digits, as the proto3 JSON mapping writes it. */
export function timestampToJson(ts: ITimestamp | null | undefined): string | undefined {
  if (!ts) return undefined;
  const seconds = Number(typeof ts.seconds === 'object' && ts.seconds !== null ? ts.seconds.toString() : (ts.seconds ?? 0));
  const nanos = ts.nanos ?? 0;
  if (!Number.isFinite(seconds) || (seconds === 0 && nanos === 0)) return undefined;
  const whole = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (nanos === 0) return `${whole}Z`;
  const digits = String(nanos).padStart(9, '0');
  const fraction = digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits;
  return `${whole}.${fraction}Z`;
}

function bytesToBase64(value: Uint8Array | string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  return value.length === 0 ? undefined : Buffer.from(value).toString('base64');
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An IAM `Policy` message as the REST JSON an export file holds (etag in base64). */
export function policyToJson(policy: IPolicy): IamPolicyJson {
  const out: IamPolicyJson = {};
  if (policy.version) out.version = policy.version;
  out.bindings = (policy.bindings ?? []).map((b) => {
    const binding: IamBindingJson = { role: b.role ?? '', members: [...(b.members ?? [])] };
    const c = b.condition;
    const condition: Record<string, string> = {};
    for (const key of ['expression', 'title', 'description', 'location'] as const) {
      const v = nonEmpty(c?.[key]);
      if (v !== undefined) condition[key] = v;
    }
    if (Object.keys(condition).length > 0) binding.condition = condition;
    return binding;
  });
  const etag = bytesToBase64(policy.etag);
  if (etag !== undefined) out.etag = etag;
  return out;
}

/**
 * A decoded Cloud Asset `Asset` as the camelCase JSON that `gcloud asset list --format=json`
 * prints: Struct data made plain, timestamps as strings, proto3 defaults (empty strings, null
 * messages) left out. This is the only place API data changes shape; from here on an API
 * record and an export-file record are the same thing.
 */
export function assetToJson(asset: IAsset): Record<string, unknown> {
  const out: Record<string, unknown> = { name: asset.name ?? '', assetType: asset.assetType ?? '' };
  const r = asset.resource;
  if (r) {
    const resource: Record<string, unknown> = {};
    const fields = {
      version: r.version,
      discoveryDocumentUri: r.discoveryDocumentUri,
      discoveryName: r.discoveryName,
      resourceUrl: r.resourceUrl,
      parent: r.parent,
      location: r.location,
    };
    for (const [key, value] of Object.entries(fields)) {
      const v = nonEmpty(value);
      if (v !== undefined) resource[key] = v;
    }
    if (r.data) resource.data = structToJson(r.data);
    out.resource = resource;
  }
  if (asset.iamPolicy) out.iamPolicy = policyToJson(asset.iamPolicy);
  if (asset.ancestors && asset.ancestors.length > 0) out.ancestors = [...asset.ancestors];
  const updateTime = timestampToJson(asset.updateTime);
  if (updateTime !== undefined) out.updateTime = updateTime;
  return out;
}
