import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The compiled runner: the benchmark measures in child processes of its compiled modules.
const { runBenchmarks } = (await import(new URL('../../dist/bench/run.js', import.meta.url).href)) as typeof import('../../bench/run.js');

describe('npm run bench', () => {
  const parent = mkdtempSync(join(tmpdir(), 'cronwarden-bench-run-'));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('says up front what disk and time it needs, and deletes what it generated', async () => {
    const dataDir = join(parent, 'data');
    const lines: string[] = [];
    await runBenchmarks({ only: ['files'], sizes: [300], dataDir }, (l) => lines.push(l));
    expect(lines[0]).toMatch(/about 2 GB .* a few minutes/);
    expect(lines.join('\n')).toMatch(/deleted at the end \(--keep-data keeps them/);
    expect(lines.join('\n')).toMatch(/generating 300 jobs/);
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('keeps them with --keep-data', async () => {
    const dataDir = join(parent, 'kept');
    await runBenchmarks({ only: ['files'], sizes: [300], dataDir, keepData: true }, () => undefined);
    expect(existsSync(dataDir)).toBe(true);
  }, 120_000);
});
