import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { SAMPLE_FILES } from '../support/cli-harness.js';

/**
 * The table and everything else the scan prints, rendered in a real pseudo-terminal (util-linux
 * `script`) of a given width: no visible line may be wider than the terminal.
 */
function runInTerminal(columns: number, args: string[], env: Record<string, string> = {}): string {
  const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  const command = `stty cols ${columns} rows 60; exec node dist/src/cli/main.js ${quoted}`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NO_COLOR' && k !== 'FORCE_COLOR' && k !== 'COLUMNS'));
  return execFileSync('script', ['-q', '-e', '-c', command, '/dev/null'], {
    encoding: 'utf8',
    env: { ...clean, TERM: 'xterm-256color', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

/** What the terminal shows on each line: the text after the last carriage return, without styles. */
function visibleLines(raw: string): string[] {
  return raw
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    // eslint-disable-next-line no-control-regex
    .map((line) => line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
}

const scan = ['scan', ...SAMPLE_FILES.flatMap((f) => ['--input', f])];

describe('in a real terminal', () => {
  it.each([80, 120, 200])('every line fits %i columns: table, summary and all', { timeout: 120_000 }, (columns) => {
    for (const extra of [[], ['--wide'], ['--group-by', 'rule'], ['--group-by', 'none']]) {
      const raw = runInTerminal(columns, [...scan, ...extra]);
      const lines = visibleLines(raw);
      expect(lines.some((l) => l.startsWith('SEV'))).toBe(true);
      expect(lines.some((l) => l.includes('results:'))).toBe(true);
      for (const line of lines) expect(stringWidth(line), `${extra.join(' ')}: ${line}`).toBeLessThanOrEqual(columns);
    }
  });

  it('colours on a terminal, not with NO_COLOR', { timeout: 60_000 }, () => {
    expect(runInTerminal(120, scan)).toContain('\x1b[31m');
    expect(runInTerminal(120, scan, { NO_COLOR: '1' })).not.toMatch(/\x1b\[3\dm/);
  });

  it('the table printed to a pipe has no colour and fits 80 columns', { timeout: 60_000 }, () => {
    const out = execFileSync('node', ['dist/src/cli/main.js', ...scan, '--format', 'table'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' } });
    expect(out).not.toContain('\x1b[');
    for (const line of out.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(80);
  });

  it('--min-severity high shows only critical and high findings', { timeout: 60_000 }, () => {
    const lines = visibleLines(runInTerminal(200, [...scan, '--min-severity', 'high']));
    const rows = lines.filter((l) => /^(CRIT|HIGH|MED|LOW|INFO) /.test(l));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatch(/^(CRIT|HIGH) /);
  });
});
