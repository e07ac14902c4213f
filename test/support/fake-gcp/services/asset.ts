import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { messageFromJson, timestampToJson } from '../proto-json.js';
import type { AssetStore, StoredAsset } from '../store.js';

type Json = Record<string, unknown>;

const PARENT = /^(organizations\/\d+|folders\/\d+|projects\/[^/]+)$/;
const DAY_MS = 86_400_000;
/** Clocks differ; a read time a little in the future is taken as "now". */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * Cloud Asset `ListAssets` over the store: the parent's subtree by `ancestors`, `asset_types`
 * as anchored regular expressions (RE2 syntax is a subset of JavaScript's for these), content
 * type RESOURCE (resource only), IAM_POLICY (only assets with a policy, policy only) or none
 * (names only), pages of at most 1000 with opaque tokens tied to the query.
 */
export class AssetService {
  private readonly assetType: protobuf.Type;
  private readonly responseType: protobuf.Type;
  private readonly listings = new Map<string, { version: number; assets: StoredAsset[] }>();
  /** Each asset's wire bytes per content type: a page is then a concatenation, as cheap as Google's side should look. */
  private readonly encoded = new Map<string, { version: number; bytes: Uint8Array }>();

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.assetType = root.lookupType('google.cloud.asset.v1.Asset');
    this.responseType = root.lookupType('google.cloud.asset.v1.ListAssetsResponse');
  }

  /** Encodes every asset for both content types now, so the first listing costs no more than the next. */
  warm(): void {
    for (const a of this.store.all()) {
      if (a.resource) this.encode(a, 'RESOURCE');
      if (a.iamPolicy) this.encode(a, 'IAM_POLICY');
    }
  }

  /** The ListAssetsResponse, already serialized (see {@link preEncodedResponses}). */
  listAssets(req: Json): Buffer {
    const parent = String(req.parent ?? '');
    if (!PARENT.test(parent)) fail('INVALID_ARGUMENT', `Invalid parent "${parent}": expected organizations/N, folders/N or projects/P`);
    // Google cannot tell "no such scope" from "no access to it", and says the latter.
    if (!this.store.hasScope(parent)) fail('PERMISSION_DENIED', `The caller does not have permission on ${parent}`);
    const readTime = req.readTime as { seconds?: string; nanos?: number } | null | undefined;
    if (readTime && Number(readTime.seconds ?? 0) !== 0) {
      const ms = Number(readTime.seconds) * 1000;
      const now = this.now().getTime();
      if (ms > now + FUTURE_TOLERANCE_MS || ms < now - 35 * DAY_MS) {
        fail('INVALID_ARGUMENT', `read_time ${timestampToJson(readTime)} must be between now and 35 days ago`);
      }
    }
    const contentType = String(req.contentType ?? 'CONTENT_TYPE_UNSPECIFIED');
    const assetTypes = ((req.assetTypes as string[] | undefined) ?? []).filter(Boolean);
    let patterns: RegExp[];
    try {
      patterns = assetTypes.map((t) => new RegExp(`^(?:${t})$`));
    } catch (err) {
      fail('INVALID_ARGUMENT', `Invalid asset_types: ${(err as Error).message}`);
    }
    const pageSize = Math.min(Number(req.pageSize ?? 0) || 100, 1000);
    const query = `${parent}|${contentType}|${assetTypes.join(',')}`;
    const queryHash = createHash('sha256').update(query).digest('hex').slice(0, 16);
    let offset = 0;
    const token = String(req.pageToken ?? '');
    if (token) {
      let decoded: { q?: unknown; o?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { q?: unknown; o?: unknown };
      } catch {
        fail('INVALID_ARGUMENT', 'Invalid page token');
      }
      if (decoded.q !== queryHash || typeof decoded.o !== 'number') fail('INVALID_ARGUMENT', 'Page token does not match the request');
      offset = decoded.o;
    }
    const matching = this.matching(query, parent, contentType, patterns);
    const next = offset + pageSize < matching.length ? Buffer.from(JSON.stringify({ q: queryHash, o: offset + pageSize })).toString('base64url') : '';
    const head = this.responseType.encode(
      this.responseType.fromObject({ nextPageToken: next, ...(readTime && Number(readTime.seconds ?? 0) !== 0 ? { readTime } : {}) }),
    );
    const tag = (this.responseType.fields.assets!.id << 3) | 2;
    for (const a of matching.slice(offset, offset + pageSize)) head.uint32(tag).bytes(this.encode(a, contentType));
    return Buffer.from(head.finish());
  }

  private matching(query: string, parent: string, contentType: string, patterns: RegExp[]): StoredAsset[] {
    const cached = this.listings.get(query);
    if (cached && cached.version === this.store.version) return cached.assets;
    const assets = this.store.all().filter(
      (a) =>
        this.store.inScope(a, parent) &&
        (patterns.length === 0 || patterns.some((p) => p.test(a.assetType))) &&
        (contentType !== 'IAM_POLICY' || a.iamPolicy !== undefined) &&
        (contentType !== 'RESOURCE' || a.resource !== undefined),
    );
    this.listings.set(query, { version: this.store.version, assets });
    return assets;
  }

  private encode(a: StoredAsset, contentType: string): Uint8Array {
    const key = `${contentType}\u0000${a.assetType}\u0000${a.name}`;
    const cached = this.encoded.get(key);
    if (cached && cached.version === this.store.version) return cached.bytes;
    const json: Json = { name: a.name, assetType: a.assetType };
    if (contentType === 'RESOURCE') json.resource = a.resource;
    if (contentType === 'IAM_POLICY') json.iamPolicy = a.iamPolicy;
    if (a.ancestors) json.ancestors = a.ancestors;
    if (a.updateTime) json.updateTime = a.updateTime;
    const bytes = this.assetType.encode(this.assetType.fromObject(messageFromJson(this.assetType, json)!)).finish();
    this.encoded.set(key, { version: this.store.version, bytes });
    return bytes;
  }
}

/**
 * The service definition with ListAssets taking a serialized response as is: handlers that
 * return a Buffer skip the per-call encoding, other values are encoded as usual.
 */
export function preEncodedResponses(definition: grpc.ServiceDefinition, methods: readonly string[]): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const m of methods) {
    const method = definition[m]!;
    out[m] = { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : method.responseSerialize(value)) };
  }
  return out as grpc.ServiceDefinition;
}
