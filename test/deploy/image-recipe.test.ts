import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindingSchema } from '../../src/findings/schema.js';
import { runCli, SAMPLE_FILES } from '../support/cli-harness.js';
import { allowedByDockerignore, parseCopy, parseDockerfile, parseEnv, parseExecForm, splitFlags, type Stage } from './dockerfile.js';

/**
 * No Docker engine runs here, so this test replays the Dockerfile itself: every stage gets a
 * directory standing for its filesystem root, COPY copies from a clean copy of the repository
 * (or from an earlier stage), RUN runs the command under Node 24 with a container-like
 * environment, and finally ENTRYPOINT + CMD scan the bundled sample. It reads the recipe from
 * the Dockerfile, so the recipe and the test cannot drift apart.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dockerfileText = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const dockerignoreText = readFileSync(join(REPO, '.dockerignore'), 'utf8');
const recipe = parseDockerfile(dockerfileText);
const runtimeStage = recipe.stages.at(-1)!;

/** Node 24: the test runner's own Node when it is 24 (npm scripts use the node@24 devDependency). */
function node24(): string {
  if (process.versions.node.split('.')[0] === '24') return process.execPath;
  const pinned = join(REPO, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(pinned)) return pinned;
  throw new Error('no Node 24 to stand in for the image base');
}

/** How this machine reaches the registry (its CA bundle, proxies): a Docker build gets the same. */
const NETWORK_ENV = /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy)$/i;

/** A container-like environment: no npm_* or test-runner variables leak in from the outside run. */
function baseEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p !== '' && !p.includes(`${'/'}node_modules${'/'}`));
  const network = Object.fromEntries(Object.entries(process.env).filter(([k]) => NETWORK_ENV.test(k)));
  return {
    ...network,
    PATH: [dirname(node24()), ...path].join(delimiter),
    HOME: process.env.HOME ?? tmpdir(),
    LANG: 'C.UTF-8',
    // Use the npm cache when it has the tarballs: same packages, fewer round trips.
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
}

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

let work: string;
let context: string;
const states = new Map<string, StageState>();

/** The build context: the repository's files as git sees them (tracked or new, not ignored). */
function copyContext(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO })
    .toString('utf8')
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(REPO, f)) && statSync(join(REPO, f)).isFile());
  for (const f of files) cpSync(join(REPO, f), join(to, f));
}

function inStage(state: StageState, path: string): string {
  return isAbsolute(path) ? join(state.root, path) : join(state.root, state.workdir, path);
}

async function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

async function replayStage(stage: Stage): Promise<void> {
  const state: StageState = { root: join(work, 'stages', stage.name), workdir: '/', env: {} };
  mkdirSync(state.root, { recursive: true });
  states.set(stage.name, state);
  for (const ins of stage.instructions) {
    const where = `Dockerfile:${ins.line} ${ins.keyword}`;
    switch (ins.keyword) {
      case 'WORKDIR':
        state.workdir = posix.resolve(state.workdir, ins.args);
        mkdirSync(join(state.root, state.workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(state.env, parseEnv(ins.args));
        break;
      case 'USER':
        state.user = ins.args.trim();
        break;
      case 'ENTRYPOINT':
        state.entrypoint = parseExecForm('ENTRYPOINT', ins.args);
        break;
      case 'CMD':
        state.cmd = parseExecForm('CMD', ins.args);
        break;
      case 'LABEL':
      case 'ARG':
        break;
      case 'COPY': {
        const { from, sources, dest } = parseCopy(ins.args);
        const origin = from ? states.get(from) : undefined;
        if (from && !origin) throw new Error(`${where}: no earlier stage ${from}`);
        const destPath = inStage(state, dest) + (dest.endsWith('/') ? '/' : '');
        for (const src of sources) {
          if (!origin) expect(allowedByDockerignore(dockerignoreText, src), `${where}: ${src} is excluded by .dockerignore`).toBe(true);
          const srcPath = origin ? inStage(origin, src) : join(context, src);
          expect(existsSync(srcPath), `${where}: ${src} does not exist`).toBe(true);
          const isDir = statSync(srcPath).isDirectory();
          const target = isDir ? destPath.replace(/\/$/, '') : dest.endsWith('/') ? join(destPath, posix.basename(src)) : destPath;
          mkdirSync(isDir ? target : dirname(target), { recursive: true });
          cpSync(srcPath, target, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const { flags, rest } = splitFlags(ins.args);
        const unknown = Object.keys(flags).filter((f) => f !== 'mount');
        expect(unknown, `${where}: RUN flags the test cannot replay`).toEqual([]);
        const result = await run(rest, join(state.root, state.workdir), { ...baseEnv(), ...state.env });
        expect(result.code, `${where} ${rest} failed:\n${result.stderr.slice(-4000)}`).toBe(0);
        break;
      }
      default:
        throw new Error(`${where}: not replayed`);
    }
  }
}

describe('the Dockerfile', () => {
  it('builds on a Node 24 base in every stage', () => {
    expect(recipe.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of recipe.stages) expect(stage.base, `stage ${stage.name}`).toMatch(/^node:24([.-]|$)/);
  });

  it('runs the final stage as a non-root user, with exec-form ENTRYPOINT and CMD', () => {
    const users = runtimeStage.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args.trim());
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    const entrypoint = runtimeStage.instructions.find((i) => i.keyword === 'ENTRYPOINT')!;
    expect(parseExecForm('ENTRYPOINT', entrypoint.args)[0]).toBe('node');
    expect(parseExecForm('CMD', runtimeStage.instructions.find((i) => i.keyword === 'CMD')!.args)).toEqual(['scan']);
  });

  it('installs only production dependencies, without install scripts, for the runtime', () => {
    const runtimeSources = runtimeStage.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args));
    const modules = runtimeSources.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(modules?.from, 'node_modules come from a stage').toBeDefined();
    const depsStage = recipe.stages.find((s) => s.name === modules!.from)!;
    const installs = depsStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => splitFlags(i.args).rest);
    expect(installs.some((cmd) => /npm ci\b.*--omit=dev/.test(cmd) && /--ignore-scripts/.test(cmd))).toBe(true);
  });
});

describe('the image recipe, replayed without Docker', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cronwarden-image-'));
    context = join(work, 'context');
    copyContext(context);
    for (const stage of recipe.stages) await replayStage(stage);
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const runtime = (): StageState => states.get(runtimeStage.name)!;

  it('ships production dependencies only: no compiler, test runner or pinned Node', () => {
    const modules = join(runtime().root, runtime().workdir, 'node_modules');
    const installed = new Set(readdirSync(modules));
    for (const dev of ['typescript', 'vitest', 'fast-check', 'node']) expect(installed.has(dev), dev).toBe(false);
    expect(existsSync(join(modules, 'zod'))).toBe(true);
    expect(existsSync(join(modules, '@google-cloud', 'logging'))).toBe(true);
    // Exceptions files are YAML; the state store is Firestore.
    expect(existsSync(join(modules, 'yaml'))).toBe(true);
    expect(existsSync(join(modules, '@google-cloud', 'firestore'))).toBe(true);
    expect(existsSync(join(runtime().root, runtime().workdir, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  });

  /** ENTRYPOINT + CMD with the Dockerfile's ENV plus `extra`, as `docker run -e ...` would. */
  async function runImage(extra: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const state = runtime();
    const argv = [...state.entrypoint!, ...(state.cmd ?? [])].map((a, i) => {
      if (i === 0 && a === 'node') return node24();
      return isAbsolute(a) && existsSync(join(state.root, a)) ? join(state.root, a) : a;
    });
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const env = { ...baseEnv(), ...state.env, ...extra };
    if (env.CRONWARDEN_SPOOL_DIR?.startsWith('/tmp/')) env.CRONWARDEN_SPOOL_DIR = join(work, 'spool');
    return run(quoted, join(state.root, state.workdir), env);
  }

  it('scans the bundled sample through its entrypoint, configured by environment variables', async () => {
    const expected = await runCli(['scan', ...SAMPLE_FILES.flatMap((f) => ['--input', f])], {});
    const result = await runImage({ CRONWARDEN_INPUTS: SAMPLE_FILES.join(',') });
    expect(result.code, result.stderr).toBe(expected.code);
    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) FindingSchema.parse(JSON.parse(line));
    expect(lines.length).toBe(expected.stdout.trim().split('\n').length);
    expect(result.stderr).toMatch(/jobs scanned/);
  }, 60_000);

  it('writes Cloud Logging JSON when it runs as a Cloud Run task', async () => {
    const result = await runImage({
      CRONWARDEN_INPUTS: SAMPLE_FILES.join(','),
      CLOUD_RUN_JOB: 'cronwarden-scan',
      CLOUD_RUN_EXECUTION: 'cronwarden-scan-x7k2p',
      CLOUD_RUN_TASK_INDEX: '0',
      CLOUD_RUN_TASK_COUNT: '1',
      CLOUD_RUN_TASK_ATTEMPT: '0',
    });
    expect(result.code, result.stderr).toBe(0);
    for (const line of result.stderr.trim().split('\n')) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.severity).toMatch(/^(DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL)$/);
      expect(entry['logging.googleapis.com/labels']).toMatchObject({ execution: 'cronwarden-scan-x7k2p', task: '0' });
    }
    for (const line of result.stdout.trim().split('\n')) {
      FindingSchema.parse((JSON.parse(line) as { finding: unknown }).finding);
    }
  }, 60_000);
});
