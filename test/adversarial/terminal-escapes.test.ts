import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeJsonText, escapeTerminal } from '../../src/text/escape-terminal.js';
import { terminalText, textLogger } from '../../src/log/logger.js';
import { runCli } from '../support/cli-harness.js';
import { jobRecord, RAW_UNSAFE, scratch } from './hostile-inventory.js';

/**
 * Issue: names, URIs, audiences and messages from the inventory reached the text logs and the
 * summary raw (ESC cleared the screen, a newline forged a line, RLO reordered text), and a JSON
 * parse error quoted the raw line. Every human-readable output escapes them now.
 */

const hostileChar = fc.constantFrom('\u001b', '\n', '\r', '\t', '\u0007', '\u0000', '\u007f', '\u009b', '\u202e', '\u2066', '\u200f', '\u2028', '\ufeff', '\u061c');
const hostileText = fc.array(fc.oneof(fc.string({ maxLength: 8 }), hostileChar), { maxLength: 20 }).map((parts) => parts.join(''));

describe('escapeTerminal', () => {
  it('leaves no control or bidi character, for any text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const out = escapeTerminal(text);
        expect(out).not.toMatch(RAW_UNSAFE);
        expect(out).not.toContain('\n');
      }),
    );
  });

  it('shows what was there, and keeps ordinary text as it is', () => {
    expect(escapeTerminal('a\u001b[2Jb\nc\u202ed')).toBe('a\\x1b[2Jb\\nc\\u202ed');
    expect(escapeTerminal('job-1 héllo ✓ 日本')).toBe('job-1 héllo ✓ 日本');
  });

  it('escapeJsonText is lossless: the JSON reads back to the same value, with no raw bidi or C1 character', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const json = escapeJsonText(JSON.stringify({ text }));
        expect(json).not.toMatch(RAW_UNSAFE);
        expect((JSON.parse(json) as { text: string }).text).toBe(text);
      }),
    );
  });

  it('the text logger writes one line per message whatever the message holds', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const lines: string[] = [];
        textLogger('debug', (l) => void lines.push(l)).warn(`unreadable input at f:1: ${text}`, { value: text });
        expect(lines).toHaveLength(1);
        expect(lines[0]!.slice(0, -1)).not.toMatch(RAW_UNSAFE);
        expect(lines[0]!.slice(0, -1)).not.toContain('\n');
      }),
    );
  });

  it('cuts a huge message', () => {
    expect(terminalText('x'.repeat(1_000_000)).length).toBeLessThan(2100);
  });
});

describe('a scan of a hostile inventory', () => {
  const work = scratch('terminal');
  afterAll(() => work.remove());

  it('writes no raw control or bidi character to stderr (warnings, parse errors, summary) nor to JSON Lines', async () => {
    const lines = [
      jobRecord('esc', { uri: 'https://svc-abc-uc.a.run.app/\u001b[2J\u001b]0;owned\u0007', oidcToken: { serviceAccountEmail: 'a@acme-prod.iam.gserviceaccount.com', audience: 'x\u202eevil' } }),
      jobRecord('status', { uri: 'https://svc-abc-uc.a.run.app/run' }, { status: { code: 7, message: 'denied\ncronwarden error: forged line \u202etxt.exe' } }),
      // Not JSON: V8's parse error quotes the raw text.
      '\u001b[2J\u001b[31mRED \u202e{"name": 1}',
      jobRecord('no-uri', {}),
    ];
    const input = work.file('hostile.ndjson', `${lines.join('\n')}\n`);
    const r = await runCli(['scan', '--input', input, '--format', 'jsonl']);
    expect(r.code).toBe(3);
    for (const line of r.stderr.split('\n')) expect(line, line).not.toMatch(RAW_UNSAFE);
    expect(r.stderr).not.toMatch(/^cronwarden error: forged/m);
    expect(r.stdout).not.toMatch(RAW_UNSAFE);
    expect(r.stderr).toContain('\\x1b');
    for (const line of r.stdout.trim().split('\n')) JSON.parse(line);
  });

  // Before, the table, markdown and HTML escaped a narrower set (zero-width characters and the BOM
  // went through) and CSV escaped nothing.
  it.each(['table', 'csv', 'markdown'])('writes no raw control, bidi or zero-width character in --format %s', async (format) => {
    const input = work.file(
      `hostile-${format}.ndjson`,
      `${jobRecord('zw\u200bjob', { uri: 'https://svc-abc-uc.a.run.app/\u001b[2J\u200d\ufeff', oidcToken: { serviceAccountEmail: 'a@acme-prod.iam.gserviceaccount.com', audience: 'x\u202eevil\u2060' } })}\n`,
    );
    const r = await runCli(['scan', '--input', input, '--format', format]);
    // A CSV record and a markdown table end lines with CRLF and LF of their own; the inventory's are escaped.
    expect(r.stdout.replace(/\r?\n/g, '')).not.toMatch(RAW_UNSAFE);
    expect(r.stdout).toMatch(/\\u200b|\\x1b/);
  });

  it('caps repeated unreadable-record warnings: the first 100, then a count', async () => {
    const input = work.file('many-bad.ndjson', `${Array.from({ length: 1000 }, (_, i) => `not json ${i}`).join('\n')}\n`);
    const r = await runCli(['scan', '--input', input, '--format', 'jsonl']);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('cronwarden warn: unreadable input'));
    expect(warnings).toHaveLength(100);
    expect(r.stderr).toContain('more than 100 unreadable records: the rest are counted, not logged');
    expect(r.stderr).toContain('UNREADABLE records: 1000');
  });
});
