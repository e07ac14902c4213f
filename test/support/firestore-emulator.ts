import { EmulatorProcess, requireEmulatorTools } from './emulator-process.js';
import { canConnect, freePort, waitFor } from './local-ports.js';

const INSTALL_HINT =
  'The state store tests run against Google\'s Firestore emulator: install the Google Cloud CLI (gcloud) with its ' +
  '"beta" and "cloud-firestore-emulator" components (`gcloud components install beta cloud-firestore-emulator`, or the ' +
  'google-cloud-cli-firestore-emulator package) and a Java runtime, version 17 or later.';

export interface FirestoreEmulator {
  /** `127.0.0.1:PORT`, the value for FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  /** Deletes every document of every database (the emulator's own reset endpoint). */
  reset(project: string): Promise<void>;
  /** Ends the whole process group (the gcloud wrapper and its Java child) and waits for the port to close. */
  close(): Promise<void>;
  output(): string;
}

/**
 * Starts `gcloud beta emulators firestore start` (Native mode) on a free port in its own process
 * group and waits until it accepts connections. Throws, naming what to install, when gcloud, the
 * emulator or Java is missing: the suites that use it fail, never skip.
 */
export async function startFirestoreEmulator(opts: { startTimeoutMs?: number } = {}): Promise<FirestoreEmulator> {
  requireEmulatorTools(INSTALL_HINT);
  const port = await freePort();
  const emulator = new EmulatorProcess(['beta', 'emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`, '--quiet']);
  emulator.spawn();
  try {
    await waitFor(async () => {
      if (emulator.exited) throw new Error(`the Firestore emulator exited while starting.\n${emulator.output()}\n${INSTALL_HINT}`);
      // The port opens before the server answers; the log line says it is ready.
      return /Dev App Server is now running/.test(emulator.output()) && (await canConnect(port));
    }, opts.startTimeoutMs ?? 90_000, `the Firestore emulator on 127.0.0.1:${port}`);
  } catch (err) {
    emulator.signal('SIGKILL');
    emulator.release();
    throw new Error(`${(err as Error).message}\nemulator output:\n${emulator.output()}`, { cause: err });
  }
  return {
    host: `127.0.0.1:${port}`,
    async reset(project: string) {
      const res = await fetch(`http://127.0.0.1:${port}/emulator/v1/projects/${project}/databases/(default)/documents`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`emulator reset failed: ${res.status} ${await res.text()}`);
    },
    async close() {
      await emulator.stop(port);
      emulator.release();
    },
    output: () => emulator.output(),
  };
}
