import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exceptionsJsonSchema } from '../../src/exceptions/schema.js';
import { globToRegExp } from '../../src/exceptions/glob.js';
import { FindingSchema } from '../../src/findings/schema.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { isoDayFromNow } from '../lifecycle/changed-sample.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cronwarden-exceptions-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `exceptions-${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const DEFAULT_COMPUTE = 'token-sa-not-default-compute';
const entry = (fields: Record<string, string>): string =>
  ['  - ' + Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n    ')].join('\n');

const findingsOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => FindingSchema.parse(JSON.parse(l)));

describe('--exceptions FILE', () => {
  it('a covered finding is still emitted with its status and its suppression, and does not count for --fail-on', async () => {
    const args = ['scan', ...sampleInputs(), '--format', 'jsonl', '--only-rule', DEFAULT_COMPUTE, '--fail-on', 'low'];
    const without = await runCli(args);
    expect(without.code).toBe(1);
    const path = file(
      `exceptions:\n${entry({ rule: DEFAULT_COMPUTE, 'match': '{ jobs: ["default-*"], locations: ["us-*"] }', reason: 'batch job moves to its own account', owner: 'ops@example.com', expires: isoDayFromNow(100) })}\n`,
    );
    const run = await runCli([...args, '--exceptions', path]);
    expect(run.code, run.stderr).toBe(0);
    const [f] = findingsOf(run.stdout);
    expect(f).toMatchObject({ status: 'fail', ruleId: DEFAULT_COMPUTE, suppression: { reason: 'batch job moves to its own account', owner: 'ops@example.com', expires: isoDayFromNow(100), entry: '#1' } });
    expect(f!.suppression!.ticket).toBeUndefined();
    expect(run.stderr).toMatch(/1 findings suppressed/);
  });

  it('reads JSON too, and CRONWARDEN_EXCEPTIONS', async () => {
    const path = file(
      JSON.stringify({ exceptions: [{ id: 'json-entry', rule: [DEFAULT_COMPUTE], match: { projects: ['acme-*'] }, reason: 'r', owner: 'o', expires: isoDayFromNow(5), ticket: 'T-1' }] }),
      'json',
    );
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--only-rule', DEFAULT_COMPUTE], { CRONWARDEN_EXCEPTIONS: path });
    expect(findingsOf(run.stdout)[0]!.suppression).toMatchObject({ entry: 'json-entry', ticket: 'T-1' });
    // Expiring within 14 days: warned.
    expect(run.stderr).toMatch(/expires within 14 days: json-entry/);
  });

  it('an expired entry stops applying and is named; an entry that matched nothing is reported stale', async () => {
    const path = file(
      'exceptions:\n' +
        entry({ id: 'old', rule: DEFAULT_COMPUTE, match: '{ jobs: ["*"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(-1) }) +
        '\n' +
        entry({ id: 'nothing', rule: DEFAULT_COMPUTE, match: '{ projects: ["no-such-project"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(60) }) +
        '\n',
    );
    const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--only-rule', DEFAULT_COMPUTE, '--fail-on', 'low', '--exceptions', path]);
    expect(run.code).toBe(1);
    expect(findingsOf(run.stdout)[0]!.suppression).toBeUndefined();
    expect(run.stderr).toMatch(/EXPIRED, no longer applies: old/);
    expect(run.stderr).toMatch(/stale, matched nothing: nothing/);
    expect(run.stderr).not.toMatch(/stale, matched nothing: old/);
  });

  it.each([
    ['a missing owner', entry({ id: 'no-owner', rule: DEFAULT_COMPUTE, match: '{ jobs: ["x"] }', reason: 'r', expires: '2026-12-31' }), /entry 1 \(no-owner\) at line 2: owner: /],
    ['an unknown rule', entry({ rule: 'no-such-rule', match: '{ jobs: ["x"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(10) }), /entry 1 at line 2: rule: unknown rule "no-such-rule"/],
    ['a date that is not one', entry({ rule: DEFAULT_COMPUTE, match: '{ jobs: ["x"] }', reason: 'r', owner: 'o', expires: 'next-year' }), /entry 1 at line 2: expires: /],
    ['an expiry too far ahead', entry({ rule: DEFAULT_COMPUTE, match: '{ jobs: ["x"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(400) }), /expires: .* more than 365 days ahead/],
    ['an entry that covers everything', entry({ rule: DEFAULT_COMPUTE, match: '{}', reason: 'r', owner: 'o', expires: isoDayFromNow(10) }), /match: give at least one of jobs, projects, locations/],
    ['an unknown field', entry({ rule: DEFAULT_COMPUTE, match: '{ jobs: ["x"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(10), severity: 'low' }), /entry 1 at line 2: entry: Unrecognized key: "severity"/],
  ])('%s exits 2 naming the entry and the field, before anything is read', async (_, text, message) => {
    const path = file(`exceptions:\n${text}\n`);
    // The input does not exist: the exceptions file is checked first.
    const run = await runCli(['scan', '--input', join(dir, 'not-read.ndjson'), '--exceptions', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/not-read\.ndjson/);
  });

  it('--exceptions-max-days allows a longer horizon; a file that is not YAML exits 2 with its line', async () => {
    const far = file(`exceptions:\n${entry({ rule: DEFAULT_COMPUTE, match: '{ jobs: ["x"] }', reason: 'r', owner: 'o', expires: isoDayFromNow(400) })}\n`);
    const ok = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--exceptions', far, '--exceptions-max-days', '500']);
    expect(ok.code, ok.stderr).toBe(0);
    const broken = await runCli(['scan', ...sampleInputs(), '--exceptions', file('exceptions:\n  - rule: [unclosed\n')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid YAML or JSON/);
  });

  // Before, the YAML library's alias limit surfaced as an internal error with a stack trace (exit
  // 70 in a Cloud Run task, which retries it).
  it('a file whose YAML aliases expand past the library limit is a configuration error, not an internal one', async () => {
    const aliases = Array.from({ length: 150 }, (_, i) =>
      `  - rule: ${DEFAULT_COMPUTE}\n    match: { jobs: ["job-${i}"] }\n    reason: r\n    owner: ${i === 0 ? '&o team@example.com' : '*o'}\n    expires: "${isoDayFromNow(30)}"`,
    ).join('\n');
    const path = file(`exceptions:\n${aliases}\n`);
    for (const env of [{}, { CLOUD_RUN_JOB: 'cronwarden-scan', CRONWARDEN_LOG_FORMAT: 'text' }]) {
      const run = await runCli(['scan', ...sampleInputs(), '--exceptions', path], env);
      expect(run.code, run.stderr).toBe('CLOUD_RUN_JOB' in env ? 0 : 2);
      expect(run.stderr).toContain(`exceptions file ${path}: cannot be read`);
      expect(run.stderr).toContain('aliases');
      expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });
});

describe('job globs', () => {
  it('* stays within a segment, ** crosses segments', () => {
    expect(globToRegExp('nightly-*').test('nightly-export')).toBe(true);
    expect(globToRegExp('projects/*/locations/*/jobs/a*').test('projects/p/locations/l/jobs/abc')).toBe(true);
    expect(globToRegExp('projects/*/jobs/a*').test('projects/p/locations/l/jobs/abc')).toBe(false);
    expect(globToRegExp('projects/**/jobs/a*').test('projects/p/locations/l/jobs/abc')).toBe(true);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
  });
});

describe('schemas/exceptions.schema.json', () => {
  it('is the JSON Schema generated from the zod schema (regenerate with: node dist/src/findings/write-json-schema.js)', () => {
    expect(JSON.parse(readFileSync('schemas/exceptions.schema.json', 'utf8'))).toEqual(exceptionsJsonSchema());
  });
});
