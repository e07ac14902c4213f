import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** One undelivered message, one JSON line: enough to publish it again unchanged. */
export interface SpoolRecord {
  topic: string;
  attributes: Record<string, string>;
  /** The message data, UTF-8 (cronwarden's data is always JSON text). */
  data: string;
  error: { code: number | null; status: string; message: string };
  failedAt: string;
}

/**
 * A JSONL file of undelivered messages, created on the first failure only (a run that delivered
 * everything leaves no file behind), appended to, never truncated.
 */
export class Spool {
  private stream: WriteStream | undefined;
  private writeError: Error | undefined;
  records = 0;

  constructor(readonly path: string) {}

  append(record: SpoolRecord): void {
    this.appendRaw(JSON.stringify(record));
  }

  /** Keeps a line as it is (a line of an older spool that no longer parses). */
  appendRaw(line: string): void {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'a' });
      this.stream.on('error', (err) => {
        this.writeError ??= err;
      });
    }
    this.records++;
    this.stream.write(`${line}\n`);
  }

  /** Flushes and closes the file; rejects if any line could not be written. */
  async close(): Promise<void> {
    const stream = this.stream;
    if (stream && !stream.closed) {
      await new Promise<void>((resolve) => {
        stream.end(() => resolve());
        stream.once('error', () => resolve());
      });
    }
    if (this.writeError) throw this.writeError;
  }
}

/** Reads a spool file line by line: parsed records, or the raw line when it does not parse. */
export async function* readSpool(path: string): AsyncGenerator<{ line: number; record?: SpoolRecord; raw: string }> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    let record: SpoolRecord | undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<SpoolRecord>;
      if (typeof parsed.data === 'string' && parsed.attributes && typeof parsed.attributes === 'object') record = parsed as SpoolRecord;
    } catch {
      record = undefined;
    }
    yield record ? { line: n, record, raw } : { line: n, raw };
  }
}
