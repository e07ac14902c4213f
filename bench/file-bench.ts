/**
 * File-scan benchmark: for each size, a bare streaming parse of the export files (read, split,
 * JSON.parse every record, nothing else) against the full scan of the same files (all rules, a
 * sink serialising findings as JSONL to /dev/null). Each measurement runs in a fresh child
 * process, so that its peak RSS is its own.
 *
 *   node dist/bench/file-bench.js [--sizes 10000,100000,1000000] [--shape export|list] [--repeat N]
 */
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { JsonArraySplitter, NdjsonByteSplitter, fileShape } from '../src/inventory/json-stream.js';
import { generateSyntheticOrg, type SyntheticOrgOptions } from './synthetic-org.js';

export const DEFAULT_SIZES = [10_000, 100_000, 1_000_000];

export interface FileBenchOptions {
  /** Job counts to measure (default 10k, 100k, 1M). */
  sizes?: readonly number[];
  /** Input shape (default 'export'). */
  shape?: 'export' | 'list';
  /** Where generated inputs are kept and reused (default `bench/.data` in the repository). */
  dataDir?: string;
  /** Runs of each measurement; the fastest is kept (default 1). More runs steady a shared machine. */
  repeat?: number;
  /** Progress and table lines; default stdout. */
  log?: (line: string) => void;
}

export interface Measurement {
  /** Seconds from the first read to the last record (bare) or the closed sinks (scan). */
  seconds: number;
  /** CPU seconds (user + system) the child spent over the same span: less disturbed by other load. */
  cpuSeconds: number;
  /** Peak resident set size of the child process, bytes. */
  peakRssBytes: number;
  records: number;
  /** Scan only: seconds until the source had handed over its last record (read, parse, model). */
  readSeconds?: number;
  jobsScanned?: number;
  findings?: number;
  bytesWritten?: number;
}

export interface FileBenchRow {
  jobs: number;
  shape: 'export' | 'list';
  inputBytes: number;
  bare: Measurement;
  scan: Measurement;
  /** scan seconds / bare seconds. */
  ratio: number;
}

/** Generation parameters for a size: about 1000 jobs a project and 50 a target. */
export function orgFor(jobs: number, dir: string, shape: 'export' | 'list'): SyntheticOrgOptions {
  return {
    dir,
    jobs,
    projects: Math.max(10, Math.round(jobs / 1000)),
    targets: Math.max(50, Math.round(jobs / 50)),
    locationsPerProject: 2,
    seed: 1,
    shape,
  };
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
}

/** Generates the inputs for a size once; later runs reuse them when the manifest matches. */
export async function inputsFor(jobs: number, shape: 'export' | 'list', dataDir: string, log: (l: string) => void): Promise<string[]> {
  const dir = join(dataDir, `${shape}-${jobs}`);
  const wanted = orgFor(jobs, dir, shape);
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      options: Record<string, unknown>;
      byShape: Record<string, string[]>;
    };
    const { dir: _omit, ...comparable } = wanted;
    const files = manifest.byShape[shape];
    if (JSON.stringify(manifest.options) === JSON.stringify(comparable) && files && files.every((f) => existsSync(f))) return files;
  } catch {
    // no usable manifest: generate
  }
  await rm(dir, { recursive: true, force: true });
  log(`generating ${jobs} jobs (${shape}) into ${dir} ...`);
  const started = performance.now();
  const org = await generateSyntheticOrg(wanted);
  log(`  ${org.counts.records} records in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return org.byShape[shape]!;
}

function measureInChild(mode: 'bare' | 'scan', files: string[]): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', mode, ...files], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Measurement | undefined;
    child.on('message', (m) => {
      result = m as Measurement;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`${mode} child ended without a result (exit ${code ?? signal})`));
    });
  });
}

/** Runs the benchmark for each size and returns one row per size. */
export async function benchFiles(opts: FileBenchOptions = {}): Promise<FileBenchRow[]> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const shape = opts.shape ?? 'export';
  const dataDir = opts.dataDir ?? join(repoRoot(), 'bench', '.data');
  const rows: FileBenchRow[] = [];
  for (const jobs of opts.sizes ?? DEFAULT_SIZES) {
    const files = await inputsFor(jobs, shape, dataDir, log);
    let inputBytes = 0;
    for (const f of files) inputBytes += (await stat(f)).size;
    let bare: Measurement | undefined;
    let scan: Measurement | undefined;
    // Interleaved, so that a burst of other load hits both kinds alike.
    for (let run = 0; run < Math.max(1, opts.repeat ?? 1); run++) {
      const b = await measureInChild('bare', files);
      const s = await measureInChild('scan', files);
      if (!bare || b.seconds < bare.seconds) bare = b;
      if (!scan || s.seconds < scan.seconds) scan = s;
    }
    if (!bare || !scan) throw new Error('no measurement');
    const row: FileBenchRow = { jobs, shape, inputBytes, bare, scan, ratio: scan.seconds / bare.seconds };
    rows.push(row);
    log(
      `${jobs} jobs: bare ${bare.seconds.toFixed(2)} s ${mb(bare.peakRssBytes)} MB, scan ${scan.seconds.toFixed(2)} s ` +
        `${mb(scan.peakRssBytes)} MB, ratio ${row.ratio.toFixed(2)}`,
    );
  }
  log('');
  for (const line of fileBenchTable(rows)) log(line);
  return rows;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function rate(n: number, seconds: number): string {
  return Math.round(n / seconds).toLocaleString('en-US');
}

/** The results as a Markdown table, with the machine line under it. */
export function fileBenchTable(rows: readonly FileBenchRow[]): string[] {
  const lines = [
    '| jobs | shape | input MB | bare s | bare jobs/s | bare peak RSS MB | scan s | of which read + model s | scan jobs/s | scan µs/job | scan CPU s | scan peak RSS MB | scan/bare |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.jobs.toLocaleString('en-US')} | ${r.shape} | ${mb(r.inputBytes)} | ${r.bare.seconds.toFixed(2)} | ${rate(r.jobs, r.bare.seconds)} | ` +
        `${mb(r.bare.peakRssBytes)} | ${r.scan.seconds.toFixed(2)} | ${(r.scan.readSeconds ?? 0).toFixed(2)} | ${rate(r.jobs, r.scan.seconds)} | ` +
        `${((r.scan.seconds / r.jobs) * 1e6).toFixed(1)} | ${r.scan.cpuSeconds.toFixed(2)} | ${mb(r.scan.peakRssBytes)} | ${r.ratio.toFixed(2)} |`,
    );
  }
  lines.push('', `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${mb(totalmem())} MB RAM, Node ${process.version}.`);
  return lines;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/**
 * The bare parse: the fastest plain way to parse every record, with the reader's own splitters:
 * NDJSON split as bytes and each line decoded, a JSON array decoded and split as text; then
 * JSON.parse of every record, and nothing else.
 */
async function bareParse(files: string[]): Promise<Measurement> {
  let records = 0;
  let sink = 0;
  const onRecord = (text: string): void => {
    const value = JSON.parse(text) as { name?: unknown };
    records++;
    if (typeof value.name === 'string') sink += value.name.length;
  };
  const onBytes = (buf: Buffer, start: number, end: number): void => onRecord(buf.toString('utf8', start, end));
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const path of files) {
    let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
    if (path.endsWith('.gz')) stream = stream.pipe(createGunzip({ chunkSize: 1 << 20 }));
    let splitter: NdjsonByteSplitter | { decoder: StringDecoder; array: JsonArraySplitter } | undefined;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (splitter === undefined) {
        splitter = fileShape(chunk) === 'array' ? { decoder: new StringDecoder('utf8'), array: new JsonArraySplitter(onRecord) } : new NdjsonByteSplitter(onBytes);
      }
      if (splitter instanceof NdjsonByteSplitter) splitter.push(chunk);
      else splitter.array.push(splitter.decoder.write(chunk));
    }
    if (splitter instanceof NdjsonByteSplitter) splitter.end();
    else if (splitter) {
      splitter.array.push(splitter.decoder.end());
      splitter.array.end();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  if (sink < 0) throw new Error('unreachable');
  return { seconds, cpuSeconds, records, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

/** The full scan: file source, every rule, findings written by the JSONL sink to /dev/null. */
async function fullScan(files: string[]): Promise<Measurement> {
  const [{ runScan }, { FileAssetSource }, { allRules }, { textLogger }, { JsonlSink }] = await Promise.all([
    import('../src/scan/run-scan.js'),
    import('../src/inventory/file-source.js'),
    import('../rules/index.js'),
    import('../src/log/logger.js'),
    import('../src/sinks/stream-sinks.js'),
  ]);
  const out = createWriteStream('/dev/null');
  const started = performance.now();
  const cpu = process.cpuUsage();
  const inner = new FileAssetSource(files);
  let readDone = started;
  const result = await runScan({
    source: {
      description: inner.description,
      read: async (onRecord, options) => {
        const report = await inner.read(onRecord, options);
        readDone = performance.now();
        return report;
      },
    },
    rules: allRules,
    logger: textLogger('silent'),
    sinks: [new JsonlSink(out)],
  });
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  return {
    seconds,
    cpuSeconds,
    readSeconds: (readDone - started) / 1000,
    records: result.summary.assetsRead,
    jobsScanned: result.summary.jobsScanned,
    findings: result.summary.findings.total,
    bytesWritten: out.bytesWritten,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const mode = argv[1];
    const files = argv.slice(2);
    const m = mode === 'bare' ? await bareParse(files) : await fullScan(files);
    // Run by hand (for `node --cpu-prof`), the child prints its measurement instead.
    if (process.send) process.send(m);
    else process.stdout.write(JSON.stringify(m) + '\n');
    return;
  }
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { sizes: { type: 'string' }, shape: { type: 'string' }, repeat: { type: 'string' } },
  });
  const opts: FileBenchOptions = {};
  if (values.repeat) opts.repeat = parseRepeat(values.repeat);
  if (values.sizes) opts.sizes = parseSizes(values.sizes);
  if (values.shape) {
    if (values.shape !== 'export' && values.shape !== 'list') throw new Error(`--shape must be export or list, got "${values.shape}"`);
    opts.shape = values.shape;
  }
  await benchFiles(opts);
}

export function parseRepeat(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`--repeat must be a whole number from 1, got "${text}"`);
  return Number(text);
}

/** `10000,100000` or `10k,1M`. */
export function parseSizes(text: string): number[] {
  return text.split(',').map((s) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(s);
    if (!m) throw new Error(`--sizes: "${s}" is not a job count`);
    const n = Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1_000 : 1_000_000);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: "${s}" is not a whole positive number`);
    return n;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const e = err as Error & { code?: string };
    const usage = e.code?.startsWith('ERR_PARSE_ARGS') === true || /^--/.test(e.message);
    process.stderr.write(`file-bench: ${usage ? e.message : (e.stack ?? String(err))}\n`);
    process.exitCode = 2;
  });
}
