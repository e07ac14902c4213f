import type { AssetRecord, IamPolicyJson } from '../../../src/inventory/asset-record.js';
import { AssetHistory } from './asset-history.js';

/** One asset as the fake keeps it: the union of its resource and IAM-policy records. */
export interface StoredAsset {
  name: string;
  assetType: string;
  resource?: NonNullable<AssetRecord['resource']> & Record<string, unknown>;
  iamPolicy?: IamPolicyJson;
  ancestors?: string[];
  updateTime?: string;
}

const PROJECT_TYPE = 'cloudresourcemanager.googleapis.com/Project';
const CONTAINER_TYPES = new Set([
  'cloudresourcemanager.googleapis.com/Organization',
  'cloudresourcemanager.googleapis.com/Folder',
  PROJECT_TYPE,
]);

function relative(name: string): string {
  return /^\/\/[^/]+\/(.*)$/.exec(name)?.[1] ?? name;
}

/**
 * The seeded organization, indexed the ways the fake's services look things up. Every change
 * bumps `version`, which invalidates cached listings and encoded messages.
 */
export class AssetStore {
  private readonly assets = new Map<string, StoredAsset>();
  private readonly byResource = new Map<string, StoredAsset[]>();
  private readonly numberById = new Map<string, string>();
  private readonly parentOf = new Map<string, string>();
  version = 0;
  /** States of assets that API writes changed, for ListAssets `read_time` and indexing delay. */
  readonly history = new AssetHistory();
  private sorted: { version: number; assets: StoredAsset[] } | undefined;
  private scopes: Set<string> | undefined;

  constructor(records: Iterable<AssetRecord>) {
    for (const r of records) this.merge(r);
    for (const a of this.assets.values()) {
      if (a.assetType === PROJECT_TYPE) {
        const data = a.resource?.data ?? {};
        const number = String(data.projectNumber ?? /^projects\/(\d+)$/.exec(relative(a.name))?.[1] ?? '');
        if (number && typeof data.projectId === 'string') this.numberById.set(data.projectId, number);
      }
      if (CONTAINER_TYPES.has(a.assetType) && a.resource?.parent) this.parentOf.set(relative(a.name), relative(a.resource.parent));
    }
    for (const a of this.assets.values()) {
      a.ancestors ??= this.deriveAncestors(a);
      const key = this.resourceKey(relative(a.name));
      const list = this.byResource.get(key) ?? [];
      list.push(a);
      this.byResource.set(key, list);
    }
  }

  /** Assets in listing order: by name, then type. */
  all(): StoredAsset[] {
    if (this.sorted?.version === this.version) return this.sorted.assets;
    const assets = [...this.assets.values()].sort((a, b) => (a.name === b.name ? a.assetType.localeCompare(b.assetType) : a.name < b.name ? -1 : 1));
    this.sorted = { version: this.version, assets };
    return assets;
  }

  size(): number {
    return this.assets.size;
  }

  /** `projects/acme-prod` → `projects/123`; other names unchanged. */
  canonicalScope(scope: string): string {
    const m = /^projects\/([^/]+)$/.exec(scope);
    if (!m || /^\d+$/.test(m[1]!)) return scope;
    const number = this.numberById.get(m[1]!);
    return number ? `projects/${number}` : scope;
  }

  /** Whether an organization, folder or project (by id or number) is in the seed at all. */
  hasScope(scope: string): boolean {
    this.scopes ??= new Set([...this.assets.values()].flatMap((a) => a.ancestors ?? []));
    return this.scopes.has(this.canonicalScope(scope));
  }

  inScope(asset: StoredAsset, scope: string): boolean {
    const canonical = this.canonicalScope(scope);
    return (asset.ancestors ?? []).includes(canonical);
  }

  /** The assets of the given types named by a relative resource name, the project given by id or number. */
  find(resourceName: string, assetTypes: readonly string[]): StoredAsset[] {
    return (this.byResource.get(this.resourceKey(resourceName)) ?? []).filter((a) => assetTypes.includes(a.assetType));
  }

  /** Call before an API write changes the asset, so history keeps what it was. */
  beforeChange(asset: StoredAsset): void {
    this.history.before(asset);
  }

  /** Records a change made through an API (UpdateJob, SetIamPolicy). */
  touch(asset: StoredAsset, now: Date): void {
    asset.updateTime = now.toISOString();
    this.history.after(asset, now.getTime());
    this.version++;
  }

  private merge(r: AssetRecord): void {
    const key = `${r.assetType}\u0000${r.name}`;
    const prev = this.assets.get(key);
    const next: StoredAsset = prev ?? { name: r.name, assetType: r.assetType };
    if (r.resource) next.resource = structuredClone(r.resource) as StoredAsset['resource'];
    if (r.iamPolicy) next.iamPolicy = structuredClone(r.iamPolicy);
    if (r.ancestors && r.ancestors.length > 0) next.ancestors = [...r.ancestors];
    if (r.updateTime && (!next.updateTime || r.updateTime > next.updateTime)) next.updateTime = r.updateTime;
    this.assets.set(key, next);
  }

  /** Projects in names are ids or numbers; index both ways by the number when it is known. */
  private resourceKey(resourceName: string): string {
    return resourceName.replace(/^projects\/([^/]+)/, (whole, p: string) => {
      const number = /^\d+$/.test(p) ? p : this.numberById.get(p);
      return number ? `projects/${number}` : whole;
    });
  }

  /** As the API fills `ancestors`: from the project in the name or `resource.parent`, up the containers. */
  private deriveAncestors(a: StoredAsset): string[] | undefined {
    const rel = relative(a.name);
    let start: string | undefined;
    if (CONTAINER_TYPES.has(a.assetType)) start = this.resourceKey(rel);
    else if (a.resource?.parent) start = this.resourceKey(relative(a.resource.parent));
    else {
      const p = /^projects\/([^/]+)/.exec(rel)?.[1];
      if (p) start = this.resourceKey(`projects/${p}`);
    }
    if (!start) return undefined;
    const chain = [start];
    for (let cur = start; this.parentOf.has(cur); ) {
      cur = this.parentOf.get(cur)!;
      if (chain.includes(cur)) break;
      chain.push(cur);
    }
    return chain;
  }
}
