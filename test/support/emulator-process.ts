import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { canConnect, waitFor } from './local-ports.js';

/**
 * What the emulator harnesses share: a `gcloud beta emulators … start` run in its own process
 * group (the gcloud wrapper spawns a Java child), its recent output, and its end.
 */

/** Throws, naming what to install, when gcloud or Java cannot run: the suites fail, never skip. */
export function requireEmulatorTools(installHint: string): void {
  for (const [tool, args] of [
    ['gcloud', ['--version']],
    ['java', ['-version']],
  ] as const) {
    const r = spawnSync(tool, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      const why = r.error ? (r.error as NodeJS.ErrnoException).code : `exit status ${r.status}`;
      throw new Error(`${tool} is not usable (${why}).\n${installHint}`);
    }
  }
}

export class EmulatorProcess {
  private child: ChildProcess | undefined;
  private log = '';
  private exitedFlag = false;
  /** Whatever happens to the test run, the group does not outlive it. */
  private readonly onExit = (): void => this.signal('SIGKILL');

  constructor(private readonly gcloudArgs: readonly string[]) {
    process.once('exit', this.onExit);
  }

  /** Starts (or starts again) the emulator; its output is kept from here on. */
  spawn(): void {
    this.log = '';
    this.exitedFlag = false;
    const child = spawn('gcloud', [...this.gcloudArgs], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    });
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => {
      this.exitedFlag = true;
    });
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && !this.exitedFlag;
  }

  get exited(): boolean {
    return this.exitedFlag;
  }

  /** The last 8,000 characters the emulator wrote. */
  output(): string {
    return this.log;
  }

  /** Sends a signal to the whole group; nothing when it is already gone. */
  signal(signal: NodeJS.Signals): void {
    if (!this.child?.pid) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  /** Ends the group (resumed first, should it be paused) and waits until `port` is closed. */
  async stop(port: number): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const gone = async (): Promise<boolean> => this.exitedFlag && !(await canConnect(port));
    try {
      await waitFor(gone, 10_000, 'the emulator to stop');
    } catch {
      this.signal('SIGKILL');
      await waitFor(gone, 10_000, 'the emulator to be killed');
    }
  }

  /** Stops watching for the test run's end: after the last stop. */
  release(): void {
    process.removeListener('exit', this.onExit);
  }
}
