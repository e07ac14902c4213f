import { createRequire } from 'node:module';
import type { grpc } from 'google-gax';
import { ConfigurationError } from '../errors.js';

/** The one setting that points every Google client (except Pub/Sub) at another gRPC endpoint. */
export const GOOGLE_API_ENDPOINT_ENV = 'CRONWARDEN_GOOGLE_API_ENDPOINT';

/**
 * Constructor options shared by the gRPC clients of @google-cloud/{asset, scheduler, run,
 * functions, logging}. Empty in production: each client then uses its googleapis.com default
 * and Application Default Credentials. A type alias, not an interface, so it passes where the
 * clients take `ClientOptions` (which has an index signature).
 */
export type GoogleClientOptions = {
  apiEndpoint?: string;
  port?: number;
  sslCreds?: grpc.ChannelCredentials;
  universeDomain?: string;
};

/**
 * Options for any Google client but Pub/Sub (which has its own emulator variable,
 * PUBSUB_EMULATOR_HOST). With `CRONWARDEN_GOOGLE_API_ENDPOINT=HOST:PORT` the client talks
 * plain-text gRPC to HOST:PORT with no Google auth at all:
 *
 * - `sslCreds` is returned as is by google-gax's `GrpcClient._getCredentials`, so no access
 *   token is ever fetched;
 * - an explicit `universeDomain` makes `GoogleAuth.getUniverseDomain()` answer from its options
 *   instead of looking for Application Default Credentials or a metadata server, which
 *   `createStub` otherwise asks on every client.
 *
 * The gRPC module is google-gax's own copy, loaded only when the variable is set, so the
 * credentials object is the same class the clients check with `instanceof`.
 */
export function googleClientOptions(env: NodeJS.ProcessEnv = process.env): GoogleClientOptions {
  const raw = env[GOOGLE_API_ENDPOINT_ENV]?.trim();
  if (!raw) return {};
  const { host, port } = parseHostPort(raw);
  const gax = createRequire(import.meta.url)('google-gax') as typeof import('google-gax');
  return {
    apiEndpoint: host,
    port,
    sslCreds: gax.grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

/** `HOST:PORT` or `[IPV6]:PORT`; anything else is a configuration error naming the variable. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigurationError(
      'BAD_GOOGLE_API_ENDPOINT',
      `${GOOGLE_API_ENDPOINT_ENV}="${value}" is not HOST:PORT (for example 127.0.0.1:8085 or [::1]:8085)`,
    );
  }
  return { host: m[1] ?? m[2]!, port };
}
