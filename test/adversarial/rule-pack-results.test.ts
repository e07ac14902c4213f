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

  it('in a Cloud Run task, a rule error is permanent (a retry runs the same rule): exit 0, the summary partial', async () => {
    const r = await runCli(['scan', ...sampleInputs(), '--rule-pack', pack], { CLOUD_RUN_JOB: 'cronwarden-scan', CRONWARDEN_LOG_FORMAT: 'text' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('RULE ERROR pack-throws');
  });
});
