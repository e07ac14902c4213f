import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';
import type { IamPolicyJson } from '../../../../src/inventory/asset-record.js';
import { fail } from '../faults.js';
import { messageFromJson, messageToJson } from '../proto-json.js';
import type { AssetStore, StoredAsset } from '../store.js';
import { checkPolicyWrite, mergePolicyWrite, policyForRead, type StoredPolicy } from './policy-rules.js';

type Json = Record<string, unknown>;

/** The etag Google gives a resource that has never had a policy. */
const EMPTY_ETAG = 'ACAB';

/** Etags are bytes; compare them as bytes, whatever base64 spelling a seed file used. */
function sameEtag(a: string, b: string): boolean {
  return Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}

/**
 * Get/SetIamPolicy on the IAM policies the store holds for a kind of resource. Set is a
 * read-modify-write guarded by the etag: a stale etag gets ABORTED, as Google answers
 * concurrent changes; a missing etag overwrites. The new policy shows in later listings.
 */
export class PolicyService {
  private readonly policyType: protobuf.Type;
  private writes = 0;

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly now: () => Date = () => new Date(),
    private readonly rules: { requireEtag?: boolean } = {},
  ) {
    this.policyType = root.lookupType('google.iam.v1.Policy');
  }

  /** `request` is the GetIamPolicyRequest: its `options.requestedPolicyVersion` decides how conditions show. */
  get(resource: string, assetTypes: readonly string[], label: string, request: Json = {}): Json {
    const asset = this.lookup(resource, assetTypes, label)[0]!;
    const requested = Number((request.options as { requestedPolicyVersion?: unknown } | null | undefined)?.requestedPolicyVersion ?? 0);
    return this.encode(policyForRead((asset.iamPolicy ?? {}) as StoredPolicy, requested) as IamPolicyJson);
  }

  set(resource: string, policyMessage: Json | undefined, assetTypes: readonly string[], label: string, request: Json = {}): Json {
    if (!policyMessage) fail('INVALID_ARGUMENT', 'policy is required');
    const assets = this.lookup(resource, assetTypes, label);
    const current = assets[0]!.iamPolicy;
    const requested = (messageToJson(this.policyType, policyMessage) ?? {}) as IamPolicyJson;
    checkPolicyWrite(requested as StoredPolicy, { requireEtag: this.rules.requireEtag === true });
    const currentEtag = current?.etag ?? EMPTY_ETAG;
    if (requested.etag && !sameEtag(requested.etag, currentEtag)) {
      fail('ABORTED', 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
    }
    this.writes++;
    const paths = ((request.updateMask as { paths?: string[] } | null | undefined)?.paths ?? []).filter(Boolean);
    const merged = mergePolicyWrite(current as StoredPolicy | undefined, requested as StoredPolicy, paths);
    const etag = createHash('sha256').update(`${resource}\n${this.writes}\n${JSON.stringify(merged.bindings ?? [])}`).digest().subarray(0, 8).toString('base64');
    const stored = { ...merged, etag } as IamPolicyJson;
    for (const asset of assets) {
      this.store.beforeChange(asset);
      asset.iamPolicy = structuredClone(stored);
      this.store.touch(asset, this.now());
    }
    return this.encode(stored);
  }

  private lookup(resource: string, assetTypes: readonly string[], label: string): StoredAsset[] {
    if (!resource) fail('INVALID_ARGUMENT', 'resource is required');
    const assets = this.store.find(resource, assetTypes).filter((a) => a.resource !== undefined || a.iamPolicy !== undefined);
    if (assets.length === 0) fail('NOT_FOUND', `${label} ${resource} not found`);
    return assets;
  }

  private encode(policy: IamPolicyJson): Json {
    const audit = (policy as StoredPolicy).auditConfigs;
    return messageFromJson(this.policyType, { version: policy.version ?? 1, bindings: policy.bindings ?? [], ...(audit ? { auditConfigs: audit } : {}), etag: policy.etag ?? EMPTY_ETAG })!;
  }
}
