import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** The proto directory a client package ships (`build/protos`), found from its entry point. */
function protoDir(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  while (!existsSync(join(dir, 'build', 'protos')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'build', 'protos');
}

/** The services the fake serves, each from the .proto files its client package ships. */
const SOURCES = [
  { pkg: '@google-cloud/asset', file: 'google/cloud/asset/v1/asset_service.proto' },
  { pkg: '@google-cloud/scheduler', file: 'google/cloud/scheduler/v1/cloudscheduler.proto' },
  { pkg: '@google-cloud/run', file: 'google/cloud/run/v2/service.proto' },
  { pkg: '@google-cloud/functions', file: 'google/cloud/functions/v1/functions.proto' },
  { pkg: '@google-cloud/functions', file: 'google/cloud/functions/v2/functions.proto' },
  { pkg: 'google-gax', file: 'google/iam/v1/iam_policy.proto' },
  { pkg: '@google-cloud/logging-api', file: 'google/logging/v2/logging.proto' },
  { pkg: '@google-cloud/resource-manager', file: 'google/cloud/resourcemanager/v3/projects.proto' },
  { pkg: '@google-cloud/resource-manager', file: 'google/cloud/resourcemanager/v3/folders.proto' },
  { pkg: '@google-cloud/resource-manager', file: 'google/cloud/resourcemanager/v3/organizations.proto' },
] as const;

export const SERVICE_NAMES = {
  asset: 'google.cloud.asset.v1.AssetService',
  scheduler: 'google.cloud.scheduler.v1.CloudScheduler',
  run: 'google.cloud.run.v2.Services',
  functionsV1: 'google.cloud.functions.v1.CloudFunctionsService',
  functionsV2: 'google.cloud.functions.v2.FunctionService',
  iam: 'google.iam.v1.IAMPolicy',
  logging: 'google.logging.v2.LoggingServiceV2',
  projects: 'google.cloud.resourcemanager.v3.Projects',
  folders: 'google.cloud.resourcemanager.v3.Folders',
  organizations: 'google.cloud.resourcemanager.v3.Organizations',
} as const;

export type ServiceKey = keyof typeof SERVICE_NAMES;

/** The same decoding google-gax uses, so handlers see what a client would see. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

export interface LoadedProtos {
  /** Reflection, for proto3-JSON conversion of seeded data. */
  root: protobuf.Root;
  services: Record<ServiceKey, grpc.ServiceDefinition>;
}

let cached: LoadedProtos | undefined;

/** Loads every served proto once per process (about 200 ms). */
export function loadProtos(): LoadedProtos {
  if (cached) return cached;
  const gaxDir = protoDir('google-gax');
  const includeDirs = [...new Set(SOURCES.map((s) => protoDir(s.pkg))), gaxDir];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (existsSync(target)) return target;
    for (const dir of includeDirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(SOURCES.map((s) => s.file), { keepCase: false });
  root.resolveAll();
  const definition = protoLoader.fromJSON(root.toJSON(), LOADER_OPTIONS);
  const services = {} as Record<ServiceKey, grpc.ServiceDefinition>;
  for (const [key, name] of Object.entries(SERVICE_NAMES) as [ServiceKey, string][]) {
    const def = definition[name];
    if (!def) throw new Error(`proto service ${name} not found`);
    services[key] = def as grpc.ServiceDefinition;
  }
  cached = { root, services };
  return cached;
}
