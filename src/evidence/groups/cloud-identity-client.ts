import { ConfigurationError } from '../../errors.js';

/** Points the Cloud Identity calls at another HTTP endpoint, without credentials (tests and fakes). */
export const CLOUD_IDENTITY_ENDPOINT_ENV = 'CRONWARDEN_CLOUD_IDENTITY_ENDPOINT';
export const CLOUD_IDENTITY_BASE = 'https://cloudidentity.googleapis.com';
/** Read-only groups scope (GCP-FACTS §18). */
export const GROUPS_READONLY_SCOPE = 'https://www.googleapis.com/auth/cloud-identity.groups.readonly';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A GET of a Cloud Identity v1 path (with its query) that answers with the status and the JSON body. */
export type CloudIdentityRequester = (pathAndQuery: string) => Promise<HttpAnswer>;

/**
 * Google's auth library for production (Application Default Credentials, the groups read-only
 * scope); with CRONWARDEN_CLOUD_IDENTITY_ENDPOINT set, plain HTTP to that base URL and no
 * credentials at all, as the gRPC clients do with CRONWARDEN_GOOGLE_API_ENDPOINT.
 */
export async function cloudIdentityRequester(env: NodeJS.ProcessEnv = process.env): Promise<CloudIdentityRequester> {
  const override = env[CLOUD_IDENTITY_ENDPOINT_ENV]?.trim();
  if (override) {
    if (!/^https?:\/\/[^/\s]+$/.test(override)) {
      throw new ConfigurationError('BAD_CLOUD_IDENTITY_ENDPOINT', `${CLOUD_IDENTITY_ENDPOINT_ENV}="${override}" is not a base URL like http://127.0.0.1:8086`);
    }
    return async (path) => {
      const res = await fetch(`${override}${path}`, { headers: { accept: 'application/json' } });
      return { status: res.status, body: await jsonBody(res) };
    };
  }
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ scopes: [GROUPS_READONLY_SCOPE] });
  let client: Awaited<ReturnType<InstanceType<typeof GoogleAuth>['getClient']>>;
  try {
    client = await auth.getClient();
  } catch (err) {
    throw new ConfigurationError(
      'NO_CREDENTIALS',
      `--resolve-groups: no Application Default Credentials to call Cloud Identity with (${(err as Error).message})`,
      { cause: err },
    );
  }
  return async (path) => {
    const res = await client.request<Record<string, unknown>>({ url: `${CLOUD_IDENTITY_BASE}${path}`, method: 'GET', validateStatus: () => true, retry: false });
    return { status: res.status, body: res.data && typeof res.data === 'object' ? res.data : {} };
  };
}

async function jsonBody(res: Response): Promise<Record<string, unknown>> {
  try {
    const body = (await res.json()) as unknown;
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The error message a Google JSON error body carries, for a reason a person can read. */
export function errorMessage(answer: HttpAnswer): string {
  const error = answer.body.error as { message?: unknown; status?: unknown } | undefined;
  const status = typeof error?.status === 'string' ? error.status : `HTTP ${answer.status}`;
  return typeof error?.message === 'string' ? `${status}: ${error.message}` : status;
}
