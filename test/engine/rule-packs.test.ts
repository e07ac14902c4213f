import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { RuleShapeSchema, loadRulePacks, selectRules } from '../../src/engine/rule-packs.js';
import { ConfigurationError } from '../../src/errors.js';
import type { Finding } from '../../src/findings/schema.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { minimalRuleMeta } from '../support/rule-meta.js';

const EXAMPLE = 'examples/rule-packs/http-target-uses-https.mjs';
const dir = mkdtempSync(join(tmpdir(), 'cronwarden-packs-'));

function pack(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

/** A valid rule's source, with parts of its meta replaced. */
function ruleSource(overrides: Record<string, unknown> = {}): string {
  const meta = { ...minimalRuleMeta('org-custom-rule'), ...overrides };
  return `{ meta: ${JSON.stringify(meta)}, evaluate: () => [{ status: 'pass', messageId: 'ok' }] }`;
}

async function loadError(paths: string[]): Promise<ConfigurationError> {
  const err = await loadRulePacks(paths, allRules).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigurationError);
  expect((err as ConfigurationError).code).toBe('BAD_RULE_PACK');
  return err as ConfigurationError;
}

describe('loadRulePacks', () => {
  it('adds a pack’s rules after the built-in ones', async () => {
    const rules = await loadRulePacks([EXAMPLE, pack('named.mjs', `export const rules = [${ruleSource()}];`)], allRules);
    expect(rules.slice(0, allRules.length)).toEqual(allRules);
    expect(rules.slice(allRules.length).map((r) => r.meta.id)).toEqual(['http-target-uses-https', 'org-custom-rule']);
  });

  it('names a file that is missing, does not load, or exports no rules', async () => {
    expect((await loadError([join(dir, 'absent.mjs')])).message).toBe(`rule pack ${join(dir, 'absent.mjs')}: file does not exist`);
    const throwing = pack('throws.mjs', `throw new Error('boom');`);
    expect((await loadError([throwing])).message).toBe(`rule pack ${throwing}: cannot be loaded: boom`);
    // A module the pack imports being missing is not the pack missing; a syntax error says its line.
    const importing = pack('imports-missing.mjs', `import './not-there.mjs';\nexport default [];`);
    const importError = (await loadError([importing])).message;
    expect(importError).toContain(`rule pack ${importing}: cannot be loaded: `);
    expect(importError).toContain('not-there.mjs');
    const broken = pack('syntax.mjs', `export default [\n  1,\n};\n`);
    // Node's own loader (not this test runner's, which transforms modules): the built CLI.
    const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'rules', '--rule-pack', broken], { encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain(`rule pack ${broken}: cannot be loaded (line 3): SyntaxError: Unexpected token`);
    const object = pack('object.mjs', `export default ${ruleSource()};`);
    expect((await loadError([object])).message).toContain('expected `export default [rule, ...]`');
    expect((await loadError([pack('empty.mjs', 'export default [];')])).message).toContain('exports no rules');
  });

  it('names the rule and every field that breaks the rule shape', async () => {
    const bad = pack('bad.mjs', `export default [${ruleSource()}, ${ruleSource({ id: 'Bad_Id', appliesTo: ['cloud-run', 'mainframe'], docs: { description: 'd', rationale: 'r', sources: [], fix: { gcloud: 'g' } } })}];`);
    const message = (await loadError([bad])).message;
    expect(message).toContain(`rule pack ${bad}: rule 2 (Bad_Id): `);
    for (const field of ['meta.id', "meta.appliesTo: 'all' or a list of target kinds (cloud-run,", 'meta.docs.sources', 'meta.docs.fix.terraform']) {
      expect(message).toContain(field);
    }
    const noEvaluate = pack('no-evaluate.mjs', `export default [{ meta: ${JSON.stringify({ id: 'x' })} }];`);
    expect((await loadError([noEvaluate])).message).toMatch(/rule 1 \(x\): .*evaluate: must be a function/);
  });

  it('refuses an id a built-in rule or an earlier pack already has', async () => {
    const clash = pack('clash.mjs', `export default [${ruleSource({ id: 'oidc-sa-can-invoke-target' })}];`);
    expect((await loadError([clash])).message).toContain('id "oidc-sa-can-invoke-target" is already taken by the built-in rules');
    const first = pack('first.mjs', `export default [${ruleSource()}];`);
    const second = pack('second.mjs', `export default [${ruleSource()}];`);
    expect((await loadError([first, second])).message).toContain(`id "org-custom-rule" is already taken by rule pack ${first}`);
  });

  it('holds the built-in rules to the same shape', () => {
    for (const rule of allRules) expect(RuleShapeSchema.safeParse(rule).success, rule.meta.id).toBe(true);
  });
});

describe('--rule-pack', () => {
  const plainHttpJob = pack(
    'plain-http-job.ndjson',
    JSON.stringify({
      name: '//cloudscheduler.googleapis.com/projects/acme-billing-prod/locations/europe-west1/jobs/legacy-ping',
      asset_type: 'cloudscheduler.googleapis.com/Job',
      resource: {
        data: {
          name: 'projects/acme-billing-prod/locations/europe-west1/jobs/legacy-ping',
          state: 'ENABLED',
          httpTarget: { uri: 'http://legacy.example.com/ping', oidcToken: { serviceAccountEmail: 'pinger@acme-billing-prod.iam.gserviceaccount.com' } },
        },
      },
    }) + '\n',
  );

  it('runs a pack’s rules in a scan, from the flag or the environment', async () => {
    for (const [args, env] of [
      [['--rule-pack', EXAMPLE], {}],
      [[], { CRONWARDEN_RULE_PACKS: EXAMPLE }],
    ] as const) {
      const run = await runCli(['scan', ...sampleInputs(), '--input', plainHttpJob, '--format', 'jsonl', ...args], env);
      expect(run.code).toBe(0);
      const own = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Finding)
        .filter((f) => f.ruleId === 'http-target-uses-https');
      expect(own.map((f) => [f.job.name.split('/').pop(), f.status, f.severity, f.message]).sort()).toEqual([
        ['external-webhook', 'fail', 'medium', 'Job calls http://hooks.partner.example/acme over plain HTTP: the request crosses the network unencrypted.'],
        ['legacy-ping', 'fail', 'high', 'Job calls http://legacy.example.com/ping over plain HTTP with an OIDC token configured: the request crosses the network unencrypted.'],
      ]);
      expect(run.stderr).toContain('http-target-uses-https: 2 fail');
    }
  });

  it('lists and explains a pack’s rules, and stops with exit 2 on a broken pack', async () => {
    expect((await runCli(['rules', '--rule-pack', EXAMPLE])).stdout).toContain('http-target-uses-https');
    expect((await runCli(['explain', 'http-target-uses-https'], { CRONWARDEN_RULE_PACKS: EXAMPLE })).stdout).toContain('Fix with Terraform:');
    const broken = await runCli(['scan', ...sampleInputs(), '--rule-pack', join(dir, 'absent.mjs')]);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain(`rule pack ${join(dir, 'absent.mjs')}: file does not exist`);
  });
});

describe('selectRules', () => {
  const ids = (rules: readonly { meta: { id: string } }[]): string[] => rules.map((r) => r.meta.id);

  it('keeps registry order, takes only the named rules, then drops the skipped ones', () => {
    expect(selectRules(allRules, [], [])).toEqual(allRules);
    expect(ids(selectRules(allRules, ['last-attempt-authorized', 'http-target-uses-oidc'], []))).toEqual(['http-target-uses-oidc', 'last-attempt-authorized']);
    expect(ids(selectRules(allRules, [], ['token-sa-not-default-compute']))).toEqual(ids(allRules).filter((id) => id !== 'token-sa-not-default-compute'));
    expect(ids(selectRules(allRules, ['http-target-uses-oidc', 'last-attempt-authorized'], ['last-attempt-authorized']))).toEqual(['http-target-uses-oidc']);
  });

  it('refuses an unknown id, naming its flag, and a selection that leaves nothing', () => {
    expect(() => selectRules(allRules, ['http-target-uses-odic'], ['no-such'])).toThrow(
      /^--only-rule http-target-uses-odic, --skip-rule no-such: no such rule; known rules: http-target-uses-oidc, /,
    );
    expect(() => selectRules(allRules, ['http-target-uses-oidc'], ['http-target-uses-oidc'])).toThrow('the rule selection leaves no rule to run');
  });
});

describe('--only-rule and --skip-rule', () => {
  const rulesOf = (stdout: string): string[] => [...new Set(stdout.trim().split('\n').map((l) => (JSON.parse(l) as Finding).ruleId))].sort();

  it('change what a scan runs, and the summary lists what ran', async () => {
    const skipped = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--skip-rule', 'token-sa-not-default-compute']);
    expect(skipped.code).toBe(0);
    expect(rulesOf(skipped.stdout)).not.toContain('token-sa-not-default-compute');
    expect(rulesOf(skipped.stdout)).toContain('token-sa-exists-and-enabled');
    expect(skipped.stderr).not.toContain('token-sa-not-default-compute:');
    const only = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl'], { CRONWARDEN_ONLY_RULES: 'oidc-sa-can-invoke-target,google-api-target-uses-oauth' });
    expect(rulesOf(only.stdout)).toEqual(['google-api-target-uses-oauth', 'oidc-sa-can-invoke-target']);
    expect(only.stderr).toMatch(/google-api-target-uses-oauth: 1 fail.*\n.*oidc-sa-can-invoke-target: 6 fail/);
    const json = await runCli(['scan', ...sampleInputs(), '--format', 'json', '--skip-rule', 'last-attempt-authorized', '--rule-pack', EXAMPLE]);
    const { summary } = JSON.parse(json.stdout) as { summary: { rulesRun: string[] } };
    expect(summary.rulesRun).toEqual([...allRules.map((r) => r.meta.id).filter((id) => id !== 'last-attempt-authorized'), 'http-target-uses-https']);
  });

  it('stops with exit 2 on an id no rule has, before reading anything', async () => {
    const run = await runCli(['scan', '--input', join(dir, 'absent.ndjson'), '--skip-rule', 'no-such-rule']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--skip-rule no-such-rule: no such rule');
    expect(run.stderr).not.toContain('absent.ndjson');
  });
});

describe('the example rule packs', () => {
  it('name each file for its rule, and fail a job of the sample organization', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync('examples/rule-packs').filter((f) => f.endsWith('.mjs'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const path = `examples/rule-packs/${file}`;
      const rules = (await loadRulePacks([path], allRules)).slice(allRules.length);
      expect(rules.map((r) => r.meta.id)).toContain(file.replace(/\.mjs$/, ''));
      const run = await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--rule-pack', path, ...rules.flatMap((r) => ['--only-rule', r.meta.id])]);
      const fails = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status?: string }).filter((f) => f.status === 'fail');
      expect(fails.length, `${file} fails no job of the sample`).toBeGreaterThan(0);
    }
  });
});
