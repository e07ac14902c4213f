/** Jobs whose findings wait on outside answers at once; past this, judging waits for one to finish. */
export const MAX_SETTLING_JOBS = 256;

/**
 * Lets judging run ahead while earlier jobs' verdicts are settled (group membership answers).
 * Each settled result is handed to `emit` as it comes; `add` returns a promise only when too
 * many jobs are waiting, which holds the scan back instead of holding every job in memory.
 */
export class SettlePipeline {
  private readonly pending = new Set<Promise<void>>();
  /** Callers waiting for a free place; a race over every pending job would cost a handler per job each time. */
  private readonly waiting: (() => void)[] = [];
  private failure: { error: unknown } | undefined;

  add<T>(settled: Promise<T>, emit: (value: T) => boolean | Promise<boolean>): true | Promise<boolean> {
    const task: Promise<void> = settled
      .then(emit)
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        this.pending.delete(task);
        this.waiting.shift()?.();
      });
    this.pending.add(task);
    if (this.pending.size < MAX_SETTLING_JOBS) return true;
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.check());
  }

  /** Waits for every job still settling; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    this.check();
  }

  private check(): true {
    if (this.failure) throw this.failure.error;
    return true;
  }
}
