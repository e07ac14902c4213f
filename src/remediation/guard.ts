/**
 * The blast-radius guard of one `fix apply` or `fix undo` run: at most `maxChanges` writes are
 * started, however many retries they take (a retry re-uses its change's slot), and after the first
 * error of an unexpected class no new change starts.
 */
export class RunGuard {
  private used = 0;
  private stopReason: string | undefined;

  constructor(readonly maxChanges: number) {}

  /** Takes up to `n` slots; returns how many it got. */
  reserve(n: number): number {
    const granted = Math.max(0, Math.min(n, this.maxChanges - this.used));
    this.used += granted;
    return granted;
  }

  get changesStarted(): number {
    return this.used;
  }

  get stopped(): string | undefined {
    return this.stopReason;
  }

  stop(reason: string): void {
    this.stopReason ??= reason;
  }
}

/** Retry timing for etag conflicts and UPDATE_FAILED jobs: doubling from `baseMs`, with jitter. */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 1000, maxMs: 16_000 };

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
