/** Signals that ask a scan to stop: Cloud Run sends SIGTERM, a terminal sends SIGINT. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

const SIGNAL_NUMBERS: Record<StopSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** 128 + the signal number, what a shell reports for a process ended by that signal. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

export function isStopSignal(value: unknown): value is StopSignal {
  return typeof value === 'string' && (STOP_SIGNALS as readonly string[]).includes(value);
}

export interface StopHandlerOptions {
  /**
   * How long a stop may take before the process exits anyway. Cloud Run kills a task 10 s
   * after SIGTERM; leaving first lets the last log line say what happened. Reading an
   * inventory cannot be interrupted half-way, so this is what bounds a stop in that phase.
   */
  graceMs?: number;
  /** Told once, when the first signal arrives. */
  onStop?: (signal: StopSignal) => void;
  /** Told when the grace period ends or a second signal arrives, just before exiting. */
  onForcedExit?: (signal: StopSignal, why: 'grace-elapsed' | 'second-signal') => void;
  /** For tests; the default ends the process. */
  exit?: (code: number) => void;
  /** For tests; the default is the process. */
  target?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/**
 * Turns the first SIGTERM or SIGINT into an abort of `controller` (the scan stops taking jobs,
 * flushes its sinks and reports the run as interrupted), and a second one, or the end of the
 * grace period, into an immediate exit with 128 + the signal number. Returns an uninstaller.
 */
export function installStopHandlers(controller: AbortController, opts: StopHandlerOptions = {}): () => void {
  const target = opts.target ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const graceMs = opts.graceMs ?? 8_000;
  let timer: NodeJS.Timeout | undefined;
  const handlers = new Map<StopSignal, () => void>();
  for (const signal of STOP_SIGNALS) {
    const handler = (): void => {
      if (!controller.signal.aborted) {
        controller.abort(signal);
        opts.onStop?.(signal);
        timer = setTimeout(() => {
          opts.onForcedExit?.(signal, 'grace-elapsed');
          exit(signalExitCode(signal));
        }, graceMs);
        timer.unref();
        return;
      }
      opts.onForcedExit?.(signal, 'second-signal');
      exit(signalExitCode(signal));
    };
    handlers.set(signal, handler);
    target.on(signal, handler);
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const [signal, handler] of handlers) target.off(signal, handler);
  };
}
