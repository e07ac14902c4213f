import type { AssetRecord, IamPolicyJson } from '../inventory/asset-record.js';
import { ASSET_TYPES, relativeName } from '../model/asset-types.js';
import type { Finding } from '../findings/schema.js';
import { liveJobRecord, livePolicyJson } from './context.js';
import { codeName, errorText, grpcCode, CODE, missingPermission, type Operation, type RemediationApis } from './google-apis.js';

type Json = Record<string, unknown>;

function clean(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return undefined;
  if (Array.isArray(value)) return value.map(clean).filter((v) => v !== undefined);
  if (typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      const c = clean(v);
      if (c !== undefined && c !== '') out[k] = c;
    }
    return out;
  }
  return value;
}

export interface LiveRead {
  records: AssetRecord[];
  /** Findings whose job or target could not be read, with why. */
  unreadable: { finding: Finding; reason: string }[];
}

/**
 * The inventory a plan from a findings file needs, read live (read-only calls): each failing
 * finding's job (GetJob), its target (Cloud Run GetService, Cloud Functions GetFunction) and the
 * target's own policy (getIamPolicy, version 3). Ancestor policies are not readable here: the
 * containers the scan checked (the finding's `evidence.checkedPolicies`) are taken as the scan saw
 * them, granting the account nothing; an ancestor grant made since is then not seen.
 */
export async function readLiveInventory(findings: readonly Finding[], apis: RemediationApis): Promise<LiveRead> {
  const records = new Map<string, AssetRecord>();
  const unreadable: LiveRead['unreadable'] = [];
  const policyRecord = (name: string, assetType: string, policy: IamPolicyJson, ancestors?: string[]) => {
    records.set(`${assetType} ${name} policy`, { name, assetType, iamPolicy: policy, ...(ancestors ? { ancestors } : {}), origin: `live getIamPolicy ${relativeName(name)}` });
  };
  for (const f of findings) {
    const step = async <T>(operation: Operation, call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (err) {
        const why = grpcCode(err) === CODE.PERMISSION_DENIED ? `${missingPermission(operation as never, errorText(err))}` : `${codeName(err)}: ${errorText(err)}`;
        throw new Error(why);
      }
    };
    try {
      const job = await step({ op: 'getJob' }, () => apis.getJob(f.job.name));
      records.set(`job ${f.job.name}`, liveJobRecord(job));
      const checked = Array.isArray(f.evidence.checkedPolicies) ? (f.evidence.checkedPolicies as string[]) : [];
      const ancestors = checked.filter((n) => n.startsWith('//cloudresourcemanager.googleapis.com/')).map(relativeName);
      for (const container of ancestors) {
        const type = container.startsWith('projects/') ? ASSET_TYPES.project : container.startsWith('folders/') ? ASSET_TYPES.folder : ASSET_TYPES.organization;
        policyRecord(`//cloudresourcemanager.googleapis.com/${container}`, type, { bindings: [] });
      }
      const anc = ancestors.length > 0 ? ancestors : undefined;
      const resource = f.target.resource;
      if (!resource) continue;
      const addService = async (name: string) => {
        const service = clean(await step({ op: 'getTarget', api: 'run' }, () => apis.getService(name))) as Json;
        const asset = `//run.googleapis.com/${name}`;
        records.set(`service ${name}`, { name: asset, assetType: ASSET_TYPES.runService, resource: { version: 'v2', data: service }, ...(anc ? { ancestors: anc } : {}), origin: `live GetService ${name}` });
        policyRecord(asset, ASSET_TYPES.runService, livePolicyJson((await step({ op: 'getPolicy', api: 'run' }, () => apis.getPolicy('run', name))) as never), anc);
      };
      if (f.target.kind === 'cloud-run') await addService(resource);
      if (f.target.kind === 'function-gen1') {
        const fn = clean(await step({ op: 'getTarget', api: 'functions' }, () => apis.getFunction('v1', resource))) as Json;
        const asset = `//cloudfunctions.googleapis.com/${resource}`;
        records.set(`fn ${resource}`, { name: asset, assetType: ASSET_TYPES.functionV1, resource: { version: 'v1', data: fn }, ...(anc ? { ancestors: anc } : {}), origin: `live GetFunction ${resource}` });
        policyRecord(asset, ASSET_TYPES.functionV1, livePolicyJson((await step({ op: 'getPolicy', api: 'functions-v1' }, () => apis.getPolicy('functions-v1', resource))) as never), anc);
      }
      if (f.target.kind === 'function-gen2') {
        const fn = clean(await step({ op: 'getTarget', api: 'functions' }, () => apis.getFunction('v2', resource))) as Json;
        records.set(`fn ${resource}`, { name: `//cloudfunctions.googleapis.com/${resource}`, assetType: ASSET_TYPES.functionV2, resource: { version: 'v2', data: fn }, ...(anc ? { ancestors: anc } : {}), origin: `live GetFunction ${resource}` });
        const service = String(((fn.serviceConfig ?? {}) as Json).service ?? '');
        if (service) await addService(service);
      }
    } catch (err) {
      unreadable.push({ finding: f, reason: (err as Error).message });
    }
  }
  return { records: [...records.values()], unreadable };
}
