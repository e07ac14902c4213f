import type { GoogleClientOptions } from '../google/client-options.js';
import type { PolicyApi } from '../engine/remedy.js';

type Json = Record<string, unknown>;

/** The IAM policy as the clients carry it (google.iam.v1.Policy). */
export interface IamPolicy {
  version?: number | null;
  bindings?: { role?: string | null; members?: string[] | null; condition?: { expression?: string | null; title?: string | null; description?: string | null } | null }[] | null;
  auditConfigs?: unknown[] | null;
  etag?: Uint8Array | string | null;
}

/**
 * The Google API calls remediation makes, and no others: Scheduler GetJob/UpdateJob, and
 * Get/SetIamPolicy on Cloud Run v2 services and Cloud Functions v1 functions. The real clients;
 * tests point them at the fake through CRONWARDEN_GOOGLE_API_ENDPOINT.
 */
export interface RemediationApis {
  getJob(name: string): Promise<Json>;
  /** Reads for planning from a findings file: the target as its own API shows it. */
  getService(name: string): Promise<Json>;
  getFunction(api: 'v1' | 'v2', name: string): Promise<Json>;
  updateJob(job: Json, paths: readonly string[]): Promise<Json>;
  getPolicy(api: PolicyApi, resource: string): Promise<IamPolicy>;
  setPolicy(api: PolicyApi, resource: string, policy: IamPolicy): Promise<IamPolicy>;
  close(): Promise<void>;
}

/** Policies are read at version 3 so that conditional bindings come back whole (GCP-FACTS §16). */
export const REQUESTED_POLICY_VERSION = 3;

export async function googleRemediationApis(options: GoogleClientOptions): Promise<RemediationApis> {
  const [{ CloudSchedulerClient }, { ServicesClient }, functions] = await Promise.all([
    import('@google-cloud/scheduler'),
    import('@google-cloud/run'),
    import('@google-cloud/functions'),
  ]);
  let scheduler: InstanceType<typeof CloudSchedulerClient> | undefined;
  let run: InstanceType<typeof ServicesClient> | undefined;
  let gen1: InstanceType<typeof functions.v1.CloudFunctionsServiceClient> | undefined;
  let gen2: InstanceType<typeof functions.v2.FunctionServiceClient> | undefined;
  const sched = () => (scheduler ??= new CloudSchedulerClient(options));
  const services = () => (run ??= new ServicesClient(options));
  const fns = () => (gen1 ??= new functions.v1.CloudFunctionsServiceClient(options));
  const policyClient = (api: PolicyApi) => (api === 'run' ? services() : fns());
  return {
    async getJob(name) {
      const [job] = await sched().getJob({ name });
      return job as Json;
    },
    async getService(name) {
      const [service] = await services().getService({ name });
      return service as Json;
    },
    async getFunction(api, name) {
      if (api === 'v1') return (await fns().getFunction({ name }))[0] as Json;
      return (await (gen2 ??= new functions.v2.FunctionServiceClient(options)).getFunction({ name }))[0] as Json;
    },
    async updateJob(job, paths) {
      const [updated] = await sched().updateJob({ job, updateMask: { paths: [...paths] } });
      return updated as Json;
    },
    async getPolicy(api, resource) {
      const [policy] = await policyClient(api).getIamPolicy({ resource, options: { requestedPolicyVersion: REQUESTED_POLICY_VERSION } });
      return policy as IamPolicy;
    },
    async setPolicy(api, resource, policy) {
      // The default mask is "bindings, etag"; naming it says that audit configs are not ours to write.
      const [updated] = await policyClient(api).setIamPolicy({ resource, policy: policy as never, updateMask: { paths: ['bindings', 'etag'] } });
      return updated as IamPolicy;
    },
    async close() {
      await Promise.all([scheduler?.close(), run?.close(), gen1?.close(), gen2?.close()].map((p) => p?.catch(() => undefined)));
    },
  };
}

/** gRPC status codes remediation branches on. */
export const CODE = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNKNOWN: 2,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k]));

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function codeName(err: unknown): string {
  const code = grpcCode(err);
  return code === undefined ? 'ERROR' : (NAMES[code] ?? `CODE_${code}`);
}

export function errorText(err: unknown): string {
  const e = err as { details?: unknown; message?: unknown };
  return String(e?.details || e?.message || err);
}

/** The call that failed, for naming the permission it needs. */
export type Operation = { op: 'getJob' } | { op: 'getTarget'; api: 'run' | 'functions' } | { op: 'updateJob'; tokenAccount?: string } | { op: 'getPolicy' | 'setPolicy'; api: PolicyApi };

/**
 * A PERMISSION_DENIED explained: which permission the call needs and which role holds it, so the
 * operator can grant exactly that (GCP-FACTS §7, §16; docs/deploy.md's custom role has them all).
 */
export function missingPermission(operation: Operation, details: string): string {
  switch (operation.op) {
    case 'getJob':
      return 'needs cloudscheduler.jobs.get on the job (roles/cloudscheduler.viewer, or the cronwardenRemediator custom role)';
    case 'getTarget':
      return operation.api === 'run' ? 'needs run.services.get on the service (roles/run.viewer)' : 'needs cloudfunctions.functions.get on the function (roles/cloudfunctions.viewer)';
    case 'updateJob': {
      const actAs =
        `iam.serviceAccounts.actAs on ${operation.tokenAccount ?? 'the token account'} (roles/iam.serviceAccountUser on that account), ` +
        'needed to set an OIDC or OAuth token';
      if (/actAs|serviceAccounts|service account/i.test(details)) return `needs ${actAs}`;
      return `needs cloudscheduler.jobs.update on the job (roles/cloudscheduler.admin, or the cronwardenRemediator custom role) and ${actAs}`;
    }
    case 'getPolicy':
    case 'setPolicy': {
      const verb = operation.op === 'getPolicy' ? 'getIamPolicy' : 'setIamPolicy';
      return operation.api === 'run'
        ? `needs run.services.${verb} on the service (${operation.op === 'getPolicy' ? 'roles/run.viewer' : 'roles/run.admin'}, or the cronwardenRemediator custom role)`
        : `needs cloudfunctions.functions.${verb} on the function (${operation.op === 'getPolicy' ? 'roles/cloudfunctions.viewer' : 'roles/cloudfunctions.admin'}, or the cronwardenRemediator custom role)`;
    }
  }
}
