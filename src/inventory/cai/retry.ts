import { realTimer, type Timer } from './rate-limiter.js';

/** gRPC status codes worth another attempt: the call may succeed if made again later. */
export const RETRYABLE_CODES: ReadonlyMap<number, string> = new Map([
  [4, 'DEADLINE_EXCEEDED'],
  [8, 'RESOURCE_EXHAUSTED'],
  [13, 'INTERNAL'],
  [14, 'UNAVAILABLE'],
]);

const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Ceiling of the first backoff; each later one doubles (times `multiplier`) up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** First backoff after RESOURCE_EXHAUSTED: quotas refill per minute, so a quick retry only spends another call. */
  exhaustedDelayMs: number;
  /** Total time one scan may spend in backoff across all calls; past it, a failing call fails for good. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  exhaustedDelayMs: 10_000,
  budgetMs: 180_000,
};

/** The gRPC status code of an error from google-gax, if it has one. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function codeName(code: number | undefined): string {
  return code === undefined ? 'no status code' : (CODE_NAMES[code] ?? `code ${code}`);
}

/** `PERMISSION_DENIED: the caller does not have permission` from a gax error. */
export function describeGrpcError(err: unknown): string {
  const code = grpcCode(err);
  const details = (err as { details?: unknown } | null)?.details;
  const text = typeof details === 'string' && details !== '' ? details : ((err as Error | null)?.message ?? String(err));
  const prefix = /^\d+ [A-Z_]+: /;
  return `${codeName(code)}: ${text.replace(prefix, '')}`;
}

/** A call that failed for good, with how many attempts it took. */
export class RetriesExhaustedError extends Error {
  constructor(
    readonly attempts: number,
    readonly last: unknown,
    why: string,
  ) {
    super(`${describeGrpcError(last)} (${attempts} attempt${attempts === 1 ? '' : 's'}; ${why})`, { cause: last });
  }
}

/**
 * Exponential backoff with full jitter (each wait is uniform in [0, ceiling]) and a budget
 * shared by every call of a scan, so a flapping API cannot stretch a scan without bound.
 */
export class Retrier {
  private spentMs = 0;
  /** Retries made so far, for the log and tests. */
  retries = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly timer: Timer = realTimer,
    private readonly random: () => number = Math.random,
  ) {}

  async run<T>(call: () => Promise<T>, onRetry?: (err: unknown, attempt: number, delayMs: number) => void, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const code = grpcCode(err);
        if (code === undefined || !RETRYABLE_CODES.has(code)) throw new RetriesExhaustedError(attempt, err, 'not retryable');
        if (attempt >= this.policy.maxAttempts) throw new RetriesExhaustedError(attempt, err, 'attempts exhausted');
        const delay = this.delay(attempt, code);
        if (this.spentMs + delay > this.policy.budgetMs) throw new RetriesExhaustedError(attempt, err, 'retry budget of the scan spent');
        this.spentMs += delay;
        this.retries++;
        onRetry?.(err, attempt, delay);
        await this.timer.sleep(delay, signal);
      }
    }
  }

  private delay(attempt: number, code: number): number {
    const base = code === 8 ? Math.max(this.policy.exhaustedDelayMs, this.policy.initialDelayMs) : this.policy.initialDelayMs;
    const ceiling = Math.min(Math.max(this.policy.maxDelayMs, base), base * this.policy.multiplier ** (attempt - 1));
    const jittered = Math.round(this.random() * ceiling);
    // RESOURCE_EXHAUSTED keeps at least half its ceiling: zero jitter would hit the same empty quota.
    return code === 8 ? Math.max(jittered, Math.round(ceiling / 2)) : jittered;
  }
}
