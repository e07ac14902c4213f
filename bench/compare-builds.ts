/**
 * The file scan of this build against another build of cronwarden, side by side: both scan the
 * same generated files at the same time, one process each (one core each on a two-core machine),
 * so that load from outside hits both alike. Single runs on shared cores move by up to a factor
 * of two; pairs measured together move by a few per cent. Reported per pair: wall and CPU
 * seconds and peak RSS of each, and the CPU ratio; then the median ratio per size.
 *
 *   node dist/bench/compare-builds.js --other DIR [--sizes 100000,1000000] [--pairs 3]
 *
 * DIR is another checkout, built (`npm ci && npm run build`): its own dist/bench/file-bench.js
 * runs the scan as that build does. `git worktree add DIR COMMIT` makes one.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { inputsFor, parseRepeat, parseSizes, repoRoot, type Measurement } from './file-bench.js';

export interface BuildPair {
  jobs: number;
  other: Measurement;
  self: Measurement;
  /** self CPU seconds / other CPU seconds. */
  cpuRatio: number;
}

export interface CompareOptions {
  /** A checkout of the other build, with its dist/ built. */
  other: string;
  sizes?: number[];
  pairs?: number;
  dataDir?: string;
  log?: (line: string) => void;
}

const SELF_SCAN = fileURLToPath(new URL('./file-bench.js', import.meta.url));

export function otherScanScript(otherCheckout: string): string {
  const script = join(resolve(otherCheckout), 'dist', 'bench', 'file-bench.js');
  if (!existsSync(script)) throw new Error(`--other: ${script} does not exist (build that checkout first: npm ci && npm run build)`);
  return script;
}

function scanInChild(script: string, files: string[]): Promise<Measurement> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(script, ['--child', 'scan', ...files], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Measurement | undefined;
    child.on('message', (m) => {
      result = m as Measurement;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (result ? resolvePromise(result) : reject(new Error(`${script} ended without a result (exit ${code ?? signal})`))));
  });
}

export async function compareBuilds(opts: CompareOptions): Promise<BuildPair[]> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const other = otherScanScript(opts.other);
  const dataDir = opts.dataDir ?? join(repoRoot(), 'bench', '.data');
  const pairs: BuildPair[] = [];
  for (const jobs of opts.sizes ?? [100_000, 1_000_000]) {
    const files = await inputsFor(jobs, 'export', dataDir, log);
    for (let i = 0; i < (opts.pairs ?? 3); i++) {
      const [o, s] = await Promise.all([scanInChild(other, files), scanInChild(SELF_SCAN, files)]);
      pairs.push({ jobs, other: o, self: s, cpuRatio: s.cpuSeconds / o.cpuSeconds });
    }
  }
  for (const line of compareTable(pairs)) log(line);
  return pairs;
}

const f2 = (n: number): string => n.toFixed(2);
const mb = (bytes: number): string => String(Math.round(bytes / 1e6));

export function medianRatio(pairs: readonly BuildPair[]): number {
  const sorted = pairs.map((p) => p.cpuRatio).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function compareTable(pairs: readonly BuildPair[]): string[] {
  const lines = [
    '| jobs | other wall s | other CPU s | other peak RSS MB | this wall s | this CPU s | this peak RSS MB | CPU this/other |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of pairs) {
    lines.push(`| ${p.jobs.toLocaleString('en-US')} | ${f2(p.other.seconds)} | ${f2(p.other.cpuSeconds)} | ${mb(p.other.peakRssBytes)} | ${f2(p.self.seconds)} | ${f2(p.self.cpuSeconds)} | ${mb(p.self.peakRssBytes)} | ${p.cpuRatio.toFixed(3)} |`);
  }
  lines.push('');
  for (const jobs of [...new Set(pairs.map((p) => p.jobs))]) {
    lines.push(`${jobs.toLocaleString('en-US')} jobs: median CPU ratio ${medianRatio(pairs.filter((p) => p.jobs === jobs)).toFixed(2)}`);
  }
  return lines;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { other: { type: 'string' }, sizes: { type: 'string' }, pairs: { type: 'string' } } });
  if (!values.other) throw new Error('--other DIR is required: a built checkout of the build to compare with');
  await compareBuilds({
    other: values.other,
    ...(values.sizes ? { sizes: parseSizes(values.sizes) } : {}),
    ...(values.pairs ? { pairs: parseRepeat(values.pairs) } : {}),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`compare-builds: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
