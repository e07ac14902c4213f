/**
 * Issue 10, item 3: silent passes. An input without a single Scheduler job must not exit 0
 * quietly (it warns and exits 4, which --fail-on cannot take for clean); a job record without
 * `resource` or `resource.data` is unreadable input named by file and line; a token of the wrong
 * type is unreadable input, not "no token".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/main.js';
import { CLI_EXIT_EMPTY_INVENTORY } from '../../src/runtime/exit-codes.js';
import { startFakeGcp, type FakeGcp } from '../support/fake-gcp/index.js';
import { runCli, SAMPLE_FILES } from '../support/cli-harness.js';
import { POLICIES_FILE, RESOURCES_FILE, SERVERLESS_FILE, tempDir } from './helpers.js';

const JOB_TYPE = 'cloudscheduler.googleapis.com/Job';
const sampleLines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '');

function file(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('an inventory without any Scheduler job', () => {
  const withoutJobs = (): string =>
    file('no-jobs.ndjson', sampleLines(RESOURCES_FILE).filter((l) => !l.includes(`"asset_type":"${JOB_TYPE}"`)).join('\n') + '\n');

  it.each([
    ['an empty file', () => file('empty.ndjson', '')],
    ['a file of blank lines', () => file('blank.ndjson', '\n\n  \n')],
    ['an empty array', () => file('empty.json', '[]')],
    ['an export that left out the Job asset type', withoutJobs],
  ])('%s: warns and exits 4, even with --fail-on', async (_what, make) => {
    const path = make();
    for (const failOn of ['never', 'low']) {
      const run = await runCli(['scan', '--input', path, '--format', 'jsonl', '--fail-on', failOn]);
      expect(run.code).toBe(CLI_EXIT_EMPTY_INVENTORY);
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('no Scheduler job found');
      expect(run.stderr).toContain('EMPTY INVENTORY');
    }
  });

  it('exits 0 and logs it in a Cloud Run task (a retry would read the same inventory)', async () => {
    const run = await runCli(['scan', '--input', withoutJobs(), '--format', 'jsonl', '--exit-mode', 'cloud-run', '--log-format', 'text']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('EMPTY INVENTORY');
  });

  it('a partial run without jobs is 3: unreadable input outranks 4', async () => {
    const run = await runCli(['scan', '--input', file('bad.ndjson', '{"name":\n'), '--format', 'jsonl']);
    expect(run.code).toBe(EXIT.partial);
  });

  it('a sample with jobs still exits 0 (not 4)', async () => {
    const run = await runCli(['scan', ...SAMPLE_FILES.flatMap((f) => ['--input', f]), '--format', 'jsonl']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('EMPTY INVENTORY');
  });

  describe('through the Cloud Asset API', () => {
    let fake: FakeGcp;
    beforeAll(async () => {
      fake = await startFakeGcp({ seedDir: 'examples/sample-org' });
    });
    afterAll(async () => {
      await fake.stop();
    });

    it('a scope with no job exits 4; one with jobs does not', async () => {
      const env = { CRONWARDEN_GOOGLE_API_ENDPOINT: fake.address };
      // The sample's second organization holds one project and no job.
      const empty = await runCli(['scan', '--org', '987654321098', '--format', 'jsonl'], env);
      expect(empty.stderr).toContain('no Scheduler job found');
      expect(empty.code).toBe(4);
      const full = await runCli(['scan', '--org', '123456789012', '--format', 'jsonl'], env);
      expect(full.code).not.toBe(4);
    });
  });
});

describe('job records that cannot be judged', () => {
  const job = (): Record<string, unknown> =>
    JSON.parse(sampleLines(RESOURCES_FILE).find((l) => l.includes('jobs/billing-ok"'))!) as Record<string, unknown>;

  it.each([
    ['without "resource"', (r: Record<string, unknown>) => void delete r.resource, '"resource"'],
    ['without "resource.data"', (r: Record<string, unknown>) => void delete (r.resource as Record<string, unknown>).data, '"resource.data"'],
    ['with "resource": null', (r: Record<string, unknown>) => void (r.resource = null), '"resource"'],
  ])('a job %s is unreadable input named by file and line; the scan is partial', async (_what, edit, missing) => {
    const r = job();
    edit(r);
    const path = file('jobs.ndjson', `\n${JSON.stringify(r)}\n`);
    const run = await runCli(['scan', '--input', path, '--input', POLICIES_FILE, '--format', 'jsonl']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toContain(`${path}:2: job //cloudscheduler.googleapis.com/projects/acme-prod/locations/us-central1/jobs/billing-ok has no ${missing}`);
    // It is a job all the same: not an empty inventory.
    expect(run.stderr).not.toContain('EMPTY INVENTORY');
  });

  it.each([
    ['oidcToken', 'a string', 'scheduler@acme-prod.iam.gserviceaccount.com'],
    ['oidcToken', 'a list', [{ serviceAccountEmail: 'x@y' }]],
    ['oauthToken', 'a boolean', true],
    ['oauthToken', 'a number', 7],
    // The API and exports leave an unset token out: a null one was written by something else.
    ['oidcToken', 'null', null],
    ['oauthToken', 'null', null],
  ])('%s given as %s is unreadable input, not "no token"', async (key, _type, value) => {
    const r = job();
    const http = (r.resource as { data: { httpTarget: Record<string, unknown> } }).data.httpTarget;
    delete http.oidcToken;
    http[key] = value;
    const path = file('jobs.ndjson', `${JSON.stringify(r)}\n`);
    const run = await runCli(['scan', '--input', path, '--input', POLICIES_FILE, '--input', SERVERLESS_FILE, '--format', 'jsonl', '--include-passes']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toMatch(new RegExp(`${path}:1: .*jobs/billing-ok: ${key} is `));
    // Not judged as a job without a token (http-target-uses-oidc would fail it).
    expect(run.stdout).not.toContain('billing-ok');
  });

  it('an audience or scope of the wrong type is unreadable too (else the default audience would be judged)', async () => {
    const r = job();
    const oidc = (r.resource as { data: { httpTarget: { oidcToken: Record<string, unknown> } } }).data.httpTarget.oidcToken;
    oidc.audience = { url: 'https://x' };
    const path = file('jobs.ndjson', `${JSON.stringify(r)}\n`);
    const run = await runCli(['scan', '--input', path, '--format', 'jsonl']);
    expect(run.code).toBe(EXIT.partial);
    expect(run.stderr).toContain('oidcToken.audience is an object, not a string');
  });
});
