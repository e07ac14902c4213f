import { mkdtempSync, rmSync } from 'node:fs';
import { EmulatorProcess, requireEmulatorTools } from './emulator-process.js';
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
  requireEmulatorTools(INSTALL_HINT);
  const dataDir = mkdtempSync(join(tmpdir(), 'cronwarden-pubsub-emulator-'));
  const port = await freePort();
  const timeout = opts.startTimeoutMs ?? 60_000;
  const emulator = new EmulatorProcess(['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`, '--quiet']);

  const start = async (): Promise<void> => {
    if (!(await portIsFree(port))) await waitFor(() => portIsFree(port), 15_000, `port ${port} to be released`);
    emulator.spawn();
    try {
      await waitFor(
        async () => {
          if (emulator.exited) throw new Error(`the Pub/Sub emulator exited while starting.\n${emulator.output()}\n${INSTALL_HINT}`);
          return canConnect(port);
        },
        timeout,
        `the Pub/Sub emulator to listen on 127.0.0.1:${port}`,
      );
    } catch (err) {
      emulator.signal('SIGKILL');
      throw new Error(`${(err as Error).message}\nemulator output:\n${emulator.output()}`, { cause: err });
    }
  };
  const stop = (): Promise<void> => emulator.stop(port);

  try {
    await start();
  } catch (err) {
    emulator.release();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => emulator.signal('SIGSTOP'),
    resume: () => emulator.signal('SIGCONT'),
    async close() {
      await stop();
      emulator.release();
      rmSync(dataDir, { recursive: true, force: true });
    },
    output: () => emulator.output(),
  };
}

async function portIsFree(port: number): Promise<boolean> {
  return !(await canConnect(port));
}
