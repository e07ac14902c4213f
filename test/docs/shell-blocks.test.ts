import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { docFiles, looksLikeCommands, missingLines, readBlocks, SHELL_LANGS, type DocBlock } from './blocks.js';

/**
 * Runs every shell block of README.md and docs/*.md that can run on this machine, as a reader
 * would paste it, from the repository root: with `cronwarden` on PATH (as `npm link` puts it),
 * Node 24 first on PATH, the Pub/Sub emulator standing in for Pub/Sub (with the topics the docs
 * name), and no Google credentials or metadata server. Blocks that need Google Cloud, Docker or
 * the registry are marked `<!-- docs-test: skip REASON -->` (see ./blocks.ts for the markers).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE24 = join(REPO, 'node_modules', 'node', 'bin');
/** Topics the docs publish to. */
const DOC_TOPICS = ['projects/acme-sec/topics/cronwarden-findings'];
const BLOCK_TIMEOUT_MS = 180_000;

const blocks = readBlocks(REPO);
let emulator: PubSubEmulator;
let sandbox: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  for (const name of DOC_TOPICS) {
    const [, project, topic] = /^projects\/([^/]+)\/topics\/(.+)$/.exec(name)!;
    const client = new PubSub({ projectId: project!, apiEndpoint: emulator.host });
    await client.createTopic(topic!);
    await client.close();
  }
  sandbox = mkdtempSync(join(tmpdir(), 'cronwarden-docs-'));
  const prefix = join(sandbox, 'npm-global');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  // What `npm link` (README) makes, for the blocks of other files; the README's own `npm link` puts the same in the prefix, ahead on PATH.
  const linked = join(sandbox, 'linked-bin');
  mkdirSync(linked);
  symlinkSync(join(REPO, 'dist', 'src', 'cli', 'main.js'), join(linked, 'cronwarden'));
  mkdirSync(join(sandbox, 'home'));
  env = {
    PATH: [join(prefix, 'bin'), linked, NODE24, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: join(sandbox, 'home'),
    LANG: 'C.UTF-8',
    npm_config_prefix: prefix,
    // Offline and without install scripts: the docs test must not reach the registry or rebuild dist/ under other tests.
    npm_config_offline: 'true',
    npm_config_ignore_scripts: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    PUBSUB_EMULATOR_HOST: emulator.host,
    METADATA_SERVER_DETECTION: 'none',
    GCE_METADATA_HOST: '127.0.0.1:9',
  };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  output: string;
}

/** Runs a block with bash in its own process group; resolves when it exits (or, in the background, once it has printed a line). */
function runBlock(block: DocBlock, background: ChildProcess[]): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', `set -eo pipefail\n${block.text}`], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (b: Buffer): void => {
      output += b.toString();
      if (block.marker?.kind === 'background' && output.includes('\n')) done({ code: null, output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    if (block.marker?.kind === 'background') {
      background.push(child);
      child.on('exit', (code) => done({ code, output }));
      return;
    }
    const timer = setTimeout(() => killGroup(child), BLOCK_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

describe('the docs mark every block they do not run, and say why', () => {
  it('every block that reads as commands is labelled sh', () => {
    const unlabelled = blocks.filter(looksLikeCommands).map((b) => `${b.file}:${b.line}`);
    expect(unlabelled).toEqual([]);
  });

  it('markers sit on the blocks they are for, and a skip gives its reason', () => {
    const wrong: string[] = [];
    for (const b of blocks) {
      if (!b.marker) continue;
      const where = `${b.file}:${b.line}`;
      if (b.marker.kind === 'output' && SHELL_LANGS.has(b.lang)) wrong.push(`${where}: an output block is not a shell block`);
      if (b.marker.kind !== 'output' && !SHELL_LANGS.has(b.lang)) wrong.push(`${where}: ${b.marker.kind} marks a shell block`);
      if (b.marker.kind === 'skip' && b.marker.arg.length < 10) wrong.push(`${where}: skip needs its reason`);
      if (b.marker.kind === 'exit' && !/^\d+$/.test(b.marker.arg)) wrong.push(`${where}: exit needs a number`);
    }
    expect(wrong).toEqual([]);
  });
});

for (const file of docFiles(REPO)) {
  const inFile = blocks.filter((b) => b.file === file && (SHELL_LANGS.has(b.lang) || b.marker?.kind === 'output'));
  if (inFile.length === 0) continue;
  describe(`shell blocks of ${file}`, () => {
    const background: ChildProcess[] = [];
    let last: { block: DocBlock; ran: Ran } | undefined;
    afterAll(() => {
      for (const child of background) killGroup(child);
    });
    for (const block of inFile) {
      const where = `${block.file}:${block.line}`;
      if (block.marker?.kind === 'output') {
        it(`${where}: output quoted from the block above`, () => {
          expect(last, `${where}: no shell block ran before this output`).toBeDefined();
          expect(missingLines(block.text, last!.ran.output), `${where}: lines not in the output of ${last!.block.file}:${last!.block.line}:\n${last!.ran.output}`).toEqual([]);
        });
        continue;
      }
      if (block.marker?.kind === 'skip') {
        it.skip(`${where}: ${block.marker.arg}`, () => undefined);
        continue;
      }
      it(`${where}: runs${block.marker?.kind === 'background' ? ' in the background' : ''}`, async () => {
        const ran = await runBlock(block, background);
        last = { block, ran };
        if (block.marker?.kind === 'background') {
          expect(ran.code, `${where} stopped:\n${ran.output}`).toBeNull();
          return;
        }
        const expected = block.marker?.kind === 'exit' ? Number(block.marker.arg) : 0;
        expect(ran.code, `${where} exited ${ran.code}:\n${ran.output}`).toBe(expected);
      }, BLOCK_TIMEOUT_MS + 10_000);
    }
  });
}

describe('documents the docs cite are in the repository', () => {
  it('every relative link and every *.md named resolves to a file here', () => {
    const missing: string[] = [];
    for (const file of [...docFiles(REPO), 'BENCHMARKS.md', 'examples/sample-org/README.md']) {
      const text = readFileSync(join(REPO, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(join(REPO, dirname(file), target))) missing.push(`${file}: ${target}`);
      }
      for (const m of text.matchAll(/(?<![\w/.-])([\w./-]+\.md)\b/g)) {
        const name = m[1]!;
        if (!existsSync(join(REPO, dirname(file), name)) && !existsSync(join(REPO, name))) missing.push(`${file}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
