import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticOrg } from '../../bench/synthetic-org.js';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import { textLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/scan/run-scan.js';
import fc from 'fast-check';
import { commandLine, gcloud, shellQuote } from '../../src/fixes/shell.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';

/**
 * Every command a finding carries is parsed as a shell would (shell-quote) and checked against
 * the installed gcloud's own help: the command path must name that command (gcloud prints its
 * NAME), and every flag must be one the help lists. A misspelt flag or command fails here.
 */

async function findingsOf(files: string[]): Promise<Finding[]> {
  const out: Finding[] = [];
  await runScan({
    source: new FileAssetSource(files),
    rules: allRules,
    logger: textLogger('silent'),
    scanId: 'fixes',
    sinks: [{ name: 'mem', write: (f) => void out.push(f), close: async () => ({ sink: 'mem', delivered: out.length, failed: 0 }) }],
  });
  return out;
}

const helpCache = new Map<string, string>();
const knownPaths = new Set<string>();
function gcloudHelp(words: string[]): string {
  const key = words.join(' ');
  let text = helpCache.get(key);
  if (text === undefined) {
    const raw = execFileSync('gcloud', [...words, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1', PAGER: 'cat', CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true' },
      timeout: 60_000,
    });
    // eslint-disable-next-line no-control-regex
    text = raw.replace(/\x1b\[[0-9;]*m/g, '');
    helpCache.set(key, text);
  }
  return text;
}

interface ParsedCommand {
  argv: string[];
  path: string[];
  flags: Map<string, string | true>;
}

function parseCommand(line: string): ParsedCommand {
  const tokens = parse(line);
  for (const t of tokens) expect(typeof t, `${line}: every token is a plain word (no operator, glob or comment)`).toBe('string');
  const argv = tokens as string[];
  expect(argv[0]).toBe('gcloud');
  const words = argv.slice(1).filter((w) => !w.startsWith('--'));
  // The command path is the words gcloud's help names (leaf commands: a known one that starts
  // the words is the path); what follows are positionals.
  let path = [...knownPaths].map((p) => p.split(' ')).find((p) => p.every((w, i) => words[i] === w));
  if (!path) {
    const help = gcloudHelp(words.slice(0, 6));
    path = /NAME\s+gcloud ([a-z0-9 -]+?) -/.exec(help)?.[1]?.trim().split(' ');
    expect(path, `${line}: gcloud names the command`).toBeDefined();
    expect(words.slice(0, path!.length)).toEqual(path);
    knownPaths.add(path!.join(' '));
  }
  const flags = new Map<string, string | true>();
  for (const w of argv.slice(1)) {
    if (!w.startsWith('--')) continue;
    const eq = w.indexOf('=');
    flags.set(eq < 0 ? w.slice(2) : w.slice(2, eq), eq < 0 ? true : w.slice(eq + 1));
  }
  return { argv, path: path!, flags };
}

let dir: string;
let sample: Finding[];
let synthetic: Finding[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-fixes-'));
  const org = await generateSyntheticOrg({ dir, projects: 6, jobs: 150, targets: 20, seed: 7, shape: 'export' });
  sample = await findingsOf(SAMPLE_FILES);
  synthetic = await findingsOf(org.files);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('remediation commands', () => {
  it('every fail and unverifiable finding of the sample has a summary, commands and the rule doc link', () => {
    const nonPassing = sample.filter((f) => f.status !== 'pass');
    expect(nonPassing.length).toBeGreaterThan(10);
    for (const f of nonPassing) {
      expect(f.remediation.commands?.length, `${f.ruleId} ${f.job.name}`).toBeGreaterThan(0);
      expect(f.remediation.docsUrl).toMatch(/^https:\/\//);
    }
  });

  it('parse into argv whose command and flags the installed gcloud knows, with every value filled in', { timeout: 300_000 }, () => {
    const lines = new Set<string>();
    for (const f of [...sample, ...synthetic]) for (const c of f.remediation.commands ?? []) lines.add(c);
    expect(lines.size).toBeGreaterThan(10);
    const paths = new Set<string>();
    for (const line of lines) {
      const cmd = parseCommand(line);
      paths.add(cmd.path.join(' '));
      const help = gcloudHelp(cmd.path);
      for (const [flag, value] of cmd.flags) {
        expect(help, `${line}: --${flag} is in 'gcloud ${cmd.path.join(' ')} --help'`).toMatch(new RegExp(`--${flag}(?![a-z-])`));
        // A placeholder (SERVICE, SA_EMAIL, PROJECT_ID) is a value left for the reader to fill in.
        if (typeof value === 'string') expect(value, `${line}: --${flag} has a real value`).not.toMatch(/^[A-Z][A-Z_]+$|^$/);
      }
      for (const positional of cmd.argv.slice(1 + cmd.path.length).filter((w) => !w.startsWith('--'))) {
        expect(positional, `${line}: positional is a real value`).not.toMatch(/^[A-Z][A-Z_]+$/);
      }
    }
    // The sample and synthetic organizations exercise the fixes of every kind of cause.
    expect([...paths].sort()).toEqual(
      expect.arrayContaining([
        'iam service-accounts create',
        'iam service-accounts enable',
        'logging read',
        'projects add-iam-policy-binding',
        'run services add-iam-policy-binding',
        'run services update',
        'scheduler jobs describe',
        'scheduler jobs update http',
      ]),
    );
  });

  it('fills the job, location, project, account and audience of the finding itself', () => {
    const noToken = sample.find((f) => f.ruleId === 'http-target-uses-oidc' && f.job.name.endsWith('/billing-no-token'))!;
    const update = parseCommand(noToken.remediation.commands!.at(-1)!);
    expect(update.path).toEqual(['scheduler', 'jobs', 'update', 'http']);
    expect(update.argv[5]).toBe('billing-no-token');
    expect(update.flags.get('location')).toBe(noToken.job.location);
    expect(update.flags.get('project')).toBe(noToken.job.project);
    expect(update.flags.get('oidc-service-account-email')).toBe('scheduler-invoker@acme-prod.iam.gserviceaccount.com');
    expect(update.flags.get('oidc-token-audience')).toBe('https://billing-abc123xyz-uc.a.run.app');
    expect(noToken.remediation.terraform).toContain('oidc_token');
  });

  it('fits the cause: a missing account is not told to grant a role to it; an unknown target to check the URI; ingress says what opening exposes', () => {
    const ghost = sample.filter((f) => f.message.includes('ghost@acme-prod'));
    expect(ghost.length).toBeGreaterThan(0);
    for (const f of ghost) {
      expect(f.remediation.commands!.join('\n')).not.toContain('--member=serviceAccount:ghost@');
      expect(f.remediation.summary).not.toMatch(/^Grant ghost/);
    }
    const unknown = sample.filter((f) => f.job.name.endsWith('/unknown-run-target') && f.status !== 'pass');
    expect(unknown.length).toBeGreaterThan(0);
    for (const f of unknown) expect(f.remediation.summary).toMatch(/check the job's URI/);
    const ingress = sample.find((f) => f.ruleId === 'ingress-admits-scheduler' && f.status === 'fail')!;
    expect(ingress.remediation.commands!.some((c) => c.includes('--ingress=all'))).toBe(true);
    expect(ingress.remediation.summary).toMatch(/exposes the service URL to the internet/);
  });
});

describe('shell quoting of inventory values', () => {
  it('keeps a hostile value one word: no command, expansion or comment escapes', () => {
    const hostile = ["a'; rm -rf ~; echo '", '$(id)', '`id`', 'x && y', 'é #c', "it's", 'line\nbreak'];
    for (const value of hostile) {
      const line = commandLine(['gcloud', 'scheduler', 'jobs', 'describe', value, `--project=${value}`]);
      const argv = parse(line);
      expect(argv).toEqual(['gcloud', 'scheduler', 'jobs', 'describe', value, `--project=${value}`]);
      expect(parse(shellQuote(value))).toEqual([value]);
    }
  });

  it('gcloud() writes the line commandLine() makes of the same words and flags, each value one word', () => {
    // (Words are command names and resource names; commandLine would take a word written as `--flag=value` apart.)
    const value = fc.oneof(fc.string().filter((s) => !s.startsWith('--')), fc.constantFrom("a'; rm -rf ~; echo '", '$(id)', '`id`', 'x && y', 'é #c', "it's", 'line\nbreak'));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 3 }), fc.array(fc.tuple(fc.constantFrom('project', 'location', 'member', 'oidc-token-audience'), fc.option(value, { nil: undefined })), { maxLength: 4 }), (words, pairs) => {
        const flags = Object.fromEntries(pairs);
        const given = Object.entries(flags).filter((e): e is [string, string] => e[1] !== undefined);
        const line = gcloud(words, flags);
        expect(line).toBe(commandLine(['gcloud', ...words, ...given.map(([k, v]) => `--${k}=${v}`)]));
        expect(parse(line)).toEqual(['gcloud', ...words, ...given.map(([k, v]) => `--${k}=${v}`)]);
      }),
      { numRuns: 2000 },
    );
  });
});
