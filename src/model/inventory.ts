import { MemoSpace } from './memo-space.js';
import type { AssetRecord, ContentKind, InputProblem, RecordIdentity } from '../inventory/asset-record.js';
import { compareUpdateTimes } from './update-time.js';
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
  /** Scheduler job records in the input, readable or not, before any task sharding: 0 means no job at all. */
  jobRecords: number;
  /** Records of types the scanner does not use, by type. */
  skippedByType: Map<string, number>;
}

/** A record present in the input but unreadable: what would have been known is unknown. */
export interface UnreadableRecord {
  origin: string;
  message: string;
  updateTime?: string;
}

/** Two records of one (asset type, name, content kind): one is used, the other dropped. */
export interface DuplicateRecord {
  assetType: string;
  name: string;
  kind: ContentKind;
  kept: string;
  dropped: string;
  /** `newer`: the kept one has the later update_time; `first-read`: a tie or a missing update_time. */
  why: 'newer' | 'first-read';
}

/** Input that could not be read and cannot be tied to an asset: any record may have been in it. */
export interface UnattributedDamage {
  count: number;
  first: InputProblem[];
}

const MAX_DAMAGE_KEPT = 10;

/**
 * Collects AssetRecords from any source, in any order, then indexes them. Resource records and
 * IAM-policy records of one asset may arrive separately; they are joined by asset name.
 */
export class InventoryBuilder {
  private readonly jobs: ScheduledJob[] = [];
  private readonly runServices = new Map<string, RunService>();
  private readonly apiResources = new Map<string, ApiResource>();
  private readonly functions = new Map<string, CloudFunction>();
  private readonly serviceAccounts = new Map<string, ServiceAccount>();
  private readonly roles = new Map<string, CustomRole>();
  private readonly policies = new Map<string, Policy>();
  private readonly projects = new Map<string, ProjectInfo>();
  private readonly parents = new Map<string, string>();
  private readonly ancestries = new Map<string, string[][]>();
  private readonly stats: InventoryStats = { assetsRead: 0, jobRecords: 0, skippedByType: new Map() };
  /** The record used for each (type, name, kind), to resolve duplicates. */
  private readonly used = new Map<string, { origin: string; updateTime?: string }>();
  private readonly unreadable = new Map<string, UnreadableRecord & { assetType: string; name: string; kind: ContentKind }>();
  private readonly damage: UnattributedDamage = { count: 0, first: [] };
  private readonly serviceAccountByAsset = new Map<string, string>();

  /**
   * @param keepJob keeps only the jobs this task judges (by job name); the rest are parsed, so
   *   their problems are still reported, but not held.
   */
  constructor(
    private readonly onProblem: (p: InputProblem) => void,
    private readonly keepJob?: (jobName: string) => boolean,
    private readonly onDuplicate: (d: DuplicateRecord) => void = () => undefined,
  ) {}

  /**
   * A record the source could not read. With its identity, the model knows that asset's policy,
   * account or role is present but unknown; without one, any record may have been in it.
   */
  addUnreadable(problem: InputProblem, identity?: RecordIdentity): void {
    if (!identity) {
      this.damage.count++;
      if (this.damage.first.length < MAX_DAMAGE_KEPT) this.damage.first.push(problem);
      return;
    }
    if (identity.assetType === ASSET_TYPES.job) {
      this.stats.jobRecords++;
      return; // an unreadable job is not judged; it changes no other verdict
    }
    if (!USED_ASSET_TYPES.has(identity.assetType)) return;
    if (identity.name === '') {
      this.damage.count++;
      if (this.damage.first.length < MAX_DAMAGE_KEPT) this.damage.first.push(problem);
      return;
    }
    // Cut off before its content key: it may have been either.
    const kinds: ContentKind[] = identity.kind ? [identity.kind] : POLICY_ASSET_TYPES.has(identity.assetType) ? ['resource', 'iam-policy'] : ['resource'];
    for (const kind of kinds) this.markUnreadable(identity.assetType, identity.name, kind, problem, identity.updateTime);
  }

  private markUnreadable(assetType: string, name: string, kind: ContentKind, problem: InputProblem, updateTime?: string): void {
    const key = contentKey(assetType, name, kind);
    const prev = this.unreadable.get(key);
    // Of two unreadable records, keep the newer for comparison with a readable one.
    if (prev && !(updateTime && prev.updateTime && (compareUpdateTimes(updateTime, prev.updateTime) ?? 0) > 0)) return;
    this.unreadable.set(key, { assetType, name, kind, origin: problem.origin, message: problem.message, ...(updateTime ? { updateTime } : {}) });
  }

  /**
   * Whether this record of (type, name, kind) is the one to use: the first read, unless it is
   * older than this one. A record that loses is reported, never used.
   */
  private wins(record: AssetRecord, kind: ContentKind): boolean {
    const key = contentKey(record.assetType, record.name, kind);
    const prev = this.used.get(key);
    const mine = record.updateTime ? { origin: record.origin, updateTime: record.updateTime } : { origin: record.origin };
    if (!prev) {
      this.used.set(key, mine);
      return true;
    }
    const order = record.updateTime && prev.updateTime ? compareUpdateTimes(record.updateTime, prev.updateTime) : undefined;
    const base = { assetType: record.assetType, name: record.name, kind };
    if (order !== undefined && order > 0) {
      this.used.set(key, mine);
      this.onDuplicate({ ...base, kept: record.origin, dropped: prev.origin, why: 'newer' });
      return true;
    }
    this.onDuplicate({ ...base, kept: prev.origin, dropped: record.origin, why: order !== undefined && order < 0 ? 'newer' : 'first-read' });
    return false;
  }

  add(record: AssetRecord): void {
    this.stats.assetsRead++;
    if (record.ancestors) record.ancestors = this.intern(record.ancestors);
    const type = record.assetType;
    if (!USED_ASSET_TYPES.has(type)) {
      this.stats.skippedByType.set(type, (this.stats.skippedByType.get(type) ?? 0) + 1);
      return;
    }
    if (type === ASSET_TYPES.job) {
      // Duplicate jobs are resolved by the scan, which sees the jobs read later too.
      if (!record.resource?.data) return;
      this.stats.jobRecords++;
      const job = this.parseJob(record);
      if (job) this.jobs.push(job);
      return;
    }
    if (record.iamPolicy && POLICY_ASSET_TYPES.has(type) && this.wins(record, 'iam-policy')) {
      const parsed = parsePolicy(record.iamPolicy, record.origin, record.name);
      if (this.accept(parsed, record, 'iam-policy')) this.policies.set(record.name, parsed.value);
      else this.policies.delete(record.name); // a newer record that cannot be read leaves the policy unknown
    }
    if (!record.resource) return; // an IAM-policy record (or one of another content type)
    if (!record.resource.data) {
      // A resource record without its content: the asset is there, what it holds is unknown. Read
      // as absent, an account would "not exist" and its jobs fail at high severity.
      if (this.wins(record, 'resource')) {
        this.accept({ ok: false, reason: `${type} record has "resource" but no "resource.data"; its content is unknown` }, record, 'resource');
      }
      return;
    }
    if (!this.wins(record, 'resource')) return;
    switch (type) {
      case ASSET_TYPES.runService: {
        const parsed = parseRunService(record);
        if (this.accept(parsed, record, 'resource')) this.runServices.set(record.name, parsed.value);
        break;
      }
      case ASSET_TYPES.runJob:
      case ASSET_TYPES.workflow: {
        const parsed = parseApiResource(record, type === ASSET_TYPES.runJob ? 'run-job' : 'workflow');
        if (this.accept(parsed, record, 'resource')) this.apiResources.set(record.name, parsed.value);
        break;
      }
      case ASSET_TYPES.functionV1:
      case ASSET_TYPES.functionV2: {
        const parsed = parseFunction(record, type === ASSET_TYPES.functionV1 ? 'v1' : 'v2');
        if (this.accept(parsed, record, 'resource')) this.mergeFunction(parsed.value);
        break;
      }
      case ASSET_TYPES.serviceAccount: {
        const parsed = parseServiceAccount(record);
        const previous = this.serviceAccountByAsset.get(record.name);
        if (previous) this.serviceAccounts.delete(previous); // a newer record of the same account
        if (this.accept(parsed, record, 'resource')) {
          this.serviceAccounts.set(parsed.value.email, parsed.value);
          this.serviceAccountByAsset.set(record.name, parsed.value.email);
        }
        break;
      }
      case ASSET_TYPES.role: {
        const parsed = parseCustomRole(record);
        if (this.accept(parsed, record, 'resource')) this.roles.set(parsed.value.name, parsed.value);
        else this.roles.delete(relativeName(record.name));
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
    this.stats.jobRecords++;
    if (!record.resource?.data) return undefined; // as in add(): a name-only record carries no job
    if (record.ancestors) record.ancestors = this.intern(record.ancestors);
    return this.parseJob(record);
  }

  private parseJob(record: AssetRecord): ScheduledJob | undefined {
    const parsed = parseJob(record);
    if (!this.accept(parsed, record, 'resource')) return undefined;
    return !this.keepJob || this.keepJob(parsed.value.name) ? parsed.value : undefined;
  }

  finish(): Inventory {
    const unreadable = new UnreadableIndex(this.damage);
    for (const [key, u] of this.unreadable) {
      const used = this.used.get(key);
      if (used) {
        // A readable record of the same asset: it stands only if it is known to be newer.
        const order = used.updateTime && u.updateTime ? compareUpdateTimes(used.updateTime, u.updateTime) : undefined;
        if (order !== undefined && order > 0) {
          this.onDuplicate({ assetType: u.assetType, name: u.name, kind: u.kind, kept: used.origin, dropped: u.origin, why: 'newer' });
          continue;
        }
        this.forget(u.assetType, u.name, u.kind);
      }
      unreadable.add(u.assetType, u.name, u.kind, u);
    }
    return new Inventory(
      this.jobs,
      [...this.runServices.values()],
      [...this.functions.values()],
      this.serviceAccounts,
      this.roles,
      this.policies,
      this.projects,
      this.parents,
      this.stats,
      unreadable,
      [...this.apiResources.values()],
    );
  }

  /** Drops a readable record that an unreadable one of unknown or later date may replace. */
  private forget(assetType: string, name: string, kind: ContentKind): void {
    if (kind === 'iam-policy') {
      this.policies.delete(name);
      return;
    }
    if (assetType === ASSET_TYPES.serviceAccount) {
      const email = this.serviceAccountByAsset.get(name);
      if (email) this.serviceAccounts.delete(email);
    } else if (assetType === ASSET_TYPES.role) {
      this.roles.delete(relativeName(name));
    }
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

  private accept<T>(parsed: Parsed<T>, record: AssetRecord, kind: ContentKind): parsed is { ok: true; value: T } {
    if (!parsed.ok) {
      const problem = { origin: record.origin, message: `${record.name}: ${parsed.reason}` };
      this.onProblem(problem);
      if (record.assetType !== ASSET_TYPES.job) this.markUnreadable(record.assetType, record.name, kind, problem, record.updateTime);
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

function contentKey(assetType: string, name: string, kind: ContentKind): string {
  return `${assetType}\u0000${name}\u0000${kind}`;
}

/**
 * What the input held but the scan could not read, as the verdicts ask about it: a policy by
 * asset name, a service account by email or by project (accounts are named by unique id), a
 * custom role by name, and damage that cannot be tied to any asset.
 */
export class UnreadableIndex {
  readonly policies = new Map<string, UnreadableRecord>();
  readonly serviceAccountsByEmail = new Map<string, UnreadableRecord>();
  readonly serviceAccountsByProject = new Map<string, UnreadableRecord>();
  readonly roles = new Map<string, UnreadableRecord>();
  /** Every unreadable record of a used type other than a job, for the summary. */
  readonly all: (UnreadableRecord & { assetType: string; name: string; kind: ContentKind })[] = [];

  constructor(readonly damage: UnattributedDamage = { count: 0, first: [] }) {}

  add(assetType: string, name: string, kind: ContentKind, u: UnreadableRecord): void {
    this.all.push({ assetType, name, kind, ...u });
    if (kind === 'iam-policy') {
      this.policies.set(name, u);
      return;
    }
    if (assetType === ASSET_TYPES.serviceAccount) {
      const m = /^\/\/iam\.googleapis\.com\/projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name);
      if (m && m[2]!.includes('@')) this.serviceAccountsByEmail.set(m[2]!.toLowerCase(), u);
      else if (m) this.serviceAccountsByProject.set(m[1]!, u);
    } else if (assetType === ASSET_TYPES.role) {
      this.roles.set(relativeName(name), u);
    }
  }

  /** Why absence proves nothing: damaged input that any record may have been in. */
  damageReason(): string | undefined {
    const d = this.damage;
    if (d.count === 0) return undefined;
    const first = d.first[0]!;
    return `${d.count} unreadable input record(s) or file(s) that cannot be tied to an asset (first: ${first.origin}: ${first.message}) may hold it`;
  }
}

function describeUnreadable(what: string, u: UnreadableRecord): string {
  return `${what} is in the input at ${u.origin} but could not be read (${u.message})`;
}

/** A resolved target and what the judge remembers for it: results by rule, then by the rule's memo key. */
export interface TargetEntry {
  readonly target: Target;
  /**
   * The judge's remembered results for this target: by a rule's number (given once per rule
   * object by the judge), then by the rule's `memoKey`.
   */
  readonly results: (Map<string, unknown> | undefined)[];
  /** The target's URL with any credential redacted, once the judge has needed it (null: no URL). */
  redactedUrl?: string | null;
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
  private readonly memos = new Map<string, MemoSpace>();
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
    readonly unreadable: UnreadableIndex = new UnreadableIndex(),
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
    if (job.pubsubTopic !== undefined || job.appEngine || !job.http) return { target: resolveTarget(this, job), results: [] };
    const uri = job.http.uri;
    let entry = this.targetByUri.get(uri);
    if (entry === undefined) {
      entry = { target: resolveTarget(this, job), results: [] };
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
    if (!p && assetName.startsWith('//cloudresourcemanager.googleapis.com/') && !this.unreadable.policies.has(assetName)) {
      this.missingPolicies.add(relativeName(assetName));
    }
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
   * Why a policy that is not in the model may still exist: its record was present but
   * unreadable, or unattributed damage may hold it. Undefined when its absence is a fact.
   */
  policyUnknown(assetName: string): string | undefined {
    const u = this.unreadable.policies.get(assetName);
    if (u) return describeUnreadable(`the IAM policy of ${assetName}`, u);
    const damage = this.unreadable.damageReason();
    return damage ? `the IAM policy of ${assetName} is not in the inventory, and ${damage}` : undefined;
  }

  /** Why a custom role missing from the model may exist after all (see policyUnknown). */
  customRoleUnknown(name: string): string | undefined {
    const u = this.unreadable.roles.get(name);
    return u ? describeUnreadable(`custom role ${name}`, u) : undefined;
  }

  /** Why a service account missing from the model may exist after all (see policyUnknown). */
  serviceAccountUnknown(email: string, projectId: string | undefined): string | undefined {
    const u = this.unreadable.serviceAccountsByEmail.get(email.toLowerCase()) ?? (projectId ? this.unreadable.serviceAccountsByProject.get(projectId) : undefined);
    if (u) return describeUnreadable(`a service account record of ${projectId ?? 'its project'}`, u);
    const damage = this.unreadable.damageReason();
    return damage ? `service account ${email} is not in the inventory, and ${damage}` : undefined;
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
    return this.memoSpace(namespace).get(owner, key, compute);
  }

  private memoSpace(namespace: string): MemoSpace {
    let space = this.memos.get(namespace);
    if (!space) this.memos.set(namespace, (space = new MemoSpace()));
    return space;
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
