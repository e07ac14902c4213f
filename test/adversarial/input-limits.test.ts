/**
 * Issue 10, item 9: decompression bombs and huge lines. A 1 MB gzip that inflates to 1 GB took
 * 3.2 GB of memory. The decompressed size of a file and the length of one record are capped
 * (--max-input-size, --max-record-size); a file over a cap fails at that point, named, and the
 * other files are read. The bombs are real gzip streams generated here.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/config/config.js';
import { EXIT } from '../../src/cli/main.js';
import { runCli, SAMPLE_FILES } from '../support/cli-harness.js';
import { tempDir } from './helpers.js';

const MiB = 2 ** 20;

/**
 * Writes a gzip file that inflates to `total` bytes, `chunk` (1 MiB) over and over: one gzip
 * member of the chunk, compressed once, repeated (a gzip file may hold many members, RFC 1952
 * §2.2, and gunzip reads them all). A real bomb, about a thousandth of its inflated size.
 */
async function gzipBomb(path: string, total: number, chunk: Buffer): Promise<void> {
  const member = gzipSync(chunk, { level: 9 });
  await writeFile(path, Buffer.concat(Array.from({ length: Math.ceil(total / chunk.length) }, () => member)));
}

/** The built CLI in a child process, reporting its own peak RSS. */
function runChild(args: string[]): Promise<{ code: number; stdout: string; stderr: string; maxRssMb: number }> {
  const cli = pathToFileURL(resolve('dist/src/cli/main.js')).href;
  const script = `const { main } = await import(${JSON.stringify(cli)});
const code = await main(process.argv.slice(1));
process.stderr.write('MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n');
process.exitCode = code;`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      const kb = Number(/MAXRSS_KB (\d+)/.exec(stderr)?.[1] ?? NaN);
      done({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr, maxRssMb: kb / 1024 });
    });
  });
}

const inputs = (files: string[]): string[] => files.flatMap((f) => ['--input', f]);
let dir: string;
let bomb: string;

beforeAll(async () => {
  dir = tempDir('cw-bomb-');
  bomb = join(dir, 'assets.ndjson.gz');
  // 1 GiB of zeros without a newline: one endless "record".
  await gzipBomb(bomb, 1024 * MiB, Buffer.alloc(MiB, 0));
}, 120_000);

describe('a decompression bomb', () => {
  it('is a real one: about 1 MB that inflates to 1 GiB', () => {
    expect(statSync(bomb).size).toBeLessThan(2 * MiB);
    const small = join(dir, 'small.gz');
    return gzipBomb(small, 8 * MiB, Buffer.alloc(MiB, 7)).then(() => {
      const inflated = gunzipSync(readFileSync(small));
      expect(inflated.length).toBe(8 * MiB);
      expect(inflated.every((b) => b === 7)).toBe(true);
    });
  });

  it('one endless line fails its file at the record limit, in bounded memory; the other files are read', async () => {
    const run = await runChild(['scan', ...inputs([bomb, ...SAMPLE_FILES]), '--format', 'jsonl', '--include-passes']);
    expect(run.stderr).toContain(`${bomb}:1: a record longer than 16 MiB (the limit is --max-record-size`);
    expect(run.code).toBe(EXIT.partial);
    // The sample's jobs were judged all the same.
    expect(run.stdout).toContain('billing-ok');
    // Before the cap, this file alone took gigabytes.
    expect(run.maxRssMb).toBeLessThan(400);
  }, 120_000);

  it('a bomb of many small records fails at --max-input-size, named', async () => {
    const blanks = join(dir, 'blanks.ndjson.gz');
    // Lines of 1 MiB of blanks: each is skipped as an empty record, none is over the record limit.
    const blankLine = Buffer.alloc(MiB, 0x20);
    blankLine[MiB - 1] = 0x0a;
    await gzipBomb(blanks, 96 * MiB, blankLine);
    const run = await runCli(['scan', ...inputs([blanks, ...SAMPLE_FILES]), '--format', 'jsonl', '--include-passes', '--max-input-size', '16MiB']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toContain(`${blanks}: more than 16 MiB once decompressed (the limit is --max-input-size`);
    expect(run.stdout).toContain('billing-ok');
  }, 120_000);
});

describe('long records', () => {
  it('an array element longer than the limit fails its file at its line', async () => {
    const path = join(dir, 'list.json');
    writeFileSync(path, `[\n  {"name": "//x", "assetType": "t"},\n  {"name": "${'a'.repeat(3 * MiB)}"}\n]\n`);
    const run = await runCli(['scan', ...inputs([path, ...SAMPLE_FILES]), '--format', 'jsonl', '--max-record-size', '1MiB']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toContain(`${path}:3: a record longer than 1 MiB`);
  });

  it('the limit is read from the environment too, and real sample records pass the default', async () => {
    const strict = await runCli(['scan', ...inputs(SAMPLE_FILES), '--format', 'jsonl'], { CRONWARDEN_MAX_RECORD_SIZE: '1KiB' });
    expect(strict.code).toBe(EXIT.partial);
    expect(strict.stderr).toContain('a record longer than 1 KiB');
    const normal = await runCli(['scan', ...inputs(SAMPLE_FILES), '--format', 'jsonl']);
    expect(normal.code).toBe(EXIT.ok);
  });
});

describe('blank bytes before the first record', () => {
  it('are skipped as they come, not held: records after them are read and named at their own line', async () => {
    // Before, every chunk before the first record was kept and joined again with each new one:
    // a 0.3 MB gzip of 300 MiB of newlines took minutes and more than a gigabyte.
    const job = readFileSync(SAMPLE_FILES[0]!, 'utf8').split('\n').find((l) => l.includes('jobs/billing-ok"'))!;
    const blankLines = 200_000;
    const path = join(dir, 'leading-blanks.ndjson.gz');
    writeFileSync(path, gzipSync(Buffer.concat([Buffer.from(' \r\n'.repeat(blankLines)), Buffer.from(`${job.slice(0, 40)}\n`)])));
    const run = await runCli(['scan', ...inputs([path, ...SAMPLE_FILES]), '--format', 'jsonl']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toContain(`${path}:${blankLines + 1}:`);
  });

  it('a `[` and then more blanks than are held is read as the array it starts', async () => {
    const element = readFileSync(SAMPLE_FILES[2]!, 'utf8').replace(/^\s*\[/, '');
    const path = join(dir, 'spaced-list.json');
    writeFileSync(path, `[${'\n'.repeat(3 * MiB)}${element}`);
    const run = await runCli(['scan', '--input', path, '--input', SAMPLE_FILES[0]!, '--input', SAMPLE_FILES[1]!, '--format', 'jsonl']);
    expect(run.stderr).not.toContain('unreadable');
    expect(run.code).toBe(EXIT.ok);
  });
});

describe('the size settings', () => {
  it.each([
    ['16MiB', 16 * MiB],
    ['2 GiB', 2 * 2 ** 30],
    ['1048576', MiB],
    ['1.5k', 1536],
    ['10MB', 10_000_000],
  ])('%s is %i bytes', (raw, bytes) => {
    expect(parseByteSize(raw)).toBe(bytes);
  });

  it.each([
    ['--max-record-size', '12 parsecs', 'CRONWARDEN_MAX_RECORD_SIZE'],
    ['--max-record-size', '1GiB', 'CRONWARDEN_MAX_RECORD_SIZE'],
    ['--max-input-size', '0', 'CRONWARDEN_MAX_INPUT_SIZE'],
    ['--max-input-size', '-5MiB', 'CRONWARDEN_MAX_INPUT_SIZE'],
  ])('%s %s is a configuration error naming the flag and variable (exit 2)', async (flag, value, variable) => {
    const run = await runCli(['scan', ...inputs(SAMPLE_FILES), `${flag}=${value}`]);
    expect(run.code).toBe(EXIT.error);
    expect(run.stderr).toContain(`${flag} (or ${variable})`);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
