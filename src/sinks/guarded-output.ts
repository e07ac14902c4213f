import { closeSync, createWriteStream, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ConfigurationError } from '../errors.js';
import type { Finding } from '../findings/schema.js';
import type { Logger } from '../log/logger.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from './sink.js';

/**
 * Opens `--output` before anything is read: a path that cannot be opened (its directory is
 * missing, it is a directory, no permission) is a configuration error, and nothing is scanned.
 */
export function openOutputFile(path: string): Writable {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'its directory does not exist'
      : e.code === 'EISDIR' ? 'it is a directory'
      : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied'
      : e.code === 'ENOTDIR' ? 'a part of the path is not a directory'
      : `${e.code ?? 'error'}: ${e.message}`;
    throw new ConfigurationError('OUTPUT_UNOPENABLE', `--output ${path}: cannot be opened for writing (${why}); nothing was scanned`);
  }
  try {
    return createWriteStream('', { fd, autoClose: true });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Stands between a findings sink and where its text goes (stdout, `--output`), so that a failing
 * output never crashes the run nor is blamed on the input. The first error is logged once, naming
 * the output; later text is dropped, and backpressure still works, so the run goes on and the
 * other sinks (Pub/Sub) are unaffected. A pipe closed by its reader (`| head`, EPIPE) is not an
 * error: output stops quietly, as with any command-line tool.
 */
export class GuardedOutput extends Writable {
  error: NodeJS.ErrnoException | undefined;
  closedByReader = false;

  constructor(
    private readonly target: Writable,
    /** How people know this output: `--output PATH` or `stdout`. */
    readonly label: string,
    private readonly logger: Logger,
    /** End `target` when this ends (a file we opened; never stdout). */
    private readonly endTarget: boolean,
  ) {
    super({ highWaterMark: 64 * 1024 });
    target.on('error', (err) => this.note(err));
  }

  get failed(): boolean {
    return this.error !== undefined || this.closedByReader;
  }

  private note(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      this.closedByReader = true;
      this.logger.debug(`${this.label} was closed by its reader; no more findings are written there`);
      return;
    }
    this.error = err;
    this.logger.error(
      `cannot write ${this.label} (${err.code ? `${err.code}: ` : ''}${err.message}): the output is incomplete and the run partial; other sinks go on`,
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failed || this.target.destroyed) return callback();
    this.target.write(chunk, (err) => {
      if (err) this.note(err);
      callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.endTarget || this.target.destroyed) return callback();
    this.target.end((err?: Error | null) => {
      if (err) this.note(err);
      callback();
    });
  }

  /** Ends this stream (and a file target) and resolves when everything was written or dropped. */
  finish(): Promise<void> {
    if (this.writableFinished) return Promise.resolve();
    return new Promise((resolve) => {
      this.once('finish', () => resolve());
      this.once('close', () => resolve());
      if (!this.writableEnded) this.end();
    });
  }
}

/**
 * A sink writing to a {@link GuardedOutput}: when the output failed, its findings are counted as
 * undelivered (the file is incomplete, so none of it can be relied on) and the report names the
 * output and the error; the run is then partial.
 */
export function guardedSink(inner: FindingSink, output: GuardedOutput): FindingSink {
  let count = 0;
  return {
    name: inner.name,
    write(finding: Finding) {
      count++;
      return inner.write(finding);
    },
    // Resolution records, flushing and the undelivered ids (lifecycle) pass through unchanged.
    ...(inner.writeResolved ? { writeResolved: inner.writeResolved.bind(inner) } : {}),
    ...(inner.flush ? { flush: inner.flush.bind(inner) } : {}),
    ...(inner.undelivered ? { undelivered: inner.undelivered.bind(inner) } : {}),
    async close(summary: ScanSummary): Promise<SinkReport> {
      const report = await inner.close(summary);
      await output.finish();
      const error = output.error;
      if (!error) return report;
      const note = `could not write ${output.label} (${error.code ?? error.message}): the output is incomplete; its ${count} findings count as undelivered`;
      return { ...report, delivered: 0, failed: count, notes: [...(report.notes ?? []), note] };
    },
  };
}
