/**
 * Last words before a forced exit (a second signal, or the stop's grace period over): each
 * registered function runs synchronously, so what is still in memory (undelivered findings) is
 * written to disk before `process.exit`. Registered by what holds such state, for as long as it does.
 */
const flushes = new Set<() => void>();

export function registerExitFlush(flush: () => void): () => void {
  flushes.add(flush);
  return () => void flushes.delete(flush);
}

/** Runs every registered flush; one that throws does not keep the others from running. */
export function runExitFlushes(): void {
  for (const flush of [...flushes]) {
    try {
      flush();
    } catch {
      // Exiting anyway: the next flush may still save something.
    }
  }
}
