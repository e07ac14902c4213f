import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { fail } from '../faults.js';
import { messageFromJson, timestampToJson } from '../proto-json.js';
import type { AssetStore, StoredAsset } from '../store.js';
import { delayFor, KNOWN_ASSET_TYPES, type ListingBehaviour } from '../asset-history.js';

type Json = Record<string, unknown>;

const PARENT = /^(organizations\/\d+|folders\/\d+|projects\/[^/]+)$/;
const DAY_MS = 86_400_000;
/** Clocks differ; a read time a little in the future is taken as "now". */
const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** ListAssets page tokens expire 72 hours after the first page (asset_service.proto). */
const PAGE_TOKEN_TTL_MS = 72 * 3_600_000;
const MAX_PAGE_SIZE = 1000;

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
    private readonly behaviour: ListingBehaviour = {},
    private readonly random: () => number = Math.random,
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
    // An asset type (or pattern) that names no supported type is an error, not an empty listing.
    const supported = new Set([...KNOWN_ASSET_TYPES, ...this.store.all().map((a) => a.assetType)]);
    patterns.forEach((p, i) => {
      if (![...supported].some((t) => p.test(t))) fail('INVALID_ARGUMENT', `Asset type ${assetTypes[i]} is not supported or does not match any supported asset type`);
    });
    const requestedSize = Number(req.pageSize ?? 0);
    if (!Number.isInteger(requestedSize) || requestedSize < 0 || requestedSize > MAX_PAGE_SIZE) {
      fail('INVALID_ARGUMENT', `page_size ${String(req.pageSize)} is out of range [0, ${MAX_PAGE_SIZE}]`);
    }
    const pageSize = requestedSize || 100;
    const asOf = readTime && Number(readTime.seconds ?? 0) !== 0 ? Number(readTime.seconds) * 1000 + Math.floor(Number(readTime.nanos ?? 0) / 1e6) : undefined;
    const query = `${parent}|${contentType}|${assetTypes.join(',')}|${asOf ?? ''}`;
    const queryHash = createHash('sha256').update(query).digest('hex').slice(0, 16);
    const nowMs = this.now().getTime();
    let offset = 0;
    let first = nowMs;
    let pageNumber: unknown;
    const token = String(req.pageToken ?? '');
    if (token) {
      let decoded: { q?: unknown; o?: unknown; t?: unknown; p?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { q?: unknown; o?: unknown; t?: unknown; p?: unknown };
      } catch {
        fail('INVALID_ARGUMENT', 'Invalid page token');
      }
      if (decoded.q !== queryHash || typeof decoded.o !== 'number') fail('INVALID_ARGUMENT', 'Page token does not match the request');
      if (typeof decoded.t === 'number') {
        if (nowMs - decoded.t > (this.behaviour.pageTokenTtlMs ?? PAGE_TOKEN_TTL_MS)) fail('INVALID_ARGUMENT', 'Page token has expired: list again from the first page');
        first = decoded.t;
      }
      offset = decoded.o;
      pageNumber = decoded.p;
    }
    // With history (writes through the APIs), what a listing shows depends on when it is asked
    // for and how far the index lags: such listings are built for the request, not cached.
    const timed = !this.store.history.empty;
    const at = asOf ?? nowMs;
    const matching = timed ? this.matchingAt(parent, contentType, patterns, at) : this.matching(query, parent, contentType, patterns);
    let take = pageSize;
    const rates = { empty: this.behaviour.emptyPageRate ?? 0, short: this.behaviour.shortPageRate ?? 0 };
    if (rates.empty > 0 && this.random() < rates.empty) take = 0;
    else if (rates.short > 0 && this.random() < rates.short) take = Math.floor(this.random() * pageSize);
    const end = Math.min(offset + take, matching.length);
    // Each page's token is new, even after an empty page: a cursor, not just an offset.
    const page = typeof pageNumber === 'number' ? pageNumber + 1 : 1;
    const next = end < matching.length ? Buffer.from(JSON.stringify({ q: queryHash, o: end, t: first, p: page })).toString('base64url') : '';
    const head = this.responseType.encode(
      this.responseType.fromObject({ nextPageToken: next, ...(readTime && Number(readTime.seconds ?? 0) !== 0 ? { readTime } : {}) }),
    );
    const tag = (this.responseType.fields.assets!.id << 3) | 2;
    for (const a of matching.slice(offset, end)) head.uint32(tag).bytes(timed ? this.encodeFresh(a, contentType) : this.encode(a, contentType));
    return Buffer.from(head.finish());
  }

  /** The listing as the index shows it at `at`: each asset as it was then, less its type's indexing delay. */
  private matchingAt(parent: string, contentType: string, patterns: RegExp[], at: number): StoredAsset[] {
    return this.store
      .all()
      .filter((a) => this.store.inScope(a, parent) && (patterns.length === 0 || patterns.some((p) => p.test(a.assetType))))
      .map((a) => this.store.history.at(a, at - delayFor(this.behaviour, a.assetType)))
      .filter((a) => (contentType !== 'IAM_POLICY' || a.iamPolicy !== undefined) && (contentType !== 'RESOURCE' || a.resource !== undefined));
  }

  private encodeFresh(a: StoredAsset, contentType: string): Uint8Array {
    const json: Json = { name: a.name, assetType: a.assetType };
    if (contentType === 'RESOURCE') json.resource = a.resource;
    if (contentType === 'IAM_POLICY') json.iamPolicy = a.iamPolicy;
    if (a.ancestors) json.ancestors = a.ancestors;
    if (a.updateTime) json.updateTime = a.updateTime;
    return this.assetType.encode(this.assetType.fromObject(messageFromJson(this.assetType, json)!)).finish();
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
