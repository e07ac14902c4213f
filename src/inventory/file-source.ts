import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { toAssetRecord, type InputProblem, type RecordResult } from './asset-record.js';
import { StringDecoder } from 'node:string_decoder';
import { JsonArraySplitter, JsonShapeError, NdjsonByteSplitter, NdjsonSplitter, fileShape } from './json-stream.js';
import { ReadStopped, type AssetSource, type DeferredJobs, type SourceReport } from './source.js';

/** Problems kept verbatim for stderr; the rest are only counted. */
export const MAX_KEPT_PROBLEMS = 1000;

/**
 * Reads `gcloud asset export` NDJSON (snake_case envelope) and `gcloud asset list
 * --format=json` output (a JSON array, or NDJSON of its elements), plain or gzipped (told
 * by its magic bytes), streaming. A file that cannot be opened or a line that is not JSON is a problem named by
 * file and line; reading goes on with the rest.
 */
export class FileAssetSource implements AssetSource {
  constructor(private readonly paths: readonly string[]) {}

  get description(): string {
    return `files: ${this.paths.join(', ')}`;
  }

  async read(onRecord: (result: RecordResult) => void, options: { deferJobs?: boolean } = {}): Promise<SourceReport & { deferredJobs?: DeferredJobs }> {
    const report: SourceReport = { records: 0, problems: [], problemCount: 0, gaps: [] };
    const problem = (p: InputProblem): void => {
      report.problemCount++;
      if (report.problems.length < MAX_KEPT_PROBLEMS) report.problems.push(p);
      onRecord({ ok: false, problem: p });
    };
    const deferred = new Map<string, number>();
    for (const path of this.paths) {
      const select = options.deferJobs
        ? (isJob: boolean): boolean => {
            if (!isJob) return true;
            deferred.set(path, (deferred.get(path) ?? 0) + 1);
            return false;
          }
        : undefined;
      await readOneFile(
        path,
        (result) => {
          if (result.ok) report.records++;
          else {
            problem(result.problem);
            return;
          }
          onRecord(result);
        },
        select,
      ).catch((err: unknown) => problem({ origin: path, message: describeIoError(err) }));
    }
    if (deferred.size === 0) return report;
    const count = [...deferred.values()].reduce((a, b) => a + b, 0);
    return {
      ...report,
      deferredJobs: {
        count,
        read: async (onJob) => {
          for (const path of deferred.keys()) {
            await readOneFile(path, onJob, (isJob) => isJob).catch(async (err: unknown) => {
              if (err instanceof ReadStopped) throw err;
              // The file was readable a moment ago; say so rather than lose its jobs quietly.
              await onJob({ ok: false, problem: { origin: path, message: `could not be read again for its jobs: ${describeIoError(err)}` } });
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
  /^\s*\{\s*(?:"ancestors"\s*:\s*\[[^\]]*\]\s*,\s*)?(?:"name"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*)?"(?:asset_type|assetType)"\s*:\s*"cloudscheduler\.googleapis\.com\/Job"/;

export function isJobRecordText(text: string): boolean {
  return JOB_RECORD_START.test(text);
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
  if (JOB_RECORD_START.test(head)) return true;
  if (end - start <= JOB_TEST_BYTES || !NAME_FIRST.test(head)) return false;
  return JOB_RECORD_START.test(buf.toString('latin1', start, Math.min(end, start + JOB_TEST_MAX_BYTES)));
}

function describeIoError(err: unknown): string {
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

/** Says, given whether a record is a Scheduler job (told from its first keys), whether to parse it. */
type JobSelect = (isJob: boolean) => boolean;

/**
 * Reads one file record by record. Newline-delimited files are split as bytes, and a record is
 * decoded only when `select` keeps it; a JSON array (`gcloud asset list`) is decoded and split as
 * text. `onRecord` may return a promise, which is awaited before more of the file is read.
 */
async function readOneFile(path: string, onRecord: (r: RecordResult) => void | Promise<void>, select?: JobSelect): Promise<void> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
  if (await isGzip(path)) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));

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
    if (!select || select(isJobRecordText(text))) keep(text, 0, 0, line);
  };
  const onBytes = (buf: Buffer, start: number, end: number, line: number): void => {
    if (!select || select(isJobRecordBytes(buf, start, end))) keep(buf, start, end, line);
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
  // Chunks before the shape can be told (blank or a lone `[`), kept so that lines still count.
  let lead: Buffer[] = [];
  const begin = (head: Buffer, shape: 'ndjson' | 'array'): void => {
    if (shape === 'ndjson') {
      bytes = new NdjsonByteSplitter(onBytes);
      bytes.push(head);
    } else {
      text = { decoder: new StringDecoder('utf8'), splitter: new JsonArraySplitter(onText) };
      text.splitter.push(text.decoder.write(head));
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (bytes) bytes.push(chunk);
      else if (text) text.splitter.push(text.decoder.write(chunk));
      else {
        lead.push(chunk);
        const head = withoutBom(lead.length === 1 ? chunk : Buffer.concat(lead));
        const shape = fileShape(head);
        if (shape === undefined) continue;
        lead = [];
        begin(head, shape);
      }
      await drain();
    }
    if (lead.length > 0) {
      const head = withoutBom(Buffer.concat(lead));
      // Only blanks: no records. Otherwise a `[` with nothing after it: a truncated array.
      if (head.toString('latin1').trim() !== '') begin(head, 'array');
    }
    if (bytes) bytes.end();
    else if (text) {
      const rest = text.decoder.end();
      if (rest !== '') text.splitter.push(rest);
      text.splitter.end();
    }
    await drain();
  } catch (err) {
    await drain();
    if (err instanceof JsonShapeError) {
      const done = onRecord({ ok: false, problem: { origin: `${path}:${err.line}`, message: err.message } });
      if (done) await done;
      return;
    }
    throw err;
  }
}

function parseRecord(text: string, origin: string): RecordResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: { origin, message: `not valid JSON (${(err as Error).message})` } };
  }
  return toAssetRecord(value, origin);
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

function withoutBom(buf: Buffer): Buffer {
  return buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2] ? buf.subarray(3) : buf;
}

