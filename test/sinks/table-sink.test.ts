import { PassThrough, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEVERITIES, type Finding } from '../../src/findings/schema.js';
import { TableSink, commandLines, type TableOptions } from '../../src/sinks/table-sink.js';
import { MinSeveritySink } from '../../src/sinks/min-severity-sink.js';
import { escapeTerminal } from '../../src/text/escape-terminal.js';
import { displayWidth, useColour } from '../../src/text/terminal.js';
import { commandLine } from '../../src/fixes/shell.js';
import { parse } from 'shell-quote';
import { aFinding, aSummary } from './finding-builder.js';

async function render(findings: Finding[], options: Partial<TableOptions> = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  const sink = new TableSink(out, { width: 80, colour: false, groupBy: 'project', wide: false, ...options });
  for (const f of findings) sink.write(f);
  await sink.close();
  return Buffer.concat(chunks).toString('utf8');
}

const hostile = (i: number, jobId: string, message = 'plain message'): Finding => {
  const f = aFinding(i);
  return { ...f, job: { ...f.job, name: `projects/${f.job.project}/locations/${f.job.location}/jobs/${jobId}` }, message };
};

describe('table', () => {
  it('escapes control and bidi characters: a job name cannot forge a row, move the cursor or reorder text', async () => {
    const text = await render(
      [
        hostile(0, 'evil\nHIGH  fail   forged-rule  forged-job  forged', 'msg \x1b[2J\x1b[31mred'),
        hostile(1, 'rtl\u202eeulav', 'bell\x07 and \u2066isolate\u2069'),
        hostile(2, 'c1\u009bcsi'),
      ],
      { groupBy: 'none', wide: true, width: 200 },
    );
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('evil\\nHIGH');
    expect(text).toContain('rtl\\u202eeulav');
    expect(text).toContain('\\x1b[2J');
    expect(text).toContain('c1\\x9bcsi');
    // One line per finding plus its details: the forged row is part of the escaped name, not a line.
    expect(text.split('\n').filter((l) => l.startsWith('HIGH  fail   forged'))).toEqual([]);
  });

  it('fits every line into the width, whatever the names and messages (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ job: fc.stringMatching(/^[^/]{1,60}$/), message: fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }) }), { minLength: 1, maxLength: 15 }),
        fc.integer({ min: 20, max: 220 }),
        fc.constantFrom('project', 'rule', 'none') as fc.Arbitrary<TableOptions['groupBy']>,
        fc.boolean(),
        async (rows, width, groupBy, colour) => {
          const text = await render(rows.map((r, i) => hostile(i, r.job, r.message)), { width, groupBy, colour });
          for (const line of text.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('lists new findings first in each group once findings carry a lifecycle', async () => {
    const old: Finding = { ...aFinding(7), lifecycle: 'open' };
    const fresh: Finding = { ...aFinding(14), lifecycle: 'new' };
    expect(fresh.job.project).toBe(old.job.project);
    const lines = (await render([old, fresh], { width: 120 })).split('\n');
    const first = lines.findIndex((l) => l.startsWith('+'));
    const second = lines.findIndex((l) => l.startsWith('  ') && /fail|unver/.test(l));
    expect(first).toBeGreaterThan(-1);
    expect(first).toBeLessThan(second);
    expect(lines.join('\n')).toContain('+ new since the last scan');
  });

  it('renders 200,000 findings (past the 128k that overflowed the call stack) with every line fitted', async () => {
    let bytes = 0;
    let lines = 0;
    let widest = 0;
    let carry = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        const text = carry + chunk.toString('utf8');
        const parts = text.split('\n');
        carry = parts.pop()!;
        for (const p of parts) {
          lines++;
          if (p.length > widest) widest = p.length;
        }
        bytes += chunk.length;
        done();
      },
    });
    const sink = new TableSink(out, { width: 100, colour: false, groupBy: 'project', wide: false });
    const base = aFinding(1);
    for (let i = 0; i < 200_000; i++) {
      sink.write({ ...base, severity: SEVERITIES[i % 5]!, job: { ...base.job, name: `projects/p${i % 50}/locations/l/jobs/job-${i}`, project: `p${i % 50}` } });
    }
    const report = await sink.close();
    expect(report.delivered).toBe(200_000);
    expect(lines).toBeGreaterThan(200_000);
    expect(widest).toBeLessThanOrEqual(100);
    expect(bytes).toBeGreaterThan(0);
  }, 120_000);

  it('colours only when asked: a terminal without NO_COLOR, or FORCE_COLOR', async () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColour({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(await render([aFinding(0)], { colour: true })).toContain('\x1b[');
    expect(await render([aFinding(0)], { colour: false })).not.toContain('\x1b[');
  });

  it('lays wide commands out in lines that fit and paste as the same command (property)', () => {
    const word = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_@%+=:,.\/-]{1,70}$/), fc.string({ minLength: 0, maxLength: 90 }).map((v) => `--x=${v}`));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.integer({ min: 20, max: 120 }), (words, width) => {
        const command = commandLine(['gcloud', ...words]);
        const lines = commandLines(command, width);
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
        // The shell joins `\`-newline continuations: the lines parse to the same words.
        expect(parse(lines.join('\n').replace(/\\\n/g, ''))).toEqual(parse(command));
      }),
      // Examples it found: a quote opened at a piece's last column left no room for its close; a
      // word one column too long for its line was printed twice.
      { numRuns: 300, examples: [[["--x=        '"], 20], [["--x=    '   ", '-'], 20]] },
    );
  });
});

describe('--min-severity', () => {
  it('passes on only findings at least that severe, and says how many it held back', async () => {
    const seen: Finding[] = [];
    const inner = { name: 'mem', write: (f: Finding) => void seen.push(f), close: async () => ({ sink: 'mem', delivered: seen.length, failed: 0 }) };
    const sink = new MinSeveritySink(inner, 'high');
    const findings = [0, 1, 2, 3, 4, 5].map((i) => ({ ...aFinding(i), severity: SEVERITIES[i % 5]! }));
    for (const f of findings) await sink.write(f);
    const report = await sink.close(aSummary(findings));
    expect(seen.map((f) => f.severity).sort()).toEqual(['critical', 'critical', 'high']);
    expect(report.notes).toEqual(['3 findings below --min-severity not written']);
  });
});

describe('escapeTerminal', () => {
  it('leaves ordinary text, including non-Latin scripts and emoji, unchanged', () => {
    for (const s of ['billing-no-token', 'ünïcødé «x»', '日本語のジョブ', 'عربي', '🙂']) expect(escapeTerminal(s)).toBe(s);
  });
});
