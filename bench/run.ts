/**
 * `npm run bench`: the file-scan benchmark, then the other benchmark modules that exist.
 *
 *   npm run bench -- [--only files|api|pubsub|startup|evidence|remediation|lifecycle[,…]] [--sizes 10000,100000] [--repeat N] [--keep-data]
 *
 * The file scan generates synthetic organizations (about 2 GB at the default sizes) into
 * bench/.data; they are deleted at the end unless --keep-data keeps them for the next run.
 */
import { statfsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { benchFiles, parseRepeat, parseSizes, repoRoot, type FileBenchOptions } from './file-bench.js';

const SUITES = ['files', 'api', 'pubsub', 'startup', 'evidence', 'remediation', 'lifecycle'] as const;
type Suite = (typeof SUITES)[number];

/** Optional modules: each may be missing, in which case the run says so and goes on. */
const OPTIONAL: Record<Exclude<Suite, 'files'>, { module: string; exportName: string }> = {
  api: { module: './api-bench.js', exportName: 'benchApi' },
  pubsub: { module: './pubsub-bench.js', exportName: 'benchPubsub' },
  startup: { module: './startup-bench.js', exportName: 'benchStartup' },
  evidence: { module: './evidence-bench.js', exportName: 'benchEvidence' },
  remediation: { module: './remediation-bench.js', exportName: 'benchRemediation' },
  lifecycle: { module: './lifecycle-bench.js', exportName: 'benchLifecycle' },
};

export interface RunOptions {
  only?: Suite[];
  sizes?: number[];
  /** File scan: runs of each measurement, the fastest kept. */
  repeat?: number;
  /** Keep the generated inputs in bench/.data for the next run (default: delete them at the end). */
  keepData?: boolean;
  /** Where the inputs are generated (default {@link BENCH_DATA_DIR}). */
  dataDir?: string;
}

/** Where the file scan keeps its generated inputs. */
export const BENCH_DATA_DIR = join(repoRoot(), 'bench', '.data');
const DISK_NEEDED_BYTES = 2 * 1024 ** 3;

export function parseRunArgs(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { only: { type: 'string', multiple: true }, sizes: { type: 'string' }, repeat: { type: 'string' }, 'keep-data': { type: 'boolean' } },
  });
  const opts: RunOptions = {};
  if (values['keep-data']) opts.keepData = true;
  if (values.only) {
    const only = values.only.flatMap((v) => v.split(',')).map((s) => s.trim());
    for (const s of only) {
      if (!(SUITES as readonly string[]).includes(s)) throw new Error(`--only: unknown benchmark "${s}" (allowed: ${SUITES.join(', ')})`);
    }
    opts.only = only as Suite[];
  }
  if (values.sizes) opts.sizes = parseSizes(values.sizes);
  if (values.repeat) opts.repeat = parseRepeat(values.repeat);
  return opts;
}

function isMissingModule(err: unknown, module: string): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(module.replace('./', '').replace('.js', ''));
}

export async function runBenchmarks(opts: RunOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const wanted = new Set<Suite>(opts.only ?? SUITES);
  if (wanted.has('files')) {
    const dataDir = opts.dataDir ?? BENCH_DATA_DIR;
    log(`Note: the file scan generates synthetic inputs (about 2 GB at the default sizes) into ${dataDir} and takes a few minutes;`);
    log(opts.keepData ? '  --keep-data: they are kept for the next run.' : '  they are deleted at the end (--keep-data keeps them for the next run).');
    const free = freeBytes(dirname(dataDir));
    if (free !== undefined && free < DISK_NEEDED_BYTES) log(`  WARNING: only ${(free / 1024 ** 3).toFixed(1)} GB free there.`);
    log('');
    try {
      await runFileBench({ ...opts, dataDir }, log);
    } finally {
      if (!opts.keepData) await rm(dataDir, { recursive: true, force: true });
    }
  }
  await runOtherBenchmarks(wanted, opts, log);
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

async function runFileBench(opts: RunOptions, log: (line: string) => void): Promise<void> {
  {
    log('## File scan\n');
    const fileOpts: FileBenchOptions = { log };
    if (opts.sizes) fileOpts.sizes = opts.sizes;
    if (opts.repeat) fileOpts.repeat = opts.repeat;
    fileOpts.dataDir = opts.dataDir ?? BENCH_DATA_DIR;
    await benchFiles(fileOpts);
    log('');
  }
}

async function runOtherBenchmarks(wanted: ReadonlySet<Suite>, opts: RunOptions, log: (line: string) => void): Promise<void> {
  for (const suite of SUITES) {
    if (suite === 'files' || !wanted.has(suite)) continue;
    const { module, exportName } = OPTIONAL[suite];
    let mod: Record<string, unknown>;
    try {
      mod = (await import(module)) as Record<string, unknown>;
    } catch (err) {
      if (isMissingModule(err, module)) {
        log(`(skipping ${suite}: bench/${module.slice(2).replace(/\.js$/, '.ts')} is not there yet)\n`);
        continue;
      }
      throw err;
    }
    const fn = mod[exportName];
    if (typeof fn !== 'function') {
      log(`(skipping ${suite}: bench/${module.slice(2).replace(/\.js$/, '.ts')} does not export ${exportName}())\n`);
      continue;
    }
    log(`## ${suite}\n`);
    await (fn as (o: { sizes?: number[] }) => Promise<unknown>)(opts.sizes ? { sizes: opts.sizes } : {});
    log('');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Promise.resolve()
    .then(() => runBenchmarks(parseRunArgs(process.argv.slice(2))))
    .catch((err: unknown) => {
      const e = err as Error & { code?: string };
      // A usage mistake gets its message; anything else its stack.
      const usage = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || /^--/.test(e.message);
      process.stderr.write(`bench: ${usage ? e.message : (e.stack ?? String(err))}\n`);
      process.exitCode = 2;
    });
}
