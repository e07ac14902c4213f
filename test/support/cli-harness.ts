import { PassThrough } from 'node:stream';
import { main, type CliIo } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams and a controlled environment. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, opts: { tty?: boolean } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const io: CliIo = { stdout: Object.assign(stdout, { isTTY: opts.tty ?? false }), stderr, env };
  const code = await main(argv, io);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export const SAMPLE_FILES = [
  'examples/sample-org/resources.export.ndjson',
  'examples/sample-org/iam-policies.export.ndjson',
  'examples/sample-org/serverless.list.json',
];

export const sampleInputs = (): string[] => SAMPLE_FILES.flatMap((f) => ['--input', f]);
