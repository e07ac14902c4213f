import type { Writable } from 'node:stream';

export interface Progress {
  /** Records that `done` of `total` jobs have been judged; redraws at most every `intervalMs`. */
  update(done: number, total: number): void;
  /** Writes a line (a log line) above the progress line, which is then redrawn. */
  writeAbove(text: string): void;
  /** Erases the progress line for good; later updates draw nothing. */
  clear(): void;
}

export interface ProgressOptions {
  intervalMs?: number;
  now?: () => number;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * A one-line "judged N of M jobs" display on a terminal's stderr, redrawn in place. Without a
 * terminal (a pipe, a file, Cloud Run) it is a pass-through that draws nothing: progress lines
 * in a log are noise.
 */
export function createProgress(stream: Writable & { isTTY?: boolean }, opts: ProgressOptions = {}): Progress {
  if (!stream.isTTY) {
    return { update: () => {}, writeAbove: (text) => void stream.write(text), clear: () => {} };
  }
  const intervalMs = opts.intervalMs ?? 100;
  const now = opts.now ?? (() => performance.now());
  let shown = '';
  let lastDraw = -Infinity;
  let closed = false;
  const draw = (text: string): void => {
    stream.write(`${CLEAR_LINE}${text}`);
    shown = text;
  };
  return {
    update(done, total) {
      if (closed) return;
      const t = now();
      if (done < total && t - lastDraw < intervalMs) return;
      lastDraw = t;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      draw(`cronwarden: judged ${done} of ${total} jobs (${pct}%)`);
    },
    writeAbove(text) {
      if (shown) stream.write(CLEAR_LINE);
      stream.write(text);
      if (shown && !closed) stream.write(shown);
    },
    clear() {
      if (shown) stream.write(CLEAR_LINE);
      shown = '';
      closed = true;
    },
  };
}
