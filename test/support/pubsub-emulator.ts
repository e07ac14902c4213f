import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { canConnect, freePort, waitFor } from './local-ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL_HINT =
  'The Pub/Sub tests run against Google\'s emulator: install the Google Cloud CLI (gcloud) with its ' +
  '"beta" and "pubsub-emulator" components (`gcloud components install beta pubsub-emulator`, or the ' +
  'google-cloud-cli-pubsub-emulator package) and a Java runtime, version 17 or later.';

export interface PubSubEmulator {
  /** `127.0.0.1:PORT`, the value for PUBSUB_EMULATOR_HOST or a client's apiEndpoint. */
  readonly host: string;
  readonly port: number;
  /** Ends the whole process group (the gcloud wrapper and its Java child) and waits for the port to close. */
  stop(): Promise<void>;
  /** Starts a fresh emulator on the same port (state is lost, as with the real restart). */
  start(): Promise<void>;
  /** Freezes the emulator (SIGSTOP to its group): connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the emulator for good and removes its data directory. */
  close(): Promise<void>;
  /** The emulator's recent output, for failure messages. */
  output(): string;
}

/**
 * Starts `gcloud beta emulators pubsub start` on a free port, in its own process group, and waits
 * until it accepts connections. Throws, naming what to install, when gcloud, the emulator component
 * or Java is missing: the suites that use it must fail, never skip.
 */
export async function startPubSubEmulator(opts: { startTimeoutMs?: number } = {}): Promise<PubSubEmulator> {
  requireTools();
  const dataDir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-emulator-'));
  const port = await freePort();
  const timeout = opts.startTimeoutMs ?? 60_000;
  let child: ChildProcess | undefined;
  let log = '';
  let exited = false;

  const killGroup = (signal: NodeJS.Signals): void => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  process.once('exit', onExit);

  const start = async (): Promise<void> => {
    if (!(await portIsFree(port))) await waitFor(() => portIsFree(port), 15_000, `port ${port} to be released`);
    log = '';
    exited = false;
    child = spawn('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`, '--quiet'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    });
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`the Pub/Sub emulator exited while starting.\n${log}\n${INSTALL_HINT}`);
          return canConnect(port);
        },
        timeout,
        `the Pub/Sub emulator to listen on 127.0.0.1:${port}`,
      );
    } catch (err) {
      killGroup('SIGKILL');
      throw new Error(`${(err as Error).message}\nemulator output:\n${log}`, { cause: err });
    }
  };

  const stop = async (): Promise<void> => {
    if (!child || exited) return;
    killGroup('SIGCONT');
    killGroup('SIGTERM');
    try {
      await waitFor(async () => exited && (await portIsFree(port)), 10_000, 'the emulator to stop');
    } catch {
      killGroup('SIGKILL');
      await waitFor(async () => exited && (await portIsFree(port)), 10_000, 'the emulator to be killed');
    }
  };

  try {
    await start();
  } catch (err) {
    process.removeListener('exit', onExit);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => killGroup('SIGSTOP'),
    resume: () => killGroup('SIGCONT'),
    async close() {
      await stop();
      process.removeListener('exit', onExit);
      rmSync(dataDir, { recursive: true, force: true });
    },
    output: () => log,
  };

  function requireTools(): void {
    for (const [tool, args] of [
      ['gcloud', ['--version']],
      ['java', ['-version']],
    ] as const) {
      const r = spawnSync(tool, args, { encoding: 'utf8' });
      if (r.error || r.status !== 0) {
        const why = r.error ? (r.error as NodeJS.ErrnoException).code : `exit status ${r.status}`;
        throw new Error(`${tool} is not usable (${why}).\n${INSTALL_HINT}`);
      }
    }
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return !(await canConnect(port));
}
