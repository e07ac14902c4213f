import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { findingMessage, scanCompletedMessage } from '../../src/sinks/pubsub-sink.js';
import { prepareSpoolDir, Spool } from '../../src/sinks/pubsub/spool.js';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsub-emulator.js';
import { aFinding, aSummary } from '../sinks/finding-builder.js';
import { adminClient, Collector, freshTopic, sleep } from '../sinks/pubsub-helpers.js';
import { sampleInputs } from '../support/cli-harness.js';
import { scratch } from './hostile-inventory.js';

/**
 * Issue: replay-spool trusted its input. A record with a non-string attribute crashed it and later
 * records were neither replayed nor kept; a record's own `topic` was obeyed (a tampered line went
 * to another project's topic); `data` was not checked to be a finding. And the spool file itself:
 * one shared path, appended to, default permissions, symlinks followed.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
let emulator: PubSubEmulator;
let admin: PubSub;
const work = scratch('replay');

beforeAll(async () => {
  expect(existsSync(CLI), 'dist is built (npm run build)').toBe(true);
  emulator = await startPubSubEmulator();
  admin = adminClient(emulator.host);
});
afterAll(async () => {
  await admin?.close();
  await emulator?.close();
  work.remove();
});

function cronwarden(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', PUBSUB_EMULATOR_HOST: emulator.host, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const record = (m: { data: Buffer | string; attributes: Record<string, unknown> }, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ attributes: m.attributes, data: m.data.toString(), error: { code: 14, status: 'UNAVAILABLE', message: 'down' }, failedAt: '2026-11-30T03:00:00.000Z', ...extra });
const header = (topic: string) => JSON.stringify({ cronwardenSpool: 1, topic, scanId: 'scan-replay', createdAt: '2026-11-30T03:00:00.000Z' });

async function drain(collector: Collector): Promise<void> {
  let last = -1;
  while (collector.messages.length !== last) {
    last = collector.messages.length;
    await sleep(1000);
  }
  await collector.close();
}

describe('replay-spool with a tampered spool file', () => {
  it('publishes only valid records, only to the header topic; keeps and names every other line; never crashes', async () => {
    const { topic, subscription } = await freshTopic(admin, 'replay-home');
    const other = await freshTopic(admin, 'replay-elsewhere');
    const good = [aFinding(1, 'scan-replay'), aFinding(2, 'scan-replay')];
    const finding = findingMessage(good[0]!);
    const lines = [
      header(topic),
      record(findingMessage(good[0]!)),
      record({ ...finding, attributes: { ...finding.attributes, severity: 7 } }), // 3: non-string attribute
      record(findingMessage(good[1]!), { topic: other.topic }), // 4: a record naming another topic: ignored, published home
      record({ data: '{"x":1}', attributes: { eventType: 'finding' } }), // 5: data is not a finding
      '{"attributes": {"eventType": "finding"}, "data": ', // 6: not JSON
      record(scanCompletedMessage(aSummary(good), { findingsPublished: 0, findingsSpooled: 2 })),
      record({ data: '{}', attributes: { eventType: 'remediation.applied' } }), // 8: no schema in this version
      record({ data: JSON.stringify({ ...JSON.parse(finding.data.toString()), severity: 'ultra' }), attributes: finding.attributes }), // 9
      record({ ...finding, attributes: { ...finding.attributes, findingId: 'f'.repeat(32) } }), // 10: attribute does not match data
      // 11-14: attributes that subscriptions filter on, spoofed: `NOT attributes:suppressed` would drop a real alert.
      record({ ...finding, attributes: { ...finding.attributes, suppressed: 'true' } }),
      record({ ...finding, attributes: { ...finding.attributes, schemaVersion: '2' } }),
      record({ ...finding, attributes: { ...finding.attributes, evil: 'x' } }),
      record((({ data, attributes: { severity: _drop, ...rest } }) => ({ data, attributes: rest }))(finding)),
      record((({ data, attributes }) => ({ data, attributes: { ...attributes, partial: 'false' } }))(scanCompletedMessage({ ...aSummary(good), partial: true }, { findingsPublished: 0, findingsSpooled: 2 }))),
    ];
    const file = work.file('tampered.spool.jsonl', `${lines.join('\n')}\n`);
    const home = new Collector(subscription);
    const elsewhere = new Collector(other.subscription);

    const run = await cronwarden(['replay-spool', file]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(run.stderr).toContain('3 delivered, 11 failed');
    for (const [line, why] of [
      [3, 'attribute "severity" is not a string'],
      [5, 'data is not a finding'],
      [6, 'not JSON'],
      [8, 'data is not a remediation record'],
      [9, 'data is not a finding'],
      [10, 'attribute findingId does not match the data'],
      [11, 'attribute suppressed is not one the scanner writes for this data'],
      [12, 'attribute schemaVersion does not match the data'],
      [13, 'attribute evil is not one the scanner writes for this data'],
      [14, 'attribute severity is missing'],
      [15, 'attribute partial does not match the data'],
    ] as const) {
      expect(run.stderr).toContain(`${file}:${line}: not replayed (${why}`);
    }
    await drain(home);
    await drain(elsewhere);
    expect(elsewhere.messages).toEqual([]);
    expect([...home.keys()].sort()).toEqual([good[0]!.findingId, good[1]!.findingId, 'scan.completed'].sort());

    // Every line not delivered is kept, as it was, in a new spool file for the same topic.
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.replayed`)).toBe(true);
    const kept = readdirSync(work.dir).filter((f) => f.startsWith('tampered.remaining-') && f.endsWith('.spool.jsonl'));
    expect(kept).toHaveLength(1);
    const keptLines = readFileSync(join(work.dir, kept[0]!), 'utf8').trim().split('\n');
    expect(JSON.parse(keptLines[0]!)).toMatchObject({ cronwardenSpool: 1, topic });
    expect(keptLines.slice(1)).toEqual([lines[2], lines[4], lines[5], lines[7], lines[8], lines[9], ...lines.slice(10)]);
    expect(statSync(join(work.dir, kept[0]!)).mode & 0o777).toBe(0o600);
  });

  it('accounts for every line of generated hostile input: delivered or kept, never lost, never a crash', async () => {
    const { topic } = await freshTopic(admin, 'replay-fuzz');
    const f = findingMessage(aFinding(9, 'scan-fuzz'));
    const hostile = fc.sample(
      fc.oneof(
        fc.json(),
        fc.string(),
        fc.record({ attributes: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null))), data: fc.oneof(fc.string(), fc.integer()) }).map((r) => JSON.stringify(r)),
        fc.constantFrom('{"attributes":{"constructor":"x","__proto__":{"eventType":"finding"}},"data":"{}"}', '[]', 'null', '""', '{"attributes":null,"data":null}'),
      ),
      { numRuns: 60, seed: 10 },
    ).map((v) => String(v).replace(/\r?\n|\r/g, ' '));
    const lines = [header(topic), record(f), ...hostile.filter((l) => l.trim() !== '')];
    const file = work.file('fuzz.spool.jsonl', `${lines.join('\n')}\n`);
    const run = await cronwarden(['replay-spool', file]);
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    const [, delivered, failed] = /(\d+) delivered, (\d+) failed/.exec(run.stderr)!.map(Number);
    expect(delivered! + failed!).toBe(lines.length - 1);
    expect(delivered).toBe(1);
    const kept = readdirSync(work.dir).find((n) => n.startsWith('fuzz.remaining-'))!;
    expect(readFileSync(join(work.dir, kept), 'utf8').trim().split('\n')).toHaveLength(failed! + 1);
  });

  it('a file without a header (an older version) and no --topic: nothing published, the file left as it is', async () => {
    const file = work.file('legacy.spool.jsonl', `${record(findingMessage(aFinding(3)), { topic: 'projects/attacker-proj/topics/steal' })}\n`);
    const run = await cronwarden(['replay-spool', file]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('it has no header naming its topic');
    expect(readFileSync(file, 'utf8')).toContain('attacker-proj');
  });

  it('a --topic that is not a topic name is a usage error (2), found before anything is read', async () => {
    const file = work.file('usage.spool.jsonl', `${header('projects/p/topics/t')}\n${record(findingMessage(aFinding(4)))}\n`);
    const run = await cronwarden(['replay-spool', file, '--topic', 'bad']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--topic');
    expect(existsSync(file)).toBe(true);
  });

  it('an empty file is nothing to replay (0); a header of another spool format leaves the file as it is (3)', async () => {
    const empty = work.file('empty.spool.jsonl', '');
    const none = await cronwarden(['replay-spool', empty]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain('empty, nothing to replay');
    expect(none.stderr).not.toMatch(/error/i);
    const newer = work.file('newer.spool.jsonl', `${JSON.stringify({ cronwardenSpool: 2, topic: 'projects/p/topics/t' })}\n${record(findingMessage(aFinding(5)))}\n`);
    const other = await cronwarden(['replay-spool', newer]);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('spool format 2');
    expect(other.stderr).not.toContain('older version');
    expect(existsSync(newer)).toBe(true);
  });

  it('a spool-named symbolic link in a directory is named and not followed (3); what is left keeps the original header under --topic', async () => {
    const { topic } = await freshTopic(admin, 'replay-redirect');
    const dir = join(work.dir, 'links');
    mkdirSync(dir, { mode: 0o700 });
    const outside = work.file('outside.spool.jsonl', `${header(topic)}\n${record(findingMessage(aFinding(6)))}\n`);
    symlinkSync(outside, join(dir, 'linked.spool.jsonl'));
    // A line that does not validate is kept in the remaining file, whose header must not become --topic's.
    writeFileSync(join(dir, 'own.spool.jsonl'), `${header('projects/origin-proj/topics/findings')}\n${record({ data: '{}', attributes: { eventType: 'finding' } })}\n`);
    const run = await cronwarden(['replay-spool', dir, '--topic', topic]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`${join(dir, 'linked.spool.jsonl')}: not replayed: it is not a regular file`);
    const kept = readdirSync(dir).filter((f) => f.startsWith('own.remaining-'));
    expect(kept).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, kept[0]!), 'utf8').split('\n')[0]!)).toMatchObject({ topic: 'projects/origin-proj/topics/findings' });
    expect(readFileSync(outside, 'utf8')).toContain(aFinding(6).findingId);
  });

  it('replays a whole spool directory; files already replayed are not published again', async () => {
    const { topic, subscription } = await freshTopic(admin, 'replay-dir');
    const dir = join(work.dir, 'spool-dir');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'a.spool.jsonl'), `${header(topic)}\n${record(findingMessage(aFinding(11)))}\n`);
    writeFileSync(join(dir, 'b.spool.jsonl'), `${header(topic)}\n${record(findingMessage(aFinding(12)))}\n`);
    writeFileSync(join(dir, 'notes.txt'), 'not a spool file');
    const collector = new Collector(subscription);
    const first = await cronwarden(['replay-spool', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('2 delivered, 0 failed');
    const again = await cronwarden(['replay-spool', dir]);
    expect(again.stderr).toContain('0 delivered, 0 failed');
    await drain(collector);
    expect(collector.keys().size).toBe(2);
  });
});

describe('spool file safety', () => {
  it('creates the directory 0700 and takes group and other access from an existing one; refuses a symlinked directory', () => {
    const made = prepareSpoolDir(join(work.dir, 'new-spool'));
    expect(statSync(made).mode & 0o777).toBe(0o700);
    const loose = join(work.dir, 'loose');
    mkdirSync(loose, { mode: 0o777 });
    prepareSpoolDir(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o700);
    symlinkSync(made, join(work.dir, 'linked-spool'));
    expect(() => prepareSpoolDir(join(work.dir, 'linked-spool'))).toThrow(/is a symbolic link/);
  });

  it('creates each file 0600 and exclusively: an existing file or a planted symlink is refused, never followed', () => {
    const spool = Spool.create(join(work.dir, 'one.spool.jsonl'), { topic: 'projects/p-test/topics/t' });
    spool.appendRaw('{}');
    expect(statSync(spool.path).mode & 0o777).toBe(0o600);
    expect(() => Spool.create(spool.path, { topic: 'projects/p-test/topics/t' })).toThrow(ConfigurationError);
    const victim = work.file('victim.txt', 'keep me');
    symlinkSync(victim, join(work.dir, 'planted.spool.jsonl'));
    expect(() => Spool.create(join(work.dir, 'planted.spool.jsonl'), { topic: 'projects/p-test/topics/t' })).toThrow(/symbolic link|already exists/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it('an existing --spool-path, or a --spool-dir that is a symbolic link, is a configuration error before scanning', async () => {
    const { topic } = await freshTopic(admin, 'spool-per-run');
    const existing = work.file('taken.spool.jsonl', 'x\n');
    const run = await cronwarden(['scan', ...sampleInputs(), '--format', 'jsonl', '--topic', topic, '--spool-path', existing]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot create the spool file ${existing}: it already exists`);
    expect(run.stdout).toBe('');
    const linked = join(work.dir, 'linked-dir');
    symlinkSync(join(work.dir, 'new-spool'), linked);
    const viaLink = await cronwarden(['scan', ...sampleInputs(), '--topic', topic, '--spool-dir', linked]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toContain('is a symbolic link');
  });
});
