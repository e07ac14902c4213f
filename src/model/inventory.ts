import type { AssetRecord, InputProblem } from '../inventory/asset-record.js';
import { ASSET_TYPES, POLICY_ASSET_TYPES, USED_ASSET_TYPES, relativeName } from './asset-types.js';
import { checkAccess, type AccessQuery, type AccessVerdict, type PolicyStore, type ServiceAccountPlacement } from './iam.js';
import { serviceAccountProjectFromEmail } from './service-account-project.js';
import {
  parseApiResource,
  parseCustomRole,
  parseFunction,
  parseJob,
  parsePolicy,
  parseRunService,
  parseServiceAccount,
  type Parsed,
} from './parse-assets.js';
import { resolveTarget } from './targets.js';
import { deterministicRunUrl, type DeterministicUrl } from './run-urls.js';
import { parseHttpUrl } from './url.js';
import type { ApiResource, CloudFunction, CustomRole, Policy, ProjectInfo, RunService, ScheduledJob, ServiceAccount, Target } from './types.js';

export interface InventoryStats {
  assetsRead: number;
  /** Records of types the scanner does not use, by type. */
  skippedByType: Map<string, number>;
}

/**
 * Collects AssetRecords from any source, in any order, then indexes them. Resource records and
 * IAM-policy records of one asset may arrive separately; they are joined by asset name.
 */
export class InventoryBuilder {
  private readonly jobs: ScheduledJob[] = [];
  private readonly runServices: RunService[] = [];
  private readonly apiResources: ApiResource[] = [];
  private readonly functions = new Map<string, CloudFunction>();
  private readonly serviceAccounts = new Map<string, ServiceAccount>();
  private readonly roles = new Map<string, CustomRole>();
  private readonly policies = new Map<string, Policy>();
  private readonly projects = new Map<string, ProjectInfo>();
  private readonly parents = new Map<string, string>();
  private readonly ancestries = new Map<string, string[][]>();
  private readonly stats: InventoryStats = { assetsRead: 0, skippedByType: new Map() };

  /**
   * @param keepJob keeps only the jobs this task judges (by job name); the rest are parsed, so
   *   their problems are still reported, but not held.
   */
  constructor(
    private readonly onProblem: (p: InputProblem) => void,
    private readonly keepJob?: (jobName: string) => boolean,
  ) {}

  add(record: AssetRecord): void {
    this.stats.assetsRead++;
    if (record.ancestors) record.ancestors = this.intern(record.ancestors);
    const type = record.assetType;
    if (!USED_ASSET_TYPES.has(type)) {
      this.stats.skippedByType.set(type, (this.stats.skippedByType.get(type) ?? 0) + 1);
      return;
    }
    if (record.iamPolicy && POLICY_ASSET_TYPES.has(type)) {
      const parsed = parsePolicy(record.iamPolicy, record.origin, record.name);
      if (this.accept(parsed, record)) this.policies.set(record.name, parsed.value);
    }
    if (!record.resource?.data) return;
    switch (type) {
      case ASSET_TYPES.job: {
        const job = this.parseJob(record);
        if (job) this.jobs.push(job);
        break;
      }
      case ASSET_TYPES.runService: {
        const parsed = parseRunService(record);
        if (this.accept(parsed, record)) this.runServices.push(parsed.value);
        break;
      }
      case ASSET_TYPES.runJob:
      case ASSET_TYPES.workflow: {
        const parsed = parseApiResource(record, type === ASSET_TYPES.runJob ? 'run-job' : 'workflow');
        if (this.accept(parsed, record)) this.apiResources.push(parsed.value);
        break;
      }
      case ASSET_TYPES.functionV1:
      case ASSET_TYPES.functionV2: {
        const parsed = parseFunction(record, type === ASSET_TYPES.functionV1 ? 'v1' : 'v2');
        if (this.accept(parsed, record)) this.mergeFunction(parsed.value);
        break;
      }
      case ASSET_TYPES.serviceAccount: {
        const parsed = parseServiceAccount(record);
        if (this.accept(parsed, record)) this.serviceAccounts.set(parsed.value.email, parsed.value);
        break;
      }
      case ASSET_TYPES.role: {
        const parsed = parseCustomRole(record);
        if (this.accept(parsed, record)) this.roles.set(parsed.value.name, parsed.value);
        break;
      }
      case ASSET_TYPES.project:
        this.addProject(record);
        break;
      case ASSET_TYPES.folder:
        this.addParent(record);
        break;
    }
  }

  /**
   * A job record read after `finish` (deferred by the source): parsed, counted and filtered like
   * one given to `add`, and returned to be judged at once instead of held.
   */
  readDeferredJob(record: AssetRecord): ScheduledJob | undefined {
    this.stats.assetsRead++;
    if (record.assetType !== ASSET_TYPES.job) {
      this.onProblem({
        origin: record.origin,
        message: `${record.name}: read as a Scheduler job by its first keys, but its asset type is ${record.assetType}; not used`,
      });
      return undefined;
    }
    if (!record.resource?.data) return undefined; // as in add(): a name-only record carries no job
    if (record.ancestors) record.ancestors = this.intern(record.ancestors);
    return this.parseJob(record);
  }

  private parseJob(record: AssetRecord): ScheduledJob | undefined {
    const parsed = parseJob(record);
    if (!this.accept(parsed, record)) return undefined;
    return !this.keepJob || this.keepJob(parsed.value.name) ? parsed.value : undefined;
  }

  finish(): Inventory {
    return new Inventory(
      this.jobs,
      this.runServices,
      [...this.functions.values()],
      this.serviceAccounts,
      this.roles,
      this.policies,
      this.projects,
      this.parents,
      this.stats,
      this.apiResources,
    );
  }

  /** Thousands of jobs share a project's ancestry: keep one array of each, not one per job. */
  private intern(ancestors: string[]): string[] {
    // Keyed by the closest ancestor, then compared element by element: no string built per record.
    const head = ancestors[0] ?? '';
    const candidates = this.ancestries.get(head);
    if (candidates) {
      for (const known of candidates) {
        if (known.length === ancestors.length && known.every((a, i) => a === ancestors[i])) return known;
      }
      candidates.push(ancestors);
    } else {
      this.ancestries.set(head, [ancestors]);
    }
    return ancestors;
  }

  private accept<T>(parsed: Parsed<T>, record: AssetRecord): parsed is { ok: true; value: T } {
    if (!parsed.ok) {
      this.onProblem({ origin: record.origin, message: `${record.name}: ${parsed.reason}` });
      return false;
    }
    for (const w of parsed.warnings ?? []) this.onProblem({ origin: record.origin, message: w });
    return true;
  }

  /** A gen1 function appears as both CloudFunction and Function; keep the union of both. */
  private mergeFunction(fn: CloudFunction): void {
    const prev = this.functions.get(fn.name);
    this.functions.set(fn.name, prev ? { ...prev, ...fn, url: fn.url ?? prev.url, ancestors: fn.ancestors ?? prev.ancestors } : fn);
  }

  private addProject(record: AssetRecord): void {
    const data = record.resource!.data!;
    const number =
      typeof data.projectNumber === 'string' || typeof data.projectNumber === 'number'
        ? String(data.projectNumber)
        : /^projects\/(\d+)$/.exec(relativeName(record.name))?.[1];
    if (!number) {
      this.onProblem({ origin: record.origin, message: `${record.name}: project asset has no project number` });
      return;
    }
    const info: ProjectInfo = { number };
    if (typeof data.projectId === 'string') info.id = data.projectId;
    if (record.ancestors) info.ancestors = record.ancestors;
    this.projects.set(number, info);
    this.addParent(record);
  }

  /** Older exports have no `ancestors`: keep each container's parent to rebuild the chain. */
  private addParent(record: AssetRecord): void {
    const self = relativeName(record.name);
    const parent = record.resource?.parent ? relativeName(record.resource.parent) : undefined;
    if (parent) this.parents.set(self, parent);
  }
}

/** A resolved target and what the judge remembers for it: results by rule, then by the rule's memo key. */
export interface TargetEntry {
  readonly target: Target;
  readonly results: Map<object, Map<string, unknown>>;
}

/** Two resources of one name in different locations: a lookup without location finds neither. */
const AMBIGUOUS = Symbol('ambiguous');

/** Distinct job URIs remembered at once: about 130k in a synthetic organization of a million jobs. */
const MAX_CACHED_TARGETS = 1 << 18;

/** The indexed inventory: every question a rule asks is answered here, without I/O. */
export class Inventory implements PolicyStore {
  private readonly projectById = new Map<string, ProjectInfo>();
  private readonly runByHost = new Map<string, RunService>();
  private readonly runByKey = new Map<string, RunService>();
  private readonly gen2ByRunHost = new Map<string, CloudFunction>();
  private readonly gen2ByServiceKey = new Map<string, CloudFunction>();
  private readonly functionByUrlKey = new Map<string, CloudFunction>();
  private readonly apiResourceByKey = new Map<string, ApiResource | typeof AMBIGUOUS>();
  private readonly projectsWithServiceAccounts = new Set<string>();
  /** permission → resource → member → verdict; nested so that no key string is built per query. */
  private readonly accessCache = new Map<string, Map<string, Map<string, AccessVerdict>>>();
  private readonly memos = new Map<string, WeakMap<object, Map<string, unknown>>>();
  /** Resolved HTTP targets by job URI: most URIs are called by many jobs. */
  private readonly targetByUri = new Map<string, TargetEntry>();
  /** Container policies a verdict needed and the inventory lacked. */
  readonly missingPolicies = new Set<string>();
  /** Projects whose resources a verdict needed the ancestry of, and the inventory could not give it. */
  readonly unknownAncestry = new Set<string>();

  constructor(
    readonly jobs: readonly ScheduledJob[],
    readonly runServices: readonly RunService[],
    readonly functions: readonly CloudFunction[],
    private readonly serviceAccounts: ReadonlyMap<string, ServiceAccount>,
    private readonly roles: ReadonlyMap<string, CustomRole>,
    private readonly policies: ReadonlyMap<string, Policy>,
    readonly projectsByNumber: ReadonlyMap<string, ProjectInfo>,
    private readonly parents: ReadonlyMap<string, string>,
    readonly stats: InventoryStats,
    apiResources: readonly ApiResource[] = [],
  ) {
    for (const p of projectsByNumber.values()) if (p.id) this.projectById.set(p.id, p);
    for (const s of runServices) {
      this.runByKey.set(this.serviceKey(s.project, s.region, s.serviceName), s);
      for (const u of s.tagUrls ? [...s.urls, ...s.tagUrls] : s.urls) {
        const host = hostOf(u);
        if (host) this.runByHost.set(host, s);
      }
    }
    for (const f of functions) {
      if (f.url) {
        const key = functionUrlKey(f.url);
        if (key) this.functionByUrlKey.set(key, f);
      }
      if (f.generation === 'GEN_2') {
        const host = f.runUri ? hostOf(f.runUri) : undefined;
        if (host) this.gen2ByRunHost.set(host, f);
        const m = f.runServiceName ? /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/.exec(f.runServiceName) : null;
        if (m) this.gen2ByServiceKey.set(this.serviceKey(m[1]!, m[2]!, m[3]!), f);
      }
    }
    for (const sa of serviceAccounts.values()) if (sa.projectId) this.projectsWithServiceAccounts.add(sa.projectId);
    // After the projects: keys name projects by number where the inventory knows it.
    for (const r of apiResources) {
      this.apiResourceByKey.set(`${r.kind}|${this.serviceKey(r.project, r.location, r.id)}`, r);
      // The v1 Run API on the global host names no location: find the job by project and name.
      const anywhere = `${r.kind}|${this.projectNumber(r.project) ?? r.project}/*/${r.id}`;
      this.apiResourceByKey.set(anywhere, this.apiResourceByKey.has(anywhere) ? AMBIGUOUS : r);
    }
  }

  /** Project number for an id or a number; undefined when the project is not in the inventory. */
  projectNumber(project: string): string | undefined {
    if (/^\d+$/.test(project)) return this.projectsByNumber.has(project) ? project : undefined;
    return this.projectById.get(project)?.number;
  }

  projectId(project: string): string | undefined {
    if (!/^\d+$/.test(project)) return project;
    return this.projectsByNumber.get(project)?.id;
  }

  /** Key that is the same whether a name carries the project id or number. */
  serviceKey(project: string, region: string, name: string): string {
    return `${this.projectNumber(project) ?? project}/${region}/${name}`;
  }

  runServiceByKey(project: string, region: string, name: string): RunService | undefined {
    return this.runByKey.get(this.serviceKey(project, region, name));
  }
  /** The service's deterministic URL, as far as the inventory shows. */
  deterministicRunUrl(service: RunService): DeterministicUrl {
    return deterministicRunUrl(service, this.projectNumber(service.project));
  }
  /** A Cloud Run job or workflow by project (id or number), location and name; any location when `location` is undefined and one matches. */
  apiResource(kind: ApiResource['kind'], project: string, location: string | undefined, id: string): ApiResource | undefined {
    const found = this.apiResourceByKey.get(`${kind}|${location === undefined ? `${this.projectNumber(project) ?? project}/*/${id}` : this.serviceKey(project, location, id)}`);
    return found === AMBIGUOUS ? undefined : found;
  }
  runServiceByHost(host: string): RunService | undefined {
    return this.runByHost.get(host);
  }
  gen2FunctionByRunHost(host: string): CloudFunction | undefined {
    return this.gen2ByRunHost.get(host);
  }
  gen2FunctionForService(s: RunService): CloudFunction | undefined {
    return this.gen2ByServiceKey.get(this.serviceKey(s.project, s.region, s.serviceName));
  }
  functionByUrl(url: string): CloudFunction | undefined {
    const key = functionUrlKey(url);
    return key ? this.functionByUrlKey.get(key) : undefined;
  }
  runServiceOf(fn: CloudFunction): RunService | undefined {
    const m = fn.runServiceName ? /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/.exec(fn.runServiceName) : null;
    if (m) return this.runServiceByKey(m[1]!, m[2]!, m[3]!);
    const host = fn.runUri ? hostOf(fn.runUri) : undefined;
    return host ? this.runByHost.get(host) : undefined;
  }

  /** Where the job's call lands. */
  target(job: ScheduledJob): Target {
    return this.targetEntry(job).target;
  }

  /**
   * The job's target with the judge's per-target memory. An HTTP target depends only on the
   * URI, so it is resolved once per distinct URI and the same (read-only) entry is shared by the
   * jobs that call it. The cache is emptied when full, which bounds its memory (and that of the
   * results remembered on its entries) when URIs do not repeat.
   */
  targetEntry(job: ScheduledJob): TargetEntry {
    if (job.pubsubTopic !== undefined || job.appEngine || !job.http) return { target: resolveTarget(this, job), results: new Map() };
    const uri = job.http.uri;
    let entry = this.targetByUri.get(uri);
    if (entry === undefined) {
      entry = { target: resolveTarget(this, job), results: new Map() };
      if (this.targetByUri.size >= MAX_CACHED_TARGETS) this.targetByUri.clear();
      this.targetByUri.set(uri, entry);
    }
    return entry;
  }

  serviceAccount(email: string): ServiceAccount | undefined {
    return this.serviceAccounts.get(email) ?? this.serviceAccounts.get(email.toLowerCase());
  }
  /** Whether the inventory lists any service account of a project, i.e. covers that project's accounts. */
  coversServiceAccountsOf(projectId: string): boolean {
    return this.projectsWithServiceAccounts.has(projectId);
  }

  policy(assetName: string): Policy | undefined {
    const p = this.policies.get(assetName);
    if (!p && assetName.startsWith('//cloudresourcemanager.googleapis.com/')) this.missingPolicies.add(relativeName(assetName));
    return p;
  }
  customRole(name: string): CustomRole | undefined {
    return this.roles.get(name);
  }

  /** Where a service account sits, from its asset (or its email) and its project's ancestry: resolves principal sets. */
  serviceAccountPlacement(email: string): ServiceAccountPlacement {
    const asset = this.serviceAccount(email)?.projectId;
    const ref = asset !== undefined ? { projectId: asset } : serviceAccountProjectFromEmail(email);
    if (!ref) return { projectNumber: undefined, why: `the project of ${email} cannot be told from the inventory or its email` };
    const project = 'projectId' in ref ? ref.projectId : ref.projectNumber;
    const number = this.projectNumber(project);
    if (!number) return { projectNumber: undefined, why: `project ${project} of ${email} is not in the inventory` };
    const containers = this.ancestorsOf({ project: number });
    return containers ? { projectNumber: number, containers } : { projectNumber: number, containers: undefined, why: `the folders and organization above project ${project} are not known` };
  }

  /**
   * Ancestors of a resource in `project`, closest first: the asset's own list, else the
   * project's, else the chain rebuilt from containers' parents. Undefined when unknown.
   */
  ancestorsOf(resource: { project: string; ancestors?: string[] }): string[] | undefined {
    if (resource.ancestors && resource.ancestors.length > 0) return resource.ancestors;
    const number = this.projectNumber(resource.project);
    if (!number) {
      this.unknownAncestry.add(`projects/${resource.project}`);
      return undefined;
    }
    const info = this.projectsByNumber.get(number)!;
    if (info.ancestors && info.ancestors.length > 0) return info.ancestors;
    const chain = [`projects/${number}`];
    let current = chain[0]!;
    while (!current.startsWith('organizations/')) {
      const parent = this.parents.get(current);
      if (!parent || chain.includes(parent)) {
        this.unknownAncestry.add(`projects/${number}`);
        return undefined;
      }
      chain.push(parent);
      current = parent;
    }
    return chain;
  }

  /**
   * Effective IAM with a per-scan cache: many jobs share a service account and target. Callers
   * pass the resource's own ancestry, `ancestorsOf(resource)`.
   */
  access(q: AccessQuery): AccessVerdict {
    // A resource's ancestry is a function of the resource (ancestorsOf), so it is not part of the key.
    let byResource = this.accessCache.get(q.permission);
    if (!byResource) this.accessCache.set(q.permission, (byResource = new Map()));
    let byMember = byResource.get(q.resource);
    if (!byMember) byResource.set(q.resource, (byMember = new Map()));
    let verdict = byMember.get(q.member);
    if (!verdict) {
      verdict = checkAccess(this, q);
      byMember.set(q.member, verdict);
    }
    return verdict;
  }

  /**
   * Remembers a pure computation over the inventory for the rest of the scan, so a rule can
   * judge a project once rather than once per job. The value must depend only on `owner` (an
   * object the inventory shares between jobs, such as an interned ancestry) and `key`;
   * `namespace` keeps rules apart. Values are shared between jobs and must not be changed.
   * (Per-target results are remembered by the judge: see `Rule.memoKey`.)
   */
  memo<T>(namespace: string, owner: object, key: string, compute: () => T): T {
    let byOwner = this.memos.get(namespace);
    if (!byOwner) this.memos.set(namespace, (byOwner = new WeakMap()));
    let byKey = byOwner.get(owner);
    if (!byKey) byOwner.set(owner, (byKey = new Map()));
    const known = byKey.get(key);
    if (known !== undefined || byKey.has(key)) return known as T;
    const value = compute();
    byKey.set(key, value);
    return value;
  }


}

export function hostOf(url: string): string | undefined {
  return parseHttpUrl(url)?.hostname;
}

/** `host/first-path-segment`: how a cloudfunctions.net URL names its function. */
export function functionUrlKey(url: string): string | undefined {
  const u = parseHttpUrl(url);
  if (!u) return undefined;
  const slash = u.pathname.indexOf('/', 1);
  const first = slash === -1 ? u.pathname.slice(1) : u.pathname.slice(1, slash);
  return first ? `${u.hostname}/${first}` : undefined;
}
