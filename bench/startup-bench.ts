/**
 * Startup: how long from process start until the scanner does its first useful thing, the
 * first finding on stdout (file scan) or the first request to the Cloud Asset API (API scan),
 * and what each heavy module costs to load, which is why they are loaded only when needed.
 *
 *   npm run build && npx node dist/bench/startup-bench.js [--runs N] [--write]
 *
 * `--write` replaces the `## Startup` section of BENCHMARKS.md with the table.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root, from bench/ (ts) or dist/bench/ (js). */
const REPO = existsSync(join(HERE, '..', 'package.json')) ? join(HERE, '..') : join(HERE, '..', '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const SAMPLE = join(REPO, 'examples', 'sample-org');
const SAMPLE_INPUTS = ['resources.export.ndjson', 'iam-policies.export.ndjson', 'serverless.list.json'].map((f) => join(SAMPLE, f));
const SAMPLE_ORG = '123456789012';
const CLOUD_RUN_TASK = { CLOUD_RUN_JOB: 'bench', CLOUD_RUN_EXECUTION: 'bench-1', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' };

export interface StartupBenchOptions {
  runs?: number;
  log?: (line: string) => void;
}

export interface Measure {
  label: string;
  /** Median and worst over the runs, in milliseconds. */
  medianMs: number;
  maxMs: number;
  runs: number;
}

export interface StartupBenchResult {
  machine: string;
  node: string;
  measures: Measure[];
  markdown: string;
}

interface Timing {
  firstOutputMs?: number;
  firstRequestMs?: number;
  exitMs: number;
  code: number | null;
}

/** Spawns the CLI; times the first stdout byte, an outside event (`firstRequest`), and the exit. */
function timeCli(args: string[], env: NodeJS.ProcessEnv, firstRequest?: () => boolean): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    const timing: Partial<Timing> = {};
    const poll = firstRequest
      ? setInterval(() => {
          if (timing.firstRequestMs === undefined && firstRequest()) timing.firstRequestMs = performance.now() - t0;
        }, 1)
      : undefined;
    child.stdout.once('data', () => (timing.firstOutputMs = performance.now() - t0));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      resolve({ ...timing, exitMs: performance.now() - t0, code });
    });
  });
}

/** Milliseconds a fresh Node takes to import `specifier` (or nothing, for the bare process). */
function timeImport(specifier: string | undefined): Promise<number> {
  const script = specifier
    ? `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`
    : 'process.stdout.write(String(performance.now()));';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`import ${specifier} failed`))));
  });
}

function summarize(label: string, values: number[]): Measure {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { label, medianMs: median, maxMs: sorted.at(-1)!, runs: values.length };
}

async function repeat(runs: number, fn: () => Promise<number | undefined>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const v = await fn();
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Runs every measurement `runs` times, sequentially, on an otherwise idle machine. */
export async function benchStartup(options: StartupBenchOptions = {}): Promise<StartupBenchResult> {
  const runs = options.runs ?? 15;
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  if (!existsSync(CLI)) throw new Error('build first: npm run build');
  const measures: Measure[] = [];
  const fileArgs = ['scan', ...SAMPLE_INPUTS.flatMap((f) => ['--input', f]), '--format', 'jsonl'];

  measures.push(summarize('bare `node` process start (reference)', await repeat(runs, () => timeImport(undefined))));
  measures.push(summarize('file scan: process start → first finding on stdout', await repeat(runs, async () => (await timeCli(fileArgs, {})).firstOutputMs)));
  measures.push(
    summarize('file scan as a Cloud Run task (JSON logs): process start → first finding', await repeat(runs, async () => (await timeCli(fileArgs, CLOUD_RUN_TASK)).firstOutputMs)),
  );

  // The API path, against the fake Google API server (test support), when it is there.
  const fakeModule = join(REPO, 'dist', 'test', 'support', 'fake-gcp', 'index.js');
  if (existsSync(fakeModule)) {
    const { startFakeGcp } = (await import(pathToFileURL(fakeModule).href)) as typeof import('../test/support/fake-gcp/index.js');
    const fake = await startFakeGcp({ seedDir: SAMPLE });
    try {
      const apiArgs = ['scan', '--org', SAMPLE_ORG, '--format', 'jsonl'];
      const env = { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address };
      measures.push(
        summarize(
          'API scan: process start → first Cloud Asset API request',
          await repeat(runs, async () => {
            const before = fake.requests.length;
            return (await timeCli(apiArgs, env, () => fake.requests.length > before)).firstRequestMs;
          }),
        ),
      );
      measures.push(
        summarize(
          'API scan as a Cloud Run task (JSON logs): process start → first request',
          await repeat(runs, async () => {
            const before = fake.requests.length;
            return (await timeCli(apiArgs, { ...env, ...CLOUD_RUN_TASK }, () => fake.requests.length > before)).firstRequestMs;
          }),
        ),
      );
      measures.push(summarize('API scan: process start → first finding on stdout', await repeat(runs, async () => (await timeCli(apiArgs, env)).firstOutputMs)));
    } finally {
      await fake.stop();
    }
  } else {
    log('(API path skipped: the fake Google API server is not built)');
  }

  const importRuns = Math.max(5, Math.floor(runs / 2));
  for (const [label, specifier] of [
    ['import `zod` (config, finding schema)', 'zod'],
    ['import `@google-cloud/logging` whole (not done: the package main)', '@google-cloud/logging'],
    ['import `@google-cloud/logging`’s `Entry` module (JSON logs only)', '@google-cloud/logging/build/src/entry.js'],
    ['import `@google-cloud/asset` (API scans only)', '@google-cloud/asset'],
    ['import `@google-cloud/pubsub` (--topic only)', '@google-cloud/pubsub'],
  ] as const) {
    measures.push(summarize(label, await repeat(importRuns, () => timeImport(specifier))));
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const markdown = toMarkdown(machine, process.version, measures, runs);
  log(markdown);
  return { machine, node: process.version, measures, markdown };
}

function toMarkdown(machine: string, node: string, measures: Measure[], runs: number): string {
  const rows = measures.map((m) => `| ${m.label} | ${m.medianMs.toFixed(0)} | ${m.maxMs.toFixed(0)} | ${m.runs} |`);
  return [
    '## Startup',
    '',
    'Time from process start to the first useful act, and the load cost of each heavy module.',
    'The CLI imports only what every scan needs; `@google-cloud/asset` is imported only for',
    '`--org/--folder/--project`, `@google-cloud/pubsub` only for `--topic`, and',
    '`@google-cloud/logging` only for JSON logs, so a file scan never pays for them.',
    '',
    `Command: \`npm run build && npx node dist/bench/startup-bench.js --runs ${runs} --write\` (\`npx node\` is the pinned Node 24)`,
    `Machine: ${machine}; Node ${node}. Sample organization (\`examples/sample-org\`); the API`,
    'path runs against the fake Google API server on loopback, with no added latency. Import',
    'rows time `await import()` alone in a fresh process. On two shared cores medians move by up',
    'to a third between runs; the order of the rows holds.',
    '',
    '| measurement | median ms | max ms | runs |',
    '|---|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
}

/** Replaces (or appends) the `## Startup` section of BENCHMARKS.md, leaving other sections alone. */
export function writeStartupSection(markdown: string, file = join(REPO, 'BENCHMARKS.md')): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = current.search(/^## Startup\s*$/m);
  let next: string;
  if (start === -1) {
    next = `${current.trimEnd()}\n\n${markdown}`;
  } else {
    const after = current.slice(start + 1).search(/^## /m);
    const end = after === -1 ? current.length : start + 1 + after;
    next = `${current.slice(0, start)}${markdown}${after === -1 ? '' : `\n${current.slice(end)}`}`;
  }
  writeFileSync(file, `${next.trimEnd()}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, write: { type: 'boolean' } }, strict: true });
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) {
    process.stderr.write('startup-bench: --runs takes a positive whole number\n');
    process.exitCode = 2;
  } else {
    benchStartup(runs === undefined ? {} : { runs })
      .then((r) => {
        if (values.write) writeStartupSection(r.markdown);
      })
      .catch((err: unknown) => {
        process.stderr.write(`startup-bench: ${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 1;
      });
  }
}
