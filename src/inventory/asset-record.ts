/**
 * The one shape every inventory source produces: a Cloud Asset Inventory `Asset`, with
 * envelope keys normalised to camelCase (export files use snake_case, `gcloud asset list`
 * and the API use camelCase) and `resource.data` left as the service's REST JSON.
 */
export interface AssetRecord {
  name: string;
  assetType: string;
  resource?: {
    version?: string;
    parent?: string;
    location?: string;
    data?: Record<string, unknown>;
  };
  iamPolicy?: IamPolicyJson;
  ancestors?: string[];
  updateTime?: string;
  /** Where the record came from, for error messages: `file:line` or an API scope. */
  origin: string;
}

export interface IamBindingJson {
  role: string;
  members: string[];
  condition?: { expression?: string; title?: string } | null;
}

export interface IamPolicyJson {
  bindings?: IamBindingJson[];
  etag?: string;
  version?: number;
}

/** A record or a piece of one that could not be used, kept for the summary and stderr. */
export interface InputProblem {
  origin: string;
  message: string;
}

/** What kind of content a record carries: CAI exports one content type per record. */
export type ContentKind = 'resource' | 'iam-policy';

/**
 * Who an unreadable record was, as far as it could be told: the model must know that a policy,
 * account or role is present but unreadable, rather than take it for absent. `kind` is missing
 * when the record was cut off before its content key.
 */
export interface RecordIdentity {
  /** Empty when the record has no name: then only its type is known. */
  name: string;
  assetType: string;
  kind?: ContentKind;
  updateTime?: string;
}

export type RecordResult =
  | { ok: true; record: AssetRecord }
  | { ok: false; problem: InputProblem; identity?: RecordIdentity };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An envelope key in either spelling: camelCase (API, `gcloud asset list`) or snake_case (exports). */
function pick(obj: Record<string, unknown>, camel: string, snake: string): unknown {
  const v = obj[camel];
  return v === undefined ? obj[snake] : v;
}

/**
 * Validates and normalises one parsed JSON value into an AssetRecord. Only the envelope is
 * checked here; the type-specific data is checked by the model, which knows what it needs.
 * Keys are read in place in both spellings: copying every envelope to rename keys showed in
 * profiles of million-job scans.
 */
export function toAssetRecord(value: unknown, origin: string): RecordResult {
  if (!isObject(value)) return { ok: false, problem: { origin, message: 'record is not a JSON object' } };
  const name = value.name;
  const assetType = pick(value, 'assetType', 'asset_type');
  if (typeof name !== 'string' || name === '') {
    const problem = { origin, message: 'asset record has no "name"' };
    // Its type still says whether any verdict could have needed it (an empty name: not which asset).
    return typeof assetType === 'string' && assetType !== '' ? { ok: false, problem, identity: { name: '', assetType } } : { ok: false, problem };
  }
  if (typeof assetType !== 'string' || assetType === '') {
    return { ok: false, problem: { origin, message: `asset ${name} has no "asset_type"/"assetType"` } };
  }
  const record: AssetRecord = { name, assetType, origin };
  const rawUpdateTime = pick(value, 'updateTime', 'update_time');
  const resource = value.resource;
  if (resource !== undefined && resource !== null) {
    if (!isObject(resource)) return unreadableRecord(name, assetType, 'resource', rawUpdateTime, origin, `asset ${name}: "resource" is not an object`);
    record.resource = {};
    if (typeof resource.version === 'string') record.resource.version = resource.version;
    if (typeof resource.parent === 'string') record.resource.parent = resource.parent;
    if (typeof resource.location === 'string') record.resource.location = resource.location;
    const data = resource.data;
    if (data !== undefined && data !== null) {
      if (!isObject(data)) return unreadableRecord(name, assetType, 'resource', rawUpdateTime, origin, `asset ${name}: "resource.data" is not an object`);
      record.resource.data = data;
    }
  }
  const iamPolicy = pick(value, 'iamPolicy', 'iam_policy');
  if (iamPolicy !== undefined && iamPolicy !== null) {
    if (!isObject(iamPolicy)) return unreadableRecord(name, assetType, 'iam-policy', rawUpdateTime, origin, `asset ${name}: "iam_policy" is not an object`);
    record.iamPolicy = iamPolicy as IamPolicyJson;
  }
  const ancestors = value.ancestors;
  if (Array.isArray(ancestors) && ancestors.every((a) => typeof a === 'string')) {
    record.ancestors = ancestors as string[];
  }
  if (typeof rawUpdateTime === 'string') record.updateTime = rawUpdateTime;
  if (assetType === JOB_ASSET_TYPE && !record.resource?.data && !record.iamPolicy) {
    // A job is only ever exported with its resource: one without it cannot be judged and must not pass for "no job".
    return unreadableRecord(
      name,
      assetType,
      'resource',
      rawUpdateTime,
      origin,
      `job ${name} has no ${record.resource ? '"resource.data"' : '"resource"'} (export jobs with --content-type=resource); not judged`,
    );
  }
  return { ok: true, record };
}

const JOB_ASSET_TYPE = 'cloudscheduler.googleapis.com/Job';

function unreadableRecord(name: string, assetType: string, kind: ContentKind, updateTime: unknown, origin: string, message: string): RecordResult {
  return { ok: false, problem: { origin, message }, identity: { name, assetType, kind, ...(typeof updateTime === 'string' ? { updateTime } : {}) } };
}

/**
 * The name, asset type, content kind and update time of a record that is not valid JSON (a
 * truncated line, a stray byte), read from its top-level keys as far as they go. A record cut
 * off is a prefix of its JSON: scanning its structure from the start finds the keys written
 * before the cut. Undefined when the name or the asset type is not there.
 */
export function salvageIdentity(text: string): RecordIdentity | undefined {
  const top = new Map<string, string | true>(); // a Map: a hostile record may have a `__proto__` key
  let depth = 0;
  let i = 0;
  const n = Math.min(text.length, 1 << 20);
  let expectKey = false;
  let pendingKey: string | undefined;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (j >= n) break;
      const raw = text.slice(i + 1, j);
      let str: string;
      try {
        str = JSON.parse(`"${raw}"`) as string;
      } catch {
        return undefined;
      }
      if (depth === 1 && expectKey) {
        pendingKey = str;
        expectKey = false;
      } else if (depth === 1 && pendingKey !== undefined) {
        top.set(pendingKey, str);
        pendingKey = undefined;
      }
      i = j + 1;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth === 1 && pendingKey !== undefined) {
        top.set(pendingKey, true);
        pendingKey = undefined;
      }
      depth++;
      if (depth === 1) expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      depth--;
    } else if (c === 44 /* , */ && depth === 1) {
      expectKey = true;
      pendingKey = undefined;
    } else if (depth === 1 && pendingKey !== undefined && c !== 58 && c !== 32 && c !== 9 && c !== 10 && c !== 13) {
      top.set(pendingKey, true); // a number, true, false or null
      pendingKey = undefined;
    }
    i++;
  }
  if (pendingKey !== undefined) top.set(pendingKey, true); // cut off right after the key
  const name = top.get('name');
  const assetType = top.get('asset_type') ?? top.get('assetType');
  if (typeof name !== 'string' || name === '' || typeof assetType !== 'string' || assetType === '') return undefined;
  const identity: RecordIdentity = { name, assetType };
  if (top.has('iam_policy') || top.has('iamPolicy')) identity.kind = 'iam-policy';
  else if (top.has('resource')) identity.kind = 'resource';
  const updateTime = top.get('update_time') ?? top.get('updateTime');
  if (typeof updateTime === 'string') identity.updateTime = updateTime;
  return identity;
}
