import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_FILES } from '../support/cli-harness.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';

/**
 * Builds the real Dockerfile with buildah (no Docker daemon: `bud --isolation chroot`, storage
 * driver vfs, as root) and runs the image. The public Node base cannot be pulled here, so a
 * stand-in is made once and kept in buildah's storage: a debootstrap minbase of the Debian
 * release the Dockerfile's base names, the Node 24 binary this repository pins, npm, a `node`
 * user with uid 1000 (as the official image has), and this machine's CA bundle named by
 * NODE_EXTRA_CA_CERTS so that `npm ci` inside the build reaches the registry. It is passed as
 * the NODE_IMAGE build argument. Needs the package registries: run by `npm run test:image`,
 * not by `npm test`.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STORAGE = ['--storage-driver', 'vfs'];
const IMAGE = 'localhost/cronwarden:image-test';
/** The Debian mirror this machine's apt uses (its first deb822 `URIs:` or `deb` line), unless one is named. */
const DEBIAN_MIRROR = process.env.CRONWARDEN_DEBIAN_MIRROR ?? aptMirror();

function aptMirror(): string {
  const files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri && !/security/.test(uri)) return uri;
  }
  throw new Error('no Debian mirror in the apt sources: set CRONWARDEN_DEBIAN_MIRROR');
}

/** `ARG NODE_IMAGE=node:24-trixie-slim` → trixie. */
function baseRelease(): string {
  const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1];
  const release = arg ? /^node:\d+-([a-z]+)(-slim)?$/.exec(arg)?.[1] : undefined;
  if (!release) throw new Error(`the Dockerfile's NODE_IMAGE default (${arg}) names no Debian release`);
  return release;
}

const NODE_BIN = join(REPO, 'node_modules', 'node', 'bin', 'node');
const NODE_VERSION = JSON.parse(readFileSync(join(REPO, 'node_modules', 'node', 'package.json'), 'utf8')).version as string;

/** The npm that runs this script (npm sets npm_execpath), else the one on PATH. */
function npmDir(): string {
  const cli = process.env.npm_execpath ?? realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return dirname(dirname(realpathSync(cli)));
}

function caBundle(): string {
  for (const f of [process.env.NODE_EXTRA_CA_CERTS, process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt']) if (f && existsSync(f)) return f;
  throw new Error('no CA bundle on this machine to give the image');
}

function buildah(args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync('buildah', [...STORAGE, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 15 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function imageExists(name: string): boolean {
  try {
    buildah(['inspect', '--type', 'image', name]);
    return true;
  } catch {
    return false;
  }
}

/** Makes the stand-in base unless buildah's storage already holds it (it is named by release and Node version). */
function standInBase(): string {
  const release = baseRelease();
  const name = `localhost/cronwarden-stand-in-base:${release}-node${NODE_VERSION}`;
  if (imageExists(name)) return name;
  const work = mkdtempSync(join(tmpdir(), 'cronwarden-base-'));
  try {
    const root = join(work, 'rootfs');
    execFileSync('debootstrap', ['--variant=minbase', release, root, DEBIAN_MIRROR], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20 * 60_000 });
    // Node and npm where the official image has them.
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    cpSync(NODE_BIN, join(root, 'usr/local/bin/node'));
    chmodSync(join(root, 'usr/local/bin/node'), 0o755);
    cpSync(npmDir(), join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    // The official image's unprivileged user.
    appendFileSync(join(root, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n');
    appendFileSync(join(root, 'etc/group'), 'node:x:1000:\n');
    mkdirSync(join(root, 'home/node'), { recursive: true });
    chownSync(join(root, 'home/node'), 1000, 1000);
    // This machine reaches the registry through its own CA bundle.
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    cpSync(caBundle(), join(root, 'etc/ssl/certs/machine-ca-bundle.crt'));
    execFileSync('tar', ['-C', root, '-cf', join(work, 'rootfs.tar'), '.']);
    const ctr = buildah(['from', 'scratch']).trim();
    try {
      buildah(['add', ctr, join(work, 'rootfs.tar'), '/']);
      buildah(['config', '--env', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/machine-ca-bundle.crt', '--env', `NODE_VERSION=${NODE_VERSION}`, '--cmd', 'node', ctr]);
      buildah(['commit', '--rm', ctr, name]);
    } catch (err) {
      buildah(['rm', ctr]);
      throw err;
    }
    return name;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let container: string;
let entrypoint: string[];
let user: string;

/** Runs the image's entry point with `args` in a working container, on the host's network. */
function inImage(args: string[], env: Record<string, string> = {}, command?: string[]): Promise<Run> {
  const envFlags = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  return new Promise((done, fail) => {
    const child = spawn('buildah', [...STORAGE, 'run', '--isolation', 'chroot', '--network', 'host', '--user', user, ...envFlags, container, '--', ...(command ?? [...entrypoint, ...args])]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The host's CLI, as `npm start` runs it. */
function onHost(args: string[]): Run {
  try {
    return { code: 0, stdout: execFileSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), ...args], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Findings without what differs between runs (scan id, time), sorted. */
function comparable(jsonl: string): unknown[] {
  return jsonl
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((f) => typeof f.ruleId === 'string')
    .map(({ scanId: _s, observedAt: _o, ...rest }) => rest)
    .sort((a, b) => String(a.findingId).localeCompare(String(b.findingId)));
}

/** `npm start`'s scan (its inputs, from package.json), as JSON lines. */
const START_ARGS = (() => {
  const start = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const args = start.split(/\s+/).slice(start.split(/\s+/).indexOf('scan'));
  const format = args.indexOf('--format');
  if (format >= 0) args.splice(format, 2);
  return [...args, '--format', 'jsonl'];
})();

describe('the container image, built from the Dockerfile and run', () => {
  let fake: FakeGcp;
  beforeAll(async () => {
    for (const tool of ['buildah', 'debootstrap']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      } catch {
        throw new Error(`${tool} is not installed: apt-get install buildah debootstrap`);
      }
    }
    const base = standInBase();
    // The build context is the repository; .dockerignore keeps it to what the Dockerfile copies.
    buildah(['bud', '--isolation', 'chroot', '--network', 'host', '--layers=false', '--build-arg', `NODE_IMAGE=${base}`, '-t', IMAGE, '-f', join(REPO, 'Dockerfile'), REPO], { timeoutMs: 20 * 60_000 });
    const config = (JSON.parse(buildah(['inspect', '--type', 'image', IMAGE])) as { OCIv1: { config: { Entrypoint?: string[]; User?: string } } }).OCIv1.config;
    entrypoint = config.Entrypoint ?? [];
    user = config.User ?? 'root';
    expect(entrypoint.length).toBeGreaterThan(0);
    container = buildah(['from', '--pull-never', IMAGE]).trim();
    fake = await startFakeGcp({ seedDir: join(REPO, 'examples/sample-org') });
  }, 45 * 60_000);

  afterAll(async () => {
    await fake?.stop();
    if (container) buildah(['rm', container]);
    // vfs keeps a full copy per image: drop this build and its stages, keep the stand-in base for the next run.
    if (imageExists(IMAGE)) buildah(['rmi', IMAGE]);
    buildah(['rmi', '--prune']);
  });

  it('runs as the unprivileged node user, uid 1000', async () => {
    expect(user).toBe('node');
    const id = await inImage([], {}, ['node', '-e', 'process.stdout.write(`${process.getuid()}:${process.getgid()}`)']);
    expect(id.stdout).toBe('1000:1000');
  });

  it('prints its version', async () => {
    const run = await inImage(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it("scans the bundled sample with the findings of `npm start`", async () => {
    const run = await inImage(START_ARGS);
    const host = onHost(START_ARGS);
    expect(run.code).toBe(host.code);
    const findings = comparable(run.stdout);
    expect(findings.length).toBeGreaterThan(10);
    expect(findings).toEqual(comparable(host.stdout));
  });

  it('scans the sample through the fake Google APIs on the host network, as the file scan does', async () => {
    const orgs = ['--org', '123456789012', '--org', '987654321098'];
    const run = await inImage(['scan', ...orgs, '--format', 'jsonl'], { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address });
    expect(run.stderr).not.toMatch(/COVERAGE GAPS|error/i);
    expect(run.code).toBe(0);
    const file = onHost(['scan', ...SAMPLE_FILES.flatMap((f) => ['--input', f]), '--format', 'jsonl']);
    expect(comparable(run.stdout)).toEqual(comparable(file.stdout));
    expect(fake.counters.get('asset.ListAssets')).toBeGreaterThan(0);
  });

  it('may not write to /app', async () => {
    const run = await inImage([], {}, ['node', '-e', "require('fs').writeFileSync('/app/written-by-the-scanner', 'x')"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/EACCES/);
  });
});
