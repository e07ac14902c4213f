import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { toAssetRecord, type InputProblem, type RecordResult } from './asset-record.js';
import { JsonArraySplitter, JsonShapeError, NdjsonSplitter, looksLikeArray } from './json-stream.js';
import type { AssetSource, SourceReport } from './source.js';

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

  async read(onRecord: (result: RecordResult) => void): Promise<SourceReport> {
    const report: SourceReport = { records: 0, problems: [], problemCount: 0, gaps: [] };
    const problem = (p: InputProblem): void => {
      report.problemCount++;
      if (report.problems.length < MAX_KEPT_PROBLEMS) report.problems.push(p);
      onRecord({ ok: false, problem: p });
    };
    for (const path of this.paths) {
      await readOneFile(path, (result) => {
        if (result.ok) report.records++;
        else {
          problem(result.problem);
          return;
        }
        onRecord(result);
      }).catch((err: unknown) => problem({ origin: path, message: describeIoError(err) }));
    }
    return report;
  }
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

async function readOneFile(path: string, onRecord: (r: RecordResult) => void): Promise<void> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
  if (await isGzip(path)) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
  stream.setEncoding('utf8');

  const handle = (text: string, line: number): void => {
    const origin = `${path}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      onRecord({ ok: false, problem: { origin, message: `not valid JSON (${(err as Error).message})` } });
      return;
    }
    onRecord(toAssetRecord(value, origin));
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
        continue;
      }
      splitter.push(chunk);
    }
    if (splitter === undefined && lead.trim() !== '') {
      splitter = lead.trimStart().startsWith('[') ? new JsonArraySplitter(handle) : new NdjsonSplitter(handle);
    }
    if (splitter !== undefined && lead !== '') splitter.push(lead);
    splitter?.end();
  } catch (err) {
    if (err instanceof JsonShapeError) {
      onRecord({ ok: false, problem: { origin: `${path}:${err.line}`, message: err.message } });
      return;
    }
    throw err;
  }
}
