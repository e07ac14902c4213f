import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { toAssetRecord, type InputProblem, type RecordResult } from './asset-record.js';
import { JsonArraySplitter, JsonShapeError, NdjsonSplitter, looksLikeArray } from './json-stream.js';
import { ReadStopped, type AssetSource, type DeferredJobs, type SourceReport } from './source.js';

/** Problems kept verbatim for stderr; the rest are only counted. */
export const MAX_KEPT_PROBLEMS = 1000;

const BOM = 0xfeff;

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
        ? (text: string): boolean => {
            if (!isJobRecordText(text)) return true;
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
            await readOneFile(path, onJob, isJobRecordText).catch(async (err: unknown) => {
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
 * type first, or right after its name — the order protobuf's JSON and gcloud write. A job whose
 * envelope is ordered otherwise is simply not deferred; a match inside nested data is impossible,
 * since it is anchored at the record's start.
 */
const JOB_RECORD_START =
  /^\s*\{\s*(?:"name"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*)?"(?:asset_type|assetType)"\s*:\s*"cloudscheduler\.googleapis\.com\/Job"/;

export function isJobRecordText(text: string): boolean {
  return JOB_RECORD_START.test(text);
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

/**
 * Reads one file record by record. `select`, given a record's text, says whether to parse it;
 * `onRecord` may return a promise, which is awaited before more of the file is read.
 */
async function readOneFile(
  path: string,
  onRecord: (r: RecordResult) => void | Promise<void>,
  select?: (text: string) => boolean,
): Promise<void> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
  if (await isGzip(path)) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
  stream.setEncoding('utf8');

  // Results of one chunk, handed on after the splitter returns, so that onRecord can wait.
  let ready: RecordResult[] = [];
  const handle = (text: string, line: number): void => {
    if (select && !select(text)) return;
    const origin = `${path}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      ready.push({ ok: false, problem: { origin, message: `not valid JSON (${(err as Error).message})` } });
      return;
    }
    ready.push(toAssetRecord(value, origin));
  };
  const drain = async (): Promise<void> => {
    const batch = ready;
    ready = [];
    for (const r of batch) {
      const pending = onRecord(r);
      if (pending) await pending;
    }
  };

  let splitter: NdjsonSplitter | JsonArraySplitter | undefined;
  // Blank text before the first value, kept so that the splitter still counts its lines.
  let lead = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (splitter === undefined) {
        const text = lead === '' && chunk.charCodeAt(0) === BOM ? chunk.slice(1) : lead + chunk;
        const isArray = looksLikeArray(text.trimStart());
        if (isArray === undefined) {
          lead = text;
          continue;
        }
        splitter = isArray ? new JsonArraySplitter(handle) : new NdjsonSplitter(handle);
        lead = '';
        splitter.push(text);
      } else {
        splitter.push(chunk);
      }
      await drain();
    }
    if (splitter === undefined && lead.trim() !== '') {
      splitter = lead.trimStart().startsWith('[') ? new JsonArraySplitter(handle) : new NdjsonSplitter(handle);
    }
    if (splitter !== undefined && lead !== '') splitter.push(lead);
    splitter?.end();
    await drain();
  } catch (err) {
    await drain();
    if (err instanceof JsonShapeError) {
      const pending = onRecord({ ok: false, problem: { origin: `${path}:${err.line}`, message: err.message } });
      if (pending) await pending;
      return;
    }
    throw err;
  }
}
