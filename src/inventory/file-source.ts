import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { salvageIdentity, toAssetRecord, type InputProblem, type RecordResult } from './asset-record.js';
import { StringDecoder } from 'node:string_decoder';
import { JsonArraySplitter, JsonShapeError, NdjsonByteSplitter, NdjsonSplitter, RecordTooLongError, fileShape, isSpace } from './json-stream.js';
import { ReadStopped, type AssetSource, type DeferredJobs, type SourceReport } from './source.js';

const JOB_ASSET_TYPE = 'cloudscheduler.googleapis.com/Job';

/** Problems kept verbatim for stderr; the rest are only counted. */
export const MAX_KEPT_PROBLEMS = 1000;

/**
 * How much one file may hold once decompressed, and one record: generous for real exports (an
 * organization of a million jobs exports 1.4 GB; the largest records are IAM policies, at most
 * 64 KB, and resources of a few hundred KB), small enough that a decompression bomb or a file
 * without newlines fails that file quickly instead of exhausting memory.
 */
export interface InputLimits {
  maxInputBytes: number;
  maxRecordBytes: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = { maxInputBytes: 64 * 2 ** 30, maxRecordBytes: 16 * 2 ** 20 };

/** Thrown when a file holds more than the limit once decompressed. */
export class InputTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${formatBytes(limit)} once decompressed`);
    this.name = 'InputTooLargeError';
  }
}

/** 16 MiB, 64 GiB, 1000 B: for messages. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} B`;
}

/**
 * Reads `gcloud asset export` NDJSON (snake_case envelope) and `gcloud asset list
 * --format=json` output (a JSON array, or NDJSON of its elements), plain or gzipped (told
 * by its magic bytes), streaming. A file that cannot be opened or a line that is not JSON is a problem named by
 * file and line; reading goes on with the rest.
 */
export class FileAssetSource implements AssetSource {
  private readonly limits: InputLimits;

  constructor(
    private readonly paths: readonly string[],
    limits: Partial<InputLimits> = {},
  ) {
    this.limits = { ...DEFAULT_INPUT_LIMITS, ...limits };
  }

  get description(): string {
    return `files: ${this.paths.join(', ')}`;
  }

  async read(onRecord: (result: RecordResult) => void, options: { deferJobs?: boolean } = {}): Promise<SourceReport & { deferredJobs?: DeferredJobs }> {
    const report: SourceReport = { records: 0, problems: [], problemCount: 0, gaps: [] };
    const problem = (p: InputProblem, failed: RecordResult = { ok: false, problem: p }): void => {
      report.problemCount++;
      if (report.problems.length < MAX_KEPT_PROBLEMS) report.problems.push(p);
      onRecord(failed);
    };
    const deferred = new Map<string, number>();
    // Files that failed partway in the first read fail again at the same place in the second:
    // their problem is reported once.
    const failedFiles = new Set<string>();
    // Job names, to tell the scan which jobs may have a duplicate record (in any file).
    const jobNames = new JobNameCounter();
    for (const path of this.paths) {
      const split: JobSplit | undefined = options.deferJobs
        ? {
            keep: 'others',
            onSkippedJob: (jobName) => {
              if (jobName !== undefined) jobNames.note(jobName);
              deferred.set(path, (deferred.get(path) ?? 0) + 1);
            },
          }
        : undefined;
      await readOneFile(
        path,
        (result) => {
          if (result.ok) report.records++;
          else {
            problem(result.problem, result);
            return;
          }
          if (result.record.assetType === JOB_ASSET_TYPE) jobNames.note(result.record.name);
          onRecord(result);
        },
        (fileProblem) => {
          failedFiles.add(path);
          problem(fileProblem);
        },
        this.limits,
        split,
      ).catch((err: unknown) => {
        failedFiles.add(path);
        problem({ origin: path, message: describeIoError(err, this.limits) });
      });
    }
    const withNames = { ...report, mayRepeat: (jobAssetName: string) => jobNames.mayRepeat(jobAssetName) };
    if (deferred.size === 0) return withNames;
    const count = [...deferred.values()].reduce((a, b) => a + b, 0);
    return {
      ...withNames,
      deferredJobs: {
        count,
        read: async (onJob) => {
          for (const path of deferred.keys()) {
            const again = async (p: InputProblem): Promise<void> => {
              // The same failure as in the first read is already reported; a new one is not.
              if (failedFiles.has(path)) return;
              await onJob({ ok: false, problem: { origin: p.origin, message: `could not be read again for its jobs: ${p.message}` } });
            };
            await readOneFile(path, onJob, again, this.limits, { keep: 'jobs' }).catch(async (err: unknown) => {
              if (err instanceof ReadStopped) throw err;
              // The file was readable a moment ago; say so rather than lose its jobs quietly.
              await again({ origin: path, message: describeIoError(err, this.limits) });
            });
          }
        },
      },
    };
  }
}

/**
 * A Scheduler job record, told from its first keys without parsing it: the envelope's asset
 * type first, or after its name — the order protobuf's JSON and `gcloud asset export` write —
 * or after its ancestors (and name), the sorted key order of `gcloud asset list --format=json`.
 * A job whose envelope is ordered otherwise is simply not deferred (it is judged all the same,
 * only held in memory). A match inside nested data is impossible: the pattern is anchored at
 * the record's start, and the ancestors it skips are a flat array of resource names.
 */
const JOB_RECORD_START =
  /^\s*\{\s*(?:"ancestors"\s*:\s*\[[^\]]*\]\s*,\s*)?(?:"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*)?"(?:asset_type|assetType)"\s*:\s*"cloudscheduler\.googleapis\.com\/Job"(?:\s*,\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)")?/;
/**
 * The same test without capturing the name, for the read that only keeps jobs: captures cost
 * the regular expression about twice the time, on every record of the input.
 */
const JOB_RECORD_TEST =
  /^\s*\{\s*(?:"ancestors"\s*:\s*\[[^\]]*\]\s*,\s*)?(?:"name"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*)?"(?:asset_type|assetType)"\s*:\s*"cloudscheduler\.googleapis\.com\/Job"/;

export function isJobRecordText(text: string): boolean {
  return JOB_RECORD_TEST.test(text);
}

/**
 * A job record's head, told from its first keys: undefined when it is not a job, else its
 * name as written (JSON-escaped, and Latin-1 when read from bytes), when the head holds it.
 */
function jobHead(head: string): { rawName: string | undefined } | undefined {
  const m = JOB_RECORD_START.exec(head);
  return m ? { rawName: m[1] ?? m[2] } : undefined;
}

const ESCAPED_OR_NOT_ASCII = /[\\\u0080-\uffff]/;

/** The job's name from its raw text in the head: unescaped and decoded only when it needs to be. */
function decodeRawName(raw: string, latin1: boolean): string | undefined {
  // A regular expression, not a loop: the name is a slice of the head, slow to read char by char.
  if (!ESCAPED_OR_NOT_ASCII.test(raw)) return raw;
  try {
    return JSON.parse(`"${latin1 ? Buffer.from(raw, 'latin1').toString('utf8') : raw}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * Names of the Scheduler job records read, kept as 64-bit hashes in an open-addressing table
 * (a million names as strings would cost ~150 MB, as a Set of numbers ~50 MB and a third of a
 * microsecond a job; this table 16 MB): a name seen twice may be a duplicate record. A hash
 * collision only makes the scan hold two distinct jobs until the end of its read and compare
 * their real names.
 */
export class JobNameCounter {
  /** Pairs of 32-bit lanes; (0, 0) marks an empty slot, so a hash of (0, 0) is stored as (0, 1). */
  private table = new Uint32Array(1 << 16);
  private count = 0;
  private readonly repeated = new Set<string>();

  note(name: string): void {
    nameHash(name);
    const a = hashA;
    const b = hashB;
    if (this.insert(a, b)) return;
    this.repeated.add(`${a}:${b}`);
  }

  mayRepeat(name: string): boolean {
    if (this.repeated.size === 0) return false;
    nameHash(name);
    return this.repeated.has(`${hashA}:${hashB}`);
  }

  /** Adds the hash; false when it was there already. */
  private insert(a: number, b: number): boolean {
    if ((this.count + 1) * 4 > this.table.length) this.grow();
    const t = this.table;
    const mask = (t.length >>> 1) - 1;
    for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const x = t[slot * 2]!;
      const y = t[slot * 2 + 1]!;
      if (x === 0 && y === 0) {
        t[slot * 2] = a;
        t[slot * 2 + 1] = b;
        this.count++;
        return true;
      }
      if (x === a && y === b) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!);
  }
}

/** The lanes of the last {@link nameHash}: read at once (a million jobs, no array for each). */
let hashA = 0;
let hashB = 0;

/** What nearly every job's asset name starts with: hashing starts after it. */
const JOB_ASSET_NAME_PREFIX = '//cloudscheduler.googleapis.com/projects/';

/**
 * Two 32-bit FNV-1a-style lanes over UTF-16 code units, into hashA and hashB; never (0, 0). The
 * common prefix is skipped (the length still counts it): a name is read char by char from a slice
 * of its record's head, the slowest part of noting a million of them.
 */
function nameHash(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = s.startsWith(JOB_ASSET_NAME_PREFIX) ? JOB_ASSET_NAME_PREFIX.length : 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  hashA = a >>> 0;
  hashB = b >>> 0;
  if (hashA === 0 && hashB === 0) hashB = 1;
}

/** A record that starts with its name or ancestors: its type follows them, and they may be long. */
const NAME_FIRST = /^\s*\{\s*"(?:name|ancestors)"\s*:/;
const JOB_TEST_BYTES = 256;
/** Job names are at most about 600 characters; a record with a longer one is simply not deferred. */
const JOB_TEST_MAX_BYTES = 4096;

/**
 * `isJobRecordText` on a record's first bytes, decoded as Latin-1 rather than UTF-8: the test
 * reads only ASCII structure, and bytes of multi-byte characters (all ≥ 0x80) can be neither a
 * quote nor a backslash, so for valid JSON the answer is the same, and nothing else of the
 * record is decoded.
 */
export function isJobRecordBytes(buf: Buffer, start: number, end: number): boolean {
  const head = buf.toString('latin1', start, Math.min(end, start + JOB_TEST_BYTES));
  if (JOB_RECORD_TEST.test(head)) return true;
  if (end - start <= JOB_TEST_BYTES || !NAME_FIRST.test(head)) return false;
  return JOB_RECORD_TEST.test(buf.toString('latin1', start, Math.min(end, start + JOB_TEST_MAX_BYTES)));
}

/** {@link isJobRecordBytes}, with the job's raw name when its head holds it. */

function jobHeadBytes(buf: Buffer, start: number, end: number): { rawName: string | undefined } | undefined {
  const head = buf.toString('latin1', start, Math.min(end, start + JOB_TEST_BYTES));
  const job = jobHead(head);
  const longer = end - start > JOB_TEST_BYTES;
  if (job && (job.rawName !== undefined || !longer)) return job;
  if (!longer || (!job && !NAME_FIRST.test(head))) return job;
  return jobHead(buf.toString('latin1', start, Math.min(end, start + JOB_TEST_MAX_BYTES))) ?? job;
}

function describeIoError(err: unknown, limits: InputLimits): string {
  if (err instanceof InputTooLargeError) {
    return `${err.message} (the limit is --max-input-size, ${formatBytes(limits.maxInputBytes)}; a decompression bomb?); the rest of this file was not read`;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'file does not exist';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.code === 'EISDIR') return 'is a directory, not a file';
  if (e?.code === 'Z_DATA_ERROR') return `not valid gzip data (${e.message})`;
  if (e?.code === 'Z_BUF_ERROR') return 'gzip data ends early (truncated file?)';
  return e?.message ?? String(err);
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Gzip is told by its first two bytes, not by the file name: `.gz` is not always given. */
async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await fh.close();
  }
}

/**
 * Which records a read parses, told from their first keys: the first read of a scan skips the
 * Scheduler jobs, and is told each one's name (from its head, or by parsing the record when the
 * head lacks it); the second keeps only the jobs.
 */
interface JobSplit {
  keep: 'jobs' | 'others';
  onSkippedJob?: (name: string | undefined) => void;
}

/**
 * Reads one file record by record. Newline-delimited files are split as bytes, and a record is
 * decoded only when `split` keeps it; a JSON array (`gcloud asset list`) is decoded and split as
 * text. `onRecord` may return a promise, which is awaited before more of the file is read.
 */
async function readOneFile(
  path: string,
  onRecord: (r: RecordResult) => void | Promise<void>,
  onFileProblem: (p: InputProblem) => void | Promise<void>,
  limits: InputLimits,
  split?: JobSplit,
): Promise<void> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let stream: Readable = file;
  if (await isGzip(path)) stream = file.pipe(createGunzip({ chunkSize: 1 << 20 }));
  let size = 0;

  // Records of one chunk, decoded, parsed and handed on one at a time after the splitter returns,
  // so that onRecord can wait and only one record's text and objects are alive at once. A record
  // is a string (from the text splitter) or a byte range of a chunk (from the byte splitter).
  let pending: (string | Buffer)[] = [];
  let starts: number[] = [];
  let ends: number[] = [];
  let lines: number[] = [];
  const keep = (item: string | Buffer, start: number, end: number, line: number): void => {
    pending.push(item);
    starts.push(start);
    ends.push(end);
    lines.push(line);
  };
  const onText = (text: string, line: number): void => {
    if (!split) return keep(text, 0, 0, line);
    if (split.keep === 'jobs') {
      if (isJobRecordText(text)) keep(text, 0, 0, line);
      return;
    }
    const job = jobHead(text);
    if (job === undefined) return keep(text, 0, 0, line);
    split.onSkippedJob?.((job.rawName !== undefined ? decodeRawName(job.rawName, false) : undefined) ?? nameByParsing(text));
  };
  const onBytes = (buf: Buffer, start: number, end: number, line: number): void => {
    if (!split) return keep(buf, start, end, line);
    if (split.keep === 'jobs') {
      if (isJobRecordBytes(buf, start, end)) keep(buf, start, end, line);
      return;
    }
    const job = jobHeadBytes(buf, start, end);
    if (job === undefined) return keep(buf, start, end, line);
    split.onSkippedJob?.((job.rawName !== undefined ? decodeRawName(job.rawName, true) : undefined) ?? nameByParsing(buf.toString('utf8', start, end)));
  };
  const drain = async (): Promise<void> => {
    const batch = pending;
    const batchStarts = starts;
    const batchEnds = ends;
    const batchLines = lines;
    pending = [];
    starts = [];
    ends = [];
    lines = [];
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const text = typeof item === 'string' ? item : item.toString('utf8', batchStarts[i], batchEnds[i]);
      const done = onRecord(parseRecord(text, `${path}:${batchLines[i]!}`));
      if (done) await done;
    }
  };

  let bytes: NdjsonByteSplitter | undefined;
  let text: { decoder: StringDecoder; splitter: NdjsonSplitter | JsonArraySplitter } | undefined;
  // Blank bytes before the first record are skipped as they come, their newlines counted so that
  // lines still count: a file of a million blank lines must not be held (or joined) whole.
  let blankLines = 0;
  let atStart = true;
  // From the first non-blank byte while the shape cannot be told yet: a `[` and blanks.
  let lead: Buffer[] = [];
  let leadBytes = 0;
  const begin = (head: Buffer, shape: 'ndjson' | 'array'): void => {
    if (shape === 'ndjson') {
      bytes = new NdjsonByteSplitter(onBytes, limits.maxRecordBytes, blankLines + 1);
      bytes.push(head);
    } else {
      text = { decoder: new StringDecoder('utf8'), splitter: new JsonArraySplitter(onText, limits.maxRecordBytes, blankLines + 1) };
      text.splitter.push(text.decoder.write(head));
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limits.maxInputBytes) throw new InputTooLargeError(limits.maxInputBytes);
      if (bytes) bytes.push(chunk);
      else if (text) text.splitter.push(text.decoder.write(chunk));
      else {
        let piece = atStart ? withoutBom(chunk) : chunk;
        atStart = false;
        if (lead.length === 0) {
          let i = 0;
          for (; i < piece.length && isSpace(piece[i]!); i++) if (piece[i] === NEWLINE_BYTE) blankLines++;
          if (i === piece.length) continue;
          piece = piece.subarray(i);
        }
        lead.push(piece);
        leadBytes += piece.length;
        const head = lead.length === 1 ? piece : Buffer.concat(lead);
        // A `[` followed by this many blanks is read as the array it starts.
        const shape = fileShape(head) ?? (leadBytes > MAX_LEAD_BYTES ? 'array' : undefined);
        if (shape === undefined) continue;
        lead = [];
        begin(head, shape);
      }
      await drain();
    }
    // A `[` with only blanks after it: a truncated array. Only blanks: no records.
    if (lead.length > 0) begin(Buffer.concat(lead), 'array');
    if (bytes) bytes.end();
    else if (text) {
      const rest = text.decoder.end();
      if (rest !== '') text.splitter.push(rest);
      text.splitter.end();
    }
    await drain();
  } catch (err) {
    // Stop decompressing and reading at once: a bomb must not go on inflating behind us.
    stream.destroy();
    file.destroy();
    await drain();
    if (err instanceof JsonShapeError) {
      const done = onFileProblem({ origin: `${path}:${err.line}`, message: err.message });
      if (done) await done;
      return;
    }
    if (err instanceof RecordTooLongError) {
      const done = onFileProblem({
        origin: `${path}:${err.line}`,
        message: `a record longer than ${formatBytes(err.limit)} (the limit is --max-record-size; a damaged file or a decompression bomb?); the rest of this file was not read`,
      });
      if (done) await done;
      return;
    }
    throw err;
  }
}

/** A record's name the slow way, for the rare job whose head does not hold it. */
function nameByParsing(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { name?: unknown };
    return typeof value?.name === 'string' ? value.name : undefined;
  } catch {
    return undefined;
  }
}

function parseRecord(text: string, origin: string): RecordResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const problem = { origin, message: `not valid JSON (${(err as Error).message})` };
    // Who the record was, if that can still be read: a policy cut off is unknown, not absent.
    const identity = salvageIdentity(text);
    return identity ? { ok: false, problem, identity } : { ok: false, problem };
  }
  return toAssetRecord(value, origin);
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const NEWLINE_BYTE = 0x0a;
/** How much of a `[` and the blanks after it is held before the file is read as an array. */
const MAX_LEAD_BYTES = 1 << 20;

function withoutBom(buf: Buffer): Buffer {
  return buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2] ? buf.subarray(3) : buf;
}

