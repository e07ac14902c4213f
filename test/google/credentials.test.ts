import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const LOGIN = "gcloud auth application-default login";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI in a child process with only the environment given: no credentials of this
 * machine, no metadata server (detection off, and its address a closed local port), a HOME of
 * its own so that no well-known credentials file is found.
 */
function cronwarden(args: string[], env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: home, METADATA_SERVER_DETECTION: 'none', GCE_METADATA_HOST: '127.0.0.1:9', ...env },
      ...opts,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

let dir: string;
let home: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-credentials-'));
  chmodSync(dir, 0o755);
  home = join(dir, 'home');
  mkdirSync(home);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The clear message: one line on stderr, no stack trace, the fixing command. */
function expectOneClearMessage(run: Run, pattern: RegExp): void {
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^cronwarden: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at |Error: /);
  expect(run.stdout).toBe('');
}

describe('credentials: one clear message and exit 2 before anything is read', () => {
  it('none at all', async () => {
    const run = await cronwarden(['scan', '--org', '123456789012'], {});
    expect(run.code).toBe(2);
    expectOneClearMessage(run, /no Google credentials found/);
    expect(run.stderr).toContain(LOGIN);
    expect(run.stderr).toContain('--user "$(id -u):$(id -g)"');
  });

  it('a credentials file that does not exist', async () => {
    const run = await cronwarden(['scan', '--project', 'acme-prod'], { GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'missing.json') });
    expect(run.code).toBe(2);
    expectOneClearMessage(run, /GOOGLE_APPLICATION_CREDENTIALS=.*missing\.json: file not found/);
    expect(run.stderr).toContain(LOGIN);
  });

  it('a credentials file the process may not read (the container user is not its owner)', async () => {
    const file = join(dir, 'owned-by-another.json');
    writeFileSync(file, JSON.stringify({ type: 'authorized_user', client_id: 'c', client_secret: 's', refresh_token: 'r' }), { mode: 0o600 });
    // Root reads everything: run the CLI as another user, as a container's `node` user would be.
    const asAnother = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    if (!asAnother) chmodSync(file, 0o000);
    const run = await cronwarden(['scan', '--org', '123456789012'], { GOOGLE_APPLICATION_CREDENTIALS: file }, asAnother);
    expect(run.code).toBe(2);
    expectOneClearMessage(run, /owned-by-another\.json: this process \(uid \d+\) may not read it/);
    expect(run.stderr).toContain('docker run --user "$(id -u):$(id -g)"');
  });

  it('a file a topic-only run needs too, unless the Pub/Sub emulator stands in', async () => {
    const missing = { GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'missing.json') };
    const inputs = ['--input', 'examples/sample-org/resources.export.ndjson', '--format', 'jsonl'];
    const topic = ['--topic', 'projects/acme-sec/topics/cronwarden-findings'];
    const real = await cronwarden(['scan', ...inputs, ...topic], missing);
    expect(real.code).toBe(2);
    expectOneClearMessage(real, /file not found/);
    // A file scan without a topic talks to no Google API and needs no credentials.
    const fileOnly = await cronwarden(['scan', ...inputs], missing);
    expect(fileOnly.stderr).not.toMatch(/credentials/);
    expect(fileOnly.code).not.toBe(2);
  });

  describe('an expired user login, against a token endpoint that answers invalid_grant', () => {
    let endpoint: TokenEndpoint;
    let file: string;
    beforeAll(async () => {
      endpoint = await startTokenEndpoint();
      file = join(dir, 'application_default_credentials.json');
      // The shape `gcloud auth application-default login` writes.
      writeFileSync(file, JSON.stringify({ type: 'authorized_user', client_id: 'test-client.apps.example', client_secret: 'test-secret', refresh_token: '1//expired-refresh-token' }));
    });
    afterAll(() => endpoint.stop());

    it('says the login expired and how to renew it, exit 2', async () => {
      const run = await cronwarden(['scan', '--org', '123456789012'], { ...endpoint.env, GOOGLE_APPLICATION_CREDENTIALS: file });
      expect(run.code).toBe(2);
      expectOneClearMessage(run, /Google refused the credentials in .*application_default_credentials\.json \(invalid_grant: Token has been expired or revoked\.\)/);
      expect(run.stderr).toContain(`Run '${LOGIN}' again`);
      // The refresh went to the token endpoint, and no token or secret was printed.
      expect(endpoint.tunnels.every((t) => t === 'oauth2.googleapis.com:443')).toBe(true);
      expect(endpoint.requests.at(-1)).toMatchObject({ grant_type: 'refresh_token', refresh_token: '1//expired-refresh-token' });
      expect(run.stderr).not.toMatch(/expired-refresh-token|test-secret/);
    });

    it('as a Cloud Run task: the code of the exit-code table, the same in the log and the process', async () => {
      const run = await cronwarden(['scan', '--org', '123456789012'], { ...endpoint.env, GOOGLE_APPLICATION_CREDENTIALS: file, CLOUD_RUN_JOB: 'cronwarden', CLOUD_RUN_TASK_INDEX: '0' });
      const entries = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ severity: 'CRITICAL', event: 'scan.failed', exitCode: 0, retried: false, error: { name: 'CredentialsError', code: 'CREDENTIALS_EXPIRED' } });
      expect(String(entries[0]!.message)).toContain(LOGIN);
      // Permanent: a retry cannot renew a login, so Cloud Run is told the task is done (and the log says why).
      expect(run.code).toBe(0);
    });
  });
});
