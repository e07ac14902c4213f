import type { Logger } from '../log/logger.js';
import type { LifecycleRun } from '../scan/run-scan.js';
import { openStateStore, type StateLocation } from './store.js';
import { LifecycleTracker } from './tracker.js';

/** Problems in the state named one by one in the log, up to this many. */
const MAX_PROBLEMS_LOGGED = 20;

/**
 * Opens the state store and reads the state before the scan. A state that cannot be read does
 * not stop the scan: every finding is still emitted, with lifecycle `unknown`, nothing is
 * resolved or saved, and the summary names the problem (the run is partial).
 */
export async function startLifecycle(
  location: StateLocation,
  opts: { logger: Logger; ownsJob?: (jobName: string) => boolean },
): Promise<{ run: LifecycleRun; close(): Promise<void> }> {
  const store = await openStateStore(location);
  const { logger } = opts;
  let run: LifecycleRun;
  try {
    const loaded = await store.load();
    loaded.problems.slice(0, MAX_PROBLEMS_LOGGED).forEach((p) => logger.warn(`state: ${p}`));
    if (loaded.problems.length > MAX_PROBLEMS_LOGGED) logger.warn(`state: … ${loaded.problems.length - MAX_PROBLEMS_LOGGED} more unreadable entries`);
    logger.debug(`state: ${loaded.open.size} open findings read from ${store.description} (${loaded.stats.documentsRead} documents)`);
    run = {
      tracker: new LifecycleTracker(loaded, opts.ownsJob),
      store: store.description,
      loadStats: loaded.stats,
      save: (changes) => store.save(changes),
    };
  } catch (err) {
    const problem = `${(err as Error).message}; findings are reported with lifecycle "unknown" and nothing is resolved`;
    logger.error(`state store: ${problem}`);
    run = {
      tracker: new LifecycleTracker(undefined, opts.ownsJob),
      store: store.description,
      loadProblem: problem,
      loadStats: { documentsRead: 0, documentsWritten: 0 },
      save: (changes) => store.save(changes),
    };
  }
  return {
    run,
    close: async () => {
      try {
        await store.close();
      } catch {
        // Closing the client after the run is best effort; the state was saved or reported.
      }
    },
  };
}
