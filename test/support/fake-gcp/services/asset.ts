import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';
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
  private readonly listings = new Map<string, { version: number; assets: StoredAsset[] }>();
  private readonly encoded = new Map<string, { version: number; message: Json }>();

  constructor(
    private readonly store: AssetStore,
    root: protobuf.Root,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.assetType = root.lookupType('google.cloud.asset.v1.Asset');
  }

  listAssets(req: Json): Json {
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
    const page = matching.slice(offset, offset + pageSize).map((a) => this.encode(a, contentType));
    const next = offset + pageSize < matching.length ? Buffer.from(JSON.stringify({ q: queryHash, o: offset + pageSize })).toString('base64url') : '';
    return { assets: page, nextPageToken: next, readTime: readTime && Number(readTime.seconds ?? 0) !== 0 ? readTime : undefined };
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

  private encode(a: StoredAsset, contentType: string): Json {
    const key = `${contentType}\u0000${a.assetType}\u0000${a.name}`;
    const cached = this.encoded.get(key);
    if (cached && cached.version === this.store.version) return cached.message;
    const json: Json = { name: a.name, assetType: a.assetType };
    if (contentType === 'RESOURCE') json.resource = a.resource;
    if (contentType === 'IAM_POLICY') json.iamPolicy = a.iamPolicy;
    if (a.ancestors) json.ancestors = a.ancestors;
    if (a.updateTime) json.updateTime = a.updateTime;
    const message = messageFromJson(this.assetType, json)!;
    this.encoded.set(key, { version: this.store.version, message });
    return message;
  }
}
