import type { Writable } from 'node:stream';

/**
 * Gathers lines into writes of about 64 KiB and waits for the stream to drain when it asks to:
 * a million findings become a few hundred writes, never one string held whole.
 */
export class ChunkedWriter {
  private pending = '';
  constructor(
    private readonly out: Writable,
    private readonly chunkChars = 64 * 1024,
  ) {}

  line(text: string): void | Promise<void> {
    return this.text(`${text}\n`);
  }

  text(text: string): void | Promise<void> {
    this.pending += text;
    if (this.pending.length < this.chunkChars) return;
    const chunk = this.pending;
    this.pending = '';
    return writeWithDrain(this.out, chunk);
  }

  async end(): Promise<void> {
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    await writeWithDrain(this.out, chunk);
  }
}

/** Writes with backpressure: resolves when the stream can take more. */
export function writeWithDrain(out: Writable, text: string): void | Promise<void> {
  if (out.write(text)) return;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      out.off('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}
