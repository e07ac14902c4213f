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

export type RecordResult =
  | { ok: true; record: AssetRecord }
  | { ok: false; problem: InputProblem };

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
  if (typeof name !== 'string' || name === '') {
    return { ok: false, problem: { origin, message: 'asset record has no "name"' } };
  }
  const assetType = pick(value, 'assetType', 'asset_type');
  if (typeof assetType !== 'string' || assetType === '') {
    return { ok: false, problem: { origin, message: `asset ${name} has no "asset_type"/"assetType"` } };
  }
  const record: AssetRecord = { name, assetType, origin };
  const resource = value.resource;
  if (resource !== undefined && resource !== null) {
    if (!isObject(resource)) {
      return { ok: false, problem: { origin, message: `asset ${name}: "resource" is not an object` } };
    }
    record.resource = {};
    if (typeof resource.version === 'string') record.resource.version = resource.version;
    if (typeof resource.parent === 'string') record.resource.parent = resource.parent;
    if (typeof resource.location === 'string') record.resource.location = resource.location;
    const data = resource.data;
    if (data !== undefined && data !== null) {
      if (!isObject(data)) {
        return { ok: false, problem: { origin, message: `asset ${name}: "resource.data" is not an object` } };
      }
      record.resource.data = data;
    }
  }
  const iamPolicy = pick(value, 'iamPolicy', 'iam_policy');
  if (iamPolicy !== undefined && iamPolicy !== null) {
    if (!isObject(iamPolicy)) {
      return { ok: false, problem: { origin, message: `asset ${name}: "iam_policy" is not an object` } };
    }
    record.iamPolicy = iamPolicy as IamPolicyJson;
  }
  const ancestors = value.ancestors;
  if (Array.isArray(ancestors) && ancestors.every((a) => typeof a === 'string')) {
    record.ancestors = ancestors as string[];
  }
  const updateTime = pick(value, 'updateTime', 'update_time');
  if (typeof updateTime === 'string') record.updateTime = updateTime;
  return { ok: true, record };
}
