import type { ClientConfig, PubSub, PublishOptions, Topic } from '@google-cloud/pubsub';

/** Publisher batching; the client caps batches at 1000 messages and 9 MiB whatever is asked. */
export interface BatchingOptions {
  maxMessages: number;
  maxBytes: number;
  maxMilliseconds: number;
}

/** Backoff for one publish RPC (one batch), as gax applies it. */
export interface RetryOptions {
  initialDelayMs: number;
  delayMultiplier: number;
  maxDelayMs: number;
  /** Deadline of each attempt. */
  rpcTimeoutMs: number;
  /** After this long a batch fails for good and its messages go to the spool. */
  totalTimeoutMs: number;
}

/**
 * 1000 messages is the API's cap per request. 5 MiB keeps a full batch well inside the client's
 * 9 MiB cap and the 10 MB request limit with attributes and framing on top; a finding is 1–3 KB,
 * so the count, not the size, closes a batch. 50 ms lets a scan fill batches without adding
 * latency anyone would notice in a batch job.
 */
export const DEFAULT_BATCHING: BatchingOptions = { maxMessages: 1000, maxBytes: 5 * 1024 * 1024, maxMilliseconds: 50 };

/**
 * The client's default for Publish retries for up to 10 minutes with 60 s attempts; a scanner
 * should give up sooner and spool, so the whole budget per batch is one minute.
 */
export const DEFAULT_RETRY: RetryOptions = {
  initialDelayMs: 100,
  delayMultiplier: 2,
  maxDelayMs: 10_000,
  rpcTimeoutMs: 30_000,
  totalTimeoutMs: 60_000,
};

/** The codes the client itself retries Publish on (publisher_client_config.json). */
const RETRY_CODES = [1, 2, 4, 8, 10, 13, 14];

const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export const STATUS = { NOT_FOUND: 5, PERMISSION_DENIED: 7, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;

export interface RpcErrorInfo {
  code: number | null;
  status: string;
  message: string;
}

/** A gRPC/gax error reduced to what a log line or a spool record may carry. */
export function rpcErrorInfo(err: unknown): RpcErrorInfo {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'number' ? e.code : null;
  const status = code !== null ? (STATUS_NAMES[code] ?? `CODE_${code}`) : typeof e?.code === 'string' ? e.code : 'ERROR';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { code, status, message: message.length > 500 ? `${message.slice(0, 500)}…` : message };
}

/** Codes that mean "could not get through in time" rather than "the request itself is wrong". */
export function isTransient(code: number | null): boolean {
  return code !== null && RETRY_CODES.includes(code);
}

export function gaxRetry(retry: RetryOptions, totalTimeoutMs = retry.totalTimeoutMs) {
  return {
    retry: {
      retryCodes: RETRY_CODES,
      backoffSettings: {
        initialRetryDelayMillis: retry.initialDelayMs,
        retryDelayMultiplier: retry.delayMultiplier,
        maxRetryDelayMillis: retry.maxDelayMs,
        initialRpcTimeoutMillis: Math.min(retry.rpcTimeoutMs, totalTimeoutMs),
        rpcTimeoutMultiplier: 1,
        maxRpcTimeoutMillis: Math.min(retry.rpcTimeoutMs, totalTimeoutMs),
        totalTimeoutMillis: totalTimeoutMs,
      },
    },
  };
}

export interface ClientOptions {
  project: string;
  /** `host:port`; otherwise PUBSUB_EMULATOR_HOST, otherwise Google's endpoint. */
  apiEndpoint?: string;
  /** Cap on gRPC's reconnect backoff, so publishing resumes soon after an outage. */
  maxReconnectBackoffMs: number;
}

/** The endpoint the client will use, for messages: the emulator's host or Google's. */
export function endpointOf(apiEndpoint?: string): { endpoint: string; emulator: boolean } {
  const endpoint = apiEndpoint ?? process.env.PUBSUB_EMULATOR_HOST ?? process.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB;
  if (!endpoint) return { endpoint: 'pubsub.googleapis.com', emulator: false };
  const host = endpoint.replace(/^https?:\/\//, '').split(':')[0] ?? '';
  return { endpoint, emulator: !host.endsWith('.googleapis.com') };
}

/** Loads the client library only now, so a CLI run without a topic never pays for it. */
export async function openTopic(
  topicName: string,
  options: ClientOptions,
  publish: { batching: BatchingOptions; retry: RetryOptions },
): Promise<{ pubsub: PubSub; topic: Topic }> {
  const { PubSub } = await import('@google-cloud/pubsub');
  const { emulator } = endpointOf(options.apiEndpoint);
  const config: ClientConfig & Record<string, unknown> = {
    projectId: options.project,
    'grpc.max_reconnect_backoff_ms': options.maxReconnectBackoffMs,
  };
  if (options.apiEndpoint) config.apiEndpoint = options.apiEndpoint;
  // Against the emulator there are no credentials to look up: naming the universe spares the
  // client a metadata-server probe (and its warning); emulatorMode keeps the insecure channel.
  if (emulator) Object.assign(config, { emulatorMode: true, universeDomain: 'googleapis.com' });
  const pubsub = new PubSub(config);
  const publishOptions: PublishOptions = {
    batching: { ...publish.batching },
    gaxOpts: gaxRetry(publish.retry) as PublishOptions['gaxOpts'],
  };
  return { pubsub, topic: pubsub.topic(topicName, publishOptions) };
}
