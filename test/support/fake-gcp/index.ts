import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { toAssetRecord, type AssetRecord } from '../../../src/inventory/asset-record.js';
import { FileAssetSource } from '../../../src/inventory/file-source.js';
import { Counters, FaultPlan, seededRandom, wrapUnary, type FaultRule, type LoggedRequest, type WrapContext } from './faults.js';
import { loadProtos, type ServiceKey } from './protos.js';
import { AssetService, preEncodedResponses } from './services/asset.js';
import { PolicyService } from './services/iam.js';
import { LoggingService } from './services/logging.js';
import { ResourceManagerService } from './services/resource-manager.js';
import { SchedulerService } from './services/scheduler.js';
import { ServerlessService } from './services/serverless.js';
import { AssetStore } from './store.js';
import type { ListingBehaviour } from './asset-history.js';
import { AccessControl, type PermissionMap } from './access.js';

export type { FaultRule, LoggedRequest } from './faults.js';
export { Counters } from './faults.js';

type Json = Record<string, unknown>;

export interface FakeGcpOptions {
  /** An export directory: asset files (`*.ndjson`, `*.jsonl`, `*.json`, gzipped or not) as the scanner reads them, and optional `log-entries*` files of LogEntry JSON. */
  seedDir?: string;
  /** Asset JSON (snake or camel envelope) added to the seed. */
  records?: readonly unknown[];
  /** LogEntry JSON added to the seed. */
  logEntries?: readonly Json[];
  /** Added to every call, or per `service.Method` / bare method name (`*` for the rest). */
  latencyMs?: number | Record<string, number>;
  faults?: readonly FaultRule[];
  /** Seed of the generator behind fault rates: the same seed, the same faults for the same calls. */
  randomSeed?: number;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Keep every request in `requests` (default true; turn off for very large runs). */
  logRequests?: boolean;
  /**
   * Refuse what Google tolerates but a careful client never sends: UpdateJob without an update
   * mask, SetIamPolicy without an etag. Tests run the product against it to prove it sends both.
   */
  strict?: boolean;
  /** Service accounts the caller may act as (iam.serviceAccounts.actAs); undefined: all. */
  actAs?: readonly string[];
  /** ListAssets indexing delay, short and empty pages, page token lifetime. */
  listing?: ListingBehaviour;
  /** The fake's clock: when writes happen, and what "now" is for read times and token expiry. */
  now?: () => Date;
  /** Per-caller permissions (AIP-211 errors); the caller is chosen with `setCaller`. Callers not in the map may do everything. */
  permissions?: PermissionMap;
}

export interface FakeGcp {
  readonly port: number;
  /** `HOST:PORT`, the value for CRONWARDEN_GOOGLE_API_ENDPOINT. */
  readonly address: string;
  readonly counters: Counters;
  readonly requests: LoggedRequest[];
  readonly store: AssetStore;
  readonly logging: LoggingService;
  /** Cloud Scheduler: `failUpdates(job, n)` makes the job's next n updates leave it UPDATE_FAILED. */
  readonly scheduler: Pick<SchedulerService, 'failUpdates'>;
  /** Who the next calls come from, for the `permissions` map. */
  setCaller(caller: string): void;
  setFaults(rules: readonly FaultRule[]): void;
  addFault(rule: FaultRule): void;
  setLatency(latency: number | Record<string, number>): void;
  stop(): Promise<void>;
}

const LOG_ENTRY_FILE = /^log-entries.*\.(ndjson|jsonl|json)$/;
const ASSET_FILE = /\.(ndjson|jsonl|json)(\.gz)?$/;

/** Reads an export directory's asset records the way the scanner's file reader does. */
export async function readSeedDir(dir: string): Promise<{ records: AssetRecord[]; logEntries: Json[]; problems: number }> {
  const names = (await readdir(dir)).sort();
  const assetFiles = names.filter((n) => ASSET_FILE.test(n) && !LOG_ENTRY_FILE.test(n)).map((n) => join(dir, n));
  const records: AssetRecord[] = [];
  const report = await new FileAssetSource(assetFiles).read((r) => {
    if (r.ok) records.push(r.record);
  });
  const logEntries: Json[] = [];
  for (const n of names.filter((x) => LOG_ENTRY_FILE.test(x))) {
    const text = await readFile(join(dir, n), 'utf8');
    const trimmed = text.trimStart();
    if (trimmed.startsWith('[')) logEntries.push(...(JSON.parse(trimmed) as Json[]));
    else for (const line of text.split('\n')) if (line.trim()) logEntries.push(JSON.parse(line) as Json);
  }
  return { records, logEntries, problems: report.problemCount };
}

/**
 * Starts a gRPC server that speaks the protos Google's Node clients ship, so the product's real
 * clients talk to it unchanged (through CRONWARDEN_GOOGLE_API_ENDPOINT): Cloud Asset ListAssets;
 * Cloud Scheduler GetJob, ListJobs, UpdateJob; Cloud Run v2 GetService, Get/SetIamPolicy; Cloud
 * Functions v1 and v2 get and Get/SetIamPolicy (v2 through the google.iam.v1 mixin); Cloud
 * Logging ListLogEntries and WriteLogEntries; Resource Manager v3 GetProject, GetFolder,
 * GetOrganization and their GetIamPolicy. Other methods answer UNIMPLEMENTED.
 */
export async function startFakeGcp(options: FakeGcpOptions = {}): Promise<FakeGcp> {
  const { root, services } = loadProtos();
  const records: AssetRecord[] = [];
  const logSeed: Json[] = [...(options.logEntries ?? [])];
  if (options.seedDir) {
    const seed = await readSeedDir(options.seedDir);
    records.push(...seed.records);
    logSeed.push(...seed.logEntries);
  }
  for (const [i, value] of (options.records ?? []).entries()) {
    const r = toAssetRecord(value, `records[${i}]`);
    if (!r.ok) throw new Error(`fake-gcp seed: ${r.problem.message}`);
    records.push(r.record);
  }

  const store = new AssetStore(records);
  const policies = new PolicyService(store, root, options.now, { requireEtag: options.strict === true });
  const asset = new AssetService(store, root, options.now, options.listing, seededRandom((options.randomSeed ?? 1) + 7));
  asset.warm();
  const scheduler = new SchedulerService(store, root, options.now, { requireMask: options.strict === true, ...(options.actAs ? { actAs: options.actAs } : {}) });
  const serverless = new ServerlessService(store, root, policies);
  const logging = new LoggingService(root, logSeed);
  const resourceManager = new ResourceManagerService(store, root, policies);

  const counters = new Counters();
  const requests: LoggedRequest[] = [];
  const faults = new FaultPlan(options.faults ?? [], seededRandom(options.randomSeed ?? 1));
  let latency = options.latencyMs ?? 0;
  const ctx: WrapContext = {
    counters,
    faults,
    latencyMs: (method) => {
      if (typeof latency === 'number') return latency;
      return latency[method] ?? latency[method.split('.')[1]!] ?? latency['*'] ?? 0;
    },
    log: (entry) => {
      if (options.logRequests !== false) requests.push(entry);
    },
  };

  const handlers: Record<ServiceKey, Record<string, (req: Json) => unknown>> = {
    asset: { ListAssets: (r) => asset.listAssets(r) },
    scheduler: { GetJob: (r) => scheduler.getJob(r), ListJobs: (r) => scheduler.listJobs(r), UpdateJob: (r) => scheduler.updateJob(r) },
    run: {
      GetService: (r) => serverless.getService(r),
      GetIamPolicy: (r) => serverless.getServicePolicy(r),
      SetIamPolicy: (r) => serverless.setServicePolicy(r),
    },
    functionsV1: {
      GetFunction: (r) => serverless.getFunctionV1(r),
      GetIamPolicy: (r) => serverless.getFunctionPolicy(r),
      SetIamPolicy: (r) => serverless.setFunctionPolicy(r),
    },
    functionsV2: { GetFunction: (r) => serverless.getFunctionV2(r) },
    iam: { GetIamPolicy: (r) => serverless.getMixinPolicy(r), SetIamPolicy: (r) => serverless.setMixinPolicy(r) },
    logging: { WriteLogEntries: (r) => logging.writeLogEntries(r), ListLogEntries: (r) => logging.listLogEntries(r) },
    projects: { GetProject: (r) => resourceManager.getProject(r), GetIamPolicy: (r) => resourceManager.getProjectPolicy(r) },
    folders: { GetFolder: (r) => resourceManager.getFolder(r), GetIamPolicy: (r) => resourceManager.getFolderPolicy(r) },
    organizations: { GetOrganization: (r) => resourceManager.getOrganization(r), GetIamPolicy: (r) => resourceManager.getOrganizationPolicy(r) },
  };

  const access = new AccessControl(options.permissions, (r) => {
    const m = /^projects\/([^/]+)(.*)$/.exec(r);
    return m ? [...new Set([r, `${store.canonicalScope(`projects/${m[1]}`)}${m[2]}`])] : [r];
  });
  const server = new grpc.Server();
  for (const [key, methods] of Object.entries(handlers) as [ServiceKey, Record<string, (req: Json) => unknown>][]) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, fn] of Object.entries(methods)) {
      const name = `${key}.${method}`;
      impl[method] = wrapUnary(ctx, name, (req) => {
        access.check(name, req);
        return fn(req);
      });
    }
    server.addService(key === 'asset' ? preEncodedResponses(services.asset, ['ListAssets']) : services[key], impl);
  }
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    port,
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    counters,
    requests,
    store,
    logging,
    scheduler,
    setCaller: (caller) => {
      access.caller = caller;
    },
    setFaults: (rules) => faults.set(rules),
    addFault: (rule) => faults.add(rule),
    setLatency: (l) => {
      latency = l;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
