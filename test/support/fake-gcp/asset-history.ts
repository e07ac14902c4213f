import type { StoredAsset } from './store.js';

type Snapshot = Pick<StoredAsset, 'resource' | 'iamPolicy' | 'updateTime'>;

function snap(asset: StoredAsset): Snapshot {
  return { resource: structuredClone(asset.resource), iamPolicy: structuredClone(asset.iamPolicy), updateTime: asset.updateTime };
}

/**
 * Timestamped states of the assets that API writes changed, so ListAssets can answer a
 * `read_time` from history and lag behind writes as Cloud Asset Inventory does (its index is
 * not the live resource; Cloud Functions data is documented to lag hours: GCP-FACTS §2).
 * Assets never changed through an API have no history: they were always as seeded.
 */
export class AssetHistory {
  private readonly entries = new Map<StoredAsset, { from: number; state: Snapshot }[]>();

  /** Call before a write changes the asset: its state until now. */
  before(asset: StoredAsset): void {
    if (!this.entries.has(asset)) this.entries.set(asset, [{ from: -Infinity, state: snap(asset) }]);
  }

  /** Call after the write: its state from `at` on. */
  after(asset: StoredAsset, at: number): void {
    const list = this.entries.get(asset) ?? [];
    list.push({ from: at, state: snap(asset) });
    this.entries.set(asset, list);
  }

  get empty(): boolean {
    return this.entries.size === 0;
  }

  /** The asset as it was at `ms`: the latest state recorded at or before then. */
  at(asset: StoredAsset, ms: number): StoredAsset {
    const list = this.entries.get(asset);
    if (!list) return asset;
    let state: Snapshot | undefined;
    for (const e of list) if (e.from <= ms) state = e.state;
    state ??= list[0]!.state;
    return { ...asset, ...state };
  }
}

/** Asset types Cloud Asset Inventory supports that the fake knows besides those it holds. */
export const KNOWN_ASSET_TYPES = [
  'cloudscheduler.googleapis.com/Job',
  'run.googleapis.com/Service',
  'run.googleapis.com/Job',
  'cloudfunctions.googleapis.com/CloudFunction',
  'cloudfunctions.googleapis.com/Function',
  'iam.googleapis.com/ServiceAccount',
  'iam.googleapis.com/Role',
  'cloudresourcemanager.googleapis.com/Organization',
  'cloudresourcemanager.googleapis.com/Folder',
  'cloudresourcemanager.googleapis.com/Project',
  'compute.googleapis.com/Instance',
  'storage.googleapis.com/Bucket',
  'pubsub.googleapis.com/Topic',
  'pubsub.googleapis.com/Subscription',
  'appengine.googleapis.com/Application',
  'workflows.googleapis.com/Workflow',
];

/** How ListAssets pages and lags: the knobs a test turns to look like Google's service on a bad day. */
export interface ListingBehaviour {
  /** Writes become visible to ListAssets this long after they happen (per asset type, `*` for the rest). */
  indexingDelayMs?: number | Record<string, number>;
  /** Share of pages cut short (fewer assets than asked for), and of pages left empty; both still carry a token. */
  shortPageRate?: number;
  emptyPageRate?: number;
  /** A page token stops being accepted this long after the first page (Google: 72 h). */
  pageTokenTtlMs?: number;
}

export function delayFor(behaviour: ListingBehaviour, assetType: string): number {
  const d = behaviour.indexingDelayMs;
  if (d === undefined) return 0;
  if (typeof d === 'number') return d;
  return d[assetType] ?? d['*'] ?? 0;
}
