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

const ENVELOPE_KEYS: Record<string, string> = {
  asset_type: 'assetType',
  iam_policy: 'iamPolicy',
  update_time: 'updateTime',
  org_policy: 'orgPolicy',
  access_policy: 'accessPolicy',
  access_level: 'accessLevel',
  service_perimeter: 'servicePerimeter',
  os_inventory: 'osInventory',
  related_asset: 'relatedAsset',
};

const RESOURCE_KEYS: Record<string, string> = {
  discovery_document_uri: 'discoveryDocumentUri',
  discovery_name: 'discoveryName',
  resource_url: 'resourceUrl',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function renameKeys(obj: Record<string, unknown>, map: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) out[map[key] ?? key] = value;
  return out;
}

/**
 * Validates and normalises one parsed JSON value into an AssetRecord. Only the envelope is
 * checked here; the type-specific data is checked by the model, which knows what it needs.
 */
export function toAssetRecord(value: unknown, origin: string): RecordResult {
  if (!isObject(value)) return { ok: false, problem: { origin, message: 'record is not a JSON object' } };
  const env = renameKeys(value, ENVELOPE_KEYS);
  if (typeof env.name !== 'string' || env.name === '') {
    return { ok: false, problem: { origin, message: 'asset record has no "name"' } };
  }
  if (typeof env.assetType !== 'string' || env.assetType === '') {
    return { ok: false, problem: { origin, message: `asset ${env.name} has no "asset_type"/"assetType"` } };
  }
  const record: AssetRecord = { name: env.name, assetType: env.assetType, origin };
  if (env.resource !== undefined && env.resource !== null) {
    if (!isObject(env.resource)) {
      return { ok: false, problem: { origin, message: `asset ${env.name}: "resource" is not an object` } };
    }
    const res = renameKeys(env.resource, RESOURCE_KEYS);
    record.resource = {};
    if (typeof res.version === 'string') record.resource.version = res.version;
    if (typeof res.parent === 'string') record.resource.parent = res.parent;
    if (typeof res.location === 'string') record.resource.location = res.location;
    if (res.data !== undefined && res.data !== null) {
      if (!isObject(res.data)) {
        return { ok: false, problem: { origin, message: `asset ${env.name}: "resource.data" is not an object` } };
      }
      record.resource.data = res.data;
    }
  }
  if (env.iamPolicy !== undefined && env.iamPolicy !== null) {
    if (!isObject(env.iamPolicy)) {
      return { ok: false, problem: { origin, message: `asset ${env.name}: "iam_policy" is not an object` } };
    }
    record.iamPolicy = env.iamPolicy as IamPolicyJson;
  }
  if (Array.isArray(env.ancestors) && env.ancestors.every((a) => typeof a === 'string')) {
    record.ancestors = env.ancestors as string[];
  }
  if (typeof env.updateTime === 'string') record.updateTime = env.updateTime;
  return { ok: true, record };
}
