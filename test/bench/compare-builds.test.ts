import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The compiled script: it measures in child processes of compiled modules.
const { compareBuilds, medianRatio, otherScanScript } = (await import(new URL('../../dist/bench/compare-builds.js', import.meta.url).href)) as typeof import('../../bench/compare-builds.js');

describe('bench/compare-builds', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cronwarden-compare-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('scans the same files with both builds at once and reports each pair and the median ratio', async () => {
    const lines: string[] = [];
    // This checkout against itself: the same scan on both sides.
    const pairs = await compareBuilds({ other: '.', sizes: [200], pairs: 3, dataDir, log: (l) => lines.push(l) });
    expect(pairs).toHaveLength(3);
    for (const p of pairs) {
      expect(p.self.jobsScanned).toBe(200);
      expect(p.other.findings).toBe(p.self.findings);
      expect(p.cpuRatio).toBeCloseTo(p.self.cpuSeconds / p.other.cpuSeconds, 10);
    }
    expect(lines.filter((l) => l.startsWith('| 200 |'))).toHaveLength(3);
    expect(lines.at(-1)).toBe(`200 jobs: median CPU ratio ${medianRatio(pairs).toFixed(2)}`);
  }, 120_000);

  it('names a checkout that is not built', () => {
    expect(() => otherScanScript(dataDir)).toThrow(/does not exist \(build that checkout first/);
  });

  it('takes the median of an even number of pairs as the mean of the middle two', () => {
    const pair = (cpuRatio: number) => ({ cpuRatio }) as Parameters<typeof medianRatio>[0][number];
    expect(medianRatio([pair(1.4), pair(1.1), pair(1.3), pair(2)])).toBeCloseTo(1.35, 10);
  });
});
