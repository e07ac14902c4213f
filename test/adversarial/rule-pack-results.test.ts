import { afterAll, describe, expect, it } from 'vitest';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { scratch } from './hostile-inventory.js';

/**
 * Issue: a pack rule returning status `bogus` or severity `ultra` got schema-invalid findings
 * published, and a pack rule that threw was blamed on the input file and stopped judging 24 of
 * 36 jobs. Results are checked now; a throwing rule is that rule's error, named and counted, and
 * the job's other rules still run.
 */

const meta = (id: string) => `{
  id: '${id}', title: 'Pack rule ${id}', severity: 'low', appliesTo: 'all',
  docs: { description: 'd', rationale: 'r', sources: ['s'], fix: { gcloud: 'g', terraform: 't' } },
  messages: { ok: 'ok', bad: 'bad {{x}}' }, remediation: { summary: 's', automatic: false },
}`;

const PACK = `
let calls = 0;
export default [
  { meta: ${meta('pack-bogus-status')}, evaluate: () => [{ status: 'bogus', messageId: 'ok' }] },
  { meta: ${meta('pack-ultra-severity')}, evaluate: () => [{ status: 'fail', messageId: 'bad', severity: 'ultra', data: { x: 1 } }] },
  { meta: ${meta('pack-throws')}, evaluate: (job) => { if (++calls % 6 === 0) throw new TypeError('cannot read job.http of ' + job.jobId); return [{ status: 'fail', messageId: 'bad', data: { x: 2 } }]; } },
  { meta: ${meta('pack-undeclared-message')}, evaluate: () => [{ status: 'fail', messageId: 'nope' }] },
];
`;

const work = scratch('rule-pack');
afterAll(() => work.remove());
const pack = work.file('pack.mjs', PACK);
const parse = (stdout: string): Finding[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);

describe('rule pack results', () => {
  it('publishes only schema-valid findings, names and counts each broken rule, judges every job with the other rules, exits 3', async () => {
    const plain = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl']);
    const r = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--rule-pack', pack]);
    expect(r.code, r.stderr).toBe(3);
    const findings = parse(r.stdout);
    for (const f of findings) FindingSchema.parse(f);

    // Every built-in finding is still there: no job lost its other verdicts.
    const key = (f: Finding) => `${f.job.name} ${f.ruleId} ${f.status} ${f.findingId}`;
    const builtIn = new Set(parse(plain.stdout).map(key));
    const after = new Set(findings.filter((f) => !f.ruleId.startsWith('pack-')).map(key));
    expect(after).toEqual(builtIn);

    expect(findings.filter((f) => ['pack-bogus-status', 'pack-ultra-severity', 'pack-undeclared-message'].includes(f.ruleId))).toEqual([]);
    const jobs = Number(/: (\d+) jobs scanned/.exec(r.stderr)![1]);
    const throwing = Math.floor(jobs / 6);
    expect(findings.filter((f) => f.ruleId === 'pack-throws')).toHaveLength(jobs - throwing);

    expect(r.stderr).toMatch(/RULE ERROR pack-bogus-status: no verdict on 36 job\(s\); first on projects\/.+: rule pack-bogus-status returned status "bogus"/);
    expect(r.stderr).toMatch(/RULE ERROR pack-ultra-severity: no verdict on 36 job\(s\).*severity "ultra"/);
    expect(r.stderr).toMatch(new RegExp(`RULE ERROR pack-throws: no verdict on ${throwing} job\\(s\\).*threw: TypeError: cannot read job.http of`));
    expect(r.stderr).toMatch(/RULE ERROR pack-undeclared-message: .*unknown messageId "nope"/);
    expect(r.stderr).not.toContain('unreadable input');
    expect(r.stderr).toContain('PARTIAL');
  });

  // Before, evidence that JSON cannot write failed the sink far from the rule: blamed on the input
  // file, it stopped the reading of jobs (1 of 36 judged), and the HTML report crashed.
  it.each(['jsonl', 'html'])('evidence JSON cannot write, or a message without its data, is that rule\'s error; every job is judged (--format %s)', async (format) => {
    const evidencePack = work.file(
      `evidence-${format}.mjs`,
      `
export default [
  { meta: ${meta('pack-cyclic-evidence')}, evaluate: () => { const e = { a: 1 }; e.self = e; return [{ status: 'fail', messageId: 'ok', evidence: e }]; } },
  { meta: ${meta('pack-bigint-evidence')}, evaluate: () => [{ status: 'fail', messageId: 'ok', evidence: { n: 10n } }] },
  { meta: ${meta('pack-throwing-tojson')}, evaluate: () => [{ status: 'fail', messageId: 'ok', evidence: { toJSON() { throw new Error('no'); } } }] },
  { meta: ${meta('pack-huge-evidence')}, evaluate: () => [{ status: 'fail', messageId: 'ok', evidence: { blob: 'x'.repeat(200000) } }] },
  { meta: ${meta('pack-no-data')}, evaluate: () => [{ status: 'fail', messageId: 'bad' }] },
  { meta: ${meta('pack-plain-evidence')}, evaluate: () => [{ status: 'fail', messageId: 'bad', data: { x: 'y' }, evidence: { list: [1, 2], when: new Date(0) } }] },
];
`,
    );
    const out = work.file(`report.${format}`, '');
    const r = await runCli(['scan', ...sampleInputs(), '--format', format, '--output', out, '--rule-pack', evidencePack]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('unreadable input');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    const jobs = Number(/: (\d+) jobs scanned/.exec(r.stderr)![1]);
    expect(jobs).toBe(36);
    expect(r.stderr).toMatch(/RULE ERROR pack-cyclic-evidence: no verdict on 36 job\(s\).*evidence that is not JSON data/);
    expect(r.stderr).toMatch(/RULE ERROR pack-bigint-evidence: no verdict on 36 job\(s\).*evidence that is not JSON data/);
    expect(r.stderr).toMatch(/RULE ERROR pack-throwing-tojson: no verdict on 36 job\(s\).*evidence that is not JSON data/);
    expect(r.stderr).toMatch(/RULE ERROR pack-huge-evidence: no verdict on 36 job\(s\).*evidence of 2000\d\d characters/);
    expect(r.stderr).toMatch(/RULE ERROR pack-no-data: no verdict on 36 job\(s\).*no message data "x"/);
    const text = (await import('node:fs')).readFileSync(out, 'utf8');
    if (format === 'jsonl') {
      const findings = parse(text);
      for (const f of findings) FindingSchema.parse(f);
      const plain = findings.filter((f) => f.ruleId === 'pack-plain-evidence');
      expect(plain).toHaveLength(36);
      expect(plain[0]!.evidence).toEqual({ list: [1, 2], when: '1970-01-01T00:00:00.000Z' });
      expect(plain[0]!.message).toBe('bad y');
    }
    expect(text).not.toContain('{{');
  });

  it('in a Cloud Run task, a rule error is permanent (a retry runs the same rule): exit 0, the summary partial', async () => {
    const r = await runCli(['scan', ...sampleInputs(), '--rule-pack', pack], { CLOUD_RUN_JOB: 'cronwarden-scan', CRONWARDEN_LOG_FORMAT: 'text' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('RULE ERROR pack-throws');
  });
});
