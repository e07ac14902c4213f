import { chmodSync, closeSync, constants, createReadStream, lstatSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigurationError } from '../../errors.js';

/** One undelivered message, one JSON line: enough to publish it again unchanged. */
export interface SpoolRecord {
  attributes: Record<string, string>;
  /** The message data, UTF-8 (cronwarden's data is always JSON text). */
  data: string;
  error: { code: number | null; status: string; message: string };
  failedAt: string;
}

/**
 * The first line of every spool file: the one topic its messages were going to. `replay-spool`
 * publishes there (or to `--topic`), never to a topic named by a record: a line is only data.
 */
export interface SpoolHeader {
  cronwardenSpool: 1;
  topic: string;
  scanId?: string;
  createdAt: string;
}

export const SPOOL_SUFFIX = '.spool.jsonl';

/**
 * Creates the spool directory (0700) or checks the one there: a real directory, not a symbolic
 * link, owned by this user; group and other access is taken away. Spool files hold finding data.
 */
export function prepareSpoolDir(dir: string): string {
  const path = resolve(dir);
  mkdirSync(dirname(path), { recursive: true });
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw spoolError(path, err);
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw new ConfigurationError('SPOOL_UNSAFE', `spool directory ${path} is a symbolic link; refusing to write findings through it`);
  if (!st.isDirectory()) throw new ConfigurationError('SPOOL_UNSAFE', `spool directory ${path} exists and is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new ConfigurationError('SPOOL_UNSAFE', `spool directory ${path} belongs to another user (uid ${st.uid}); refusing it`);
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
  return path;
}

/** A spool file name of its own for one run: time first, so a directory lists in run order. */
export function spoolFileName(scanId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `cronwarden-${stamp}-${scanId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 36)}${SPOOL_SUFFIX}`;
}

function spoolError(path: string, err: unknown): ConfigurationError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EEXIST' ? 'it already exists (one spool file per run; a file is never appended to)'
    : e.code === 'ELOOP' ? 'it is a symbolic link'
    : e.code === 'ENOENT' ? 'its directory does not exist'
    : e.code === 'EACCES' ? 'permission denied'
    : `${e.code ?? 'error'}: ${e.message}`;
  return new ConfigurationError('SPOOL_UNWRITABLE', `cannot create the spool file ${path}: ${why}`, { cause: err });
}

/**
 * A JSONL file of undelivered messages, one per run: created 0600 with O_EXCL and O_NOFOLLOW (an
 * existing file or a planted symbolic link is refused, never followed or appended to), its
 * header written at once. Lines are written synchronously as they come, so what was
 * spooled is on disk before the process exits, even when a stop cuts the run short. A file that
 * received no message is removed on close: a run that delivered everything leaves nothing.
 */
export class Spool {
  private fd: number | undefined;
  private buffer = '';
  private writeError: Error | undefined;
  records = 0;

  private constructor(readonly path: string) {}

  /** Creates `path` exclusively and writes its header; a configuration error if it cannot. */
  static create(path: string, header: Omit<SpoolHeader, 'cronwardenSpool' | 'createdAt'>): Spool {
    const spool = new Spool(resolve(path));
    try {
      spool.fd = openSync(spool.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw spoolError(spool.path, err);
    }
    const full: SpoolHeader = { cronwardenSpool: 1, topic: header.topic, ...(header.scanId ? { scanId: header.scanId } : {}), createdAt: new Date().toISOString() };
    spool.buffer = `${JSON.stringify(full)}\n`;
    spool.flush();
    return spool;
  }

  /** A new spool file in `dir` (prepared 0700) for one run. */
  static inDirectory(dir: string, header: { topic: string; scanId: string }): Spool {
    return Spool.create(join(prepareSpoolDir(dir), spoolFileName(header.scanId)), header);
  }

  append(record: SpoolRecord): void {
    this.appendRaw(JSON.stringify(record));
  }

  /** Keeps a line as it is (a line of a spool file that does not validate). */
  appendRaw(line: string): void {
    this.records++;
    this.buffer += `${line}\n`;
    // Written at once: spooling is the failure path, and a line on disk survives any exit.
    this.flush();
  }

  /** Writes what is buffered, synchronously. Safe to call from an exit path. */
  flush(): void {
    if (this.buffer === '' || this.fd === undefined) return;
    const data = Buffer.from(this.buffer, 'utf8');
    this.buffer = '';
    try {
      for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
    } catch (err) {
      this.writeError ??= err as Error;
    }
  }

  /** Flushes and closes the file (removed when it holds no message); throws if a line was lost. */
  async close(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
      if (this.records === 0 && !this.writeError) unlinkSync(this.path);
    }
    if (this.writeError) throw this.writeError;
  }
}

export type SpoolLine =
  | { line: number; raw: string; header: SpoolHeader }
  | { line: number; raw: string; header?: undefined };

/** Reads a spool file line by line, raw; the header, when the first line is one, is told apart. */
export async function* readSpoolLines(path: string): AsyncGenerator<SpoolLine> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let first = true;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    if (first) {
      first = false;
      const header = parseHeader(raw);
      if (header) {
        yield { line: n, raw, header };
        continue;
      }
    }
    yield { line: n, raw };
  }
}

function parseHeader(raw: string): SpoolHeader | undefined {
  try {
    const v = JSON.parse(raw) as Partial<SpoolHeader>;
    if (v && typeof v === 'object' && v.cronwardenSpool === 1 && typeof v.topic === 'string') return v as SpoolHeader;
  } catch {
    // not a header
  }
  return undefined;
}

/** Whether a directory entry is a spool file `replay-spool` takes from a directory. */
export function isSpoolFileName(name: string): boolean {
  return basename(name).endsWith(SPOOL_SUFFIX);
}
