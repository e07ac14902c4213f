import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
  for (const [tool, args] of [
    ['gcloud', ['--version']],
    ['java', ['-version']],
  ] as const) {
    const r = spawnSync(tool, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`${tool} is not usable.\n${INSTALL_HINT}`);
  }
  const port = await freePort();
  let log = '';
  let exited = false;
  const child: ChildProcess = spawn('gcloud', ['beta', 'emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`, '--quiet'], {
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
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  process.once('exit', onExit);
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`the Firestore emulator exited while starting.\n${log}\n${INSTALL_HINT}`);
      // The port opens before the server answers; the log line says it is ready.
      return /Dev App Server is now running/.test(log) && (await canConnect(port));
    }, opts.startTimeoutMs ?? 90_000, `the Firestore emulator on 127.0.0.1:${port}`);
  } catch (err) {
    killGroup('SIGKILL');
    process.removeListener('exit', onExit);
    throw new Error(`${(err as Error).message}\nemulator output:\n${log}`, { cause: err });
  }
  return {
    host: `127.0.0.1:${port}`,
    async reset(project: string) {
      const res = await fetch(`http://127.0.0.1:${port}/emulator/v1/projects/${project}/databases/(default)/documents`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`emulator reset failed: ${res.status} ${await res.text()}`);
    },
    async close() {
      killGroup('SIGTERM');
      try {
        await waitFor(async () => exited && !(await canConnect(port)), 10_000, 'the emulator to stop');
      } catch {
        killGroup('SIGKILL');
        await waitFor(async () => exited && !(await canConnect(port)), 10_000, 'the emulator to be killed');
      }
      process.removeListener('exit', onExit);
    },
    output: () => log,
  };
}
