import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FindingSchema, type Finding } from '../../src/findings/schema.js';
import { ResolvedRecordSchema, type ResolvedRecord } from '../../src/lifecycle/resolved-record.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export const FIXED_JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-no-token';
export const BROKEN_JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-ok';
export const EXCEPTED_JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-oauth';
export const DELETED_JOB = 'projects/acme-prod/locations/us-central1/jobs/billing-paused-no-token';

export interface SampleChange {
  /** billing-no-token gets the OIDC token billing-ok has: its http-target-uses-oidc finding goes away. */
  fix?: boolean;
  /** billing-ok loses its OIDC token: a new http-target-uses-oidc finding. */
  break?: boolean;
  /** Job names whose records are dropped. */
  remove?: string[];
  /** Append a line that is not JSON to the resources export (an unreadable record). */
  unreadableLine?: boolean;
  /** Drop the IAM policy of this resource (e.g. projects/111111111111): a coverage gap. */
  dropPolicy?: string;
}

/**
 * Writes the sample organization into `dir`, changed as asked, and returns the `--input` flags.
 * The change is made on the asset JSON itself, as the next export would show it.
 */
export function writeSample(dir: string, change: SampleChange = {}): string[] {
  const [resources, policies, serverless] = SAMPLE_FILES.map((f) => join(ROOT, f)) as [string, string, string];
  const jobData = (line: string): Record<string, unknown> | undefined => {
    const asset = JSON.parse(line) as { asset_type: string; resource?: { data?: Record<string, unknown> } };
    return asset.asset_type === 'cloudscheduler.googleapis.com/Job' ? asset.resource?.data : undefined;
  };
  const lines = readFileSync(resources, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const okToken = (jobData(lines.find((l) => jobData(l)?.name === BROKEN_JOB)!)!.httpTarget as { oidcToken: unknown }).oidcToken;
  const out: string[] = [];
  for (const line of lines) {
    const data = jobData(line);
    if (!data) {
      out.push(line);
      continue;
    }
    if (change.remove?.includes(String(data.name))) continue;
    const asset = JSON.parse(line) as { resource: { data: Record<string, unknown> } };
    const job = asset.resource.data;
    const http = job.httpTarget as Record<string, unknown>;
    if (change.fix && job.name === FIXED_JOB) {
      http.oidcToken = okToken;
      delete job.status;
      delete job.lastAttemptTime;
    }
    if (change.break && job.name === BROKEN_JOB) delete http.oidcToken;
    out.push(JSON.stringify(asset));
  }
  if (change.unreadableLine) out.push('{"name": "//cloudscheduler.googleapis.com/projects/acme-prod/locations/us-central1/jobs/trunc');
  writeFileSync(join(dir, 'resources.export.ndjson'), `${out.join('\n')}\n`);
  const policyLines = readFileSync(policies, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !change.dropPolicy || (JSON.parse(l) as { name: string }).name !== `//cloudresourcemanager.googleapis.com/${change.dropPolicy}`);
  writeFileSync(join(dir, 'iam-policies.export.ndjson'), `${policyLines.join('\n')}\n`);
  writeFileSync(join(dir, 'serverless.list.json'), readFileSync(serverless));
  return ['resources.export.ndjson', 'iam-policies.export.ndjson', 'serverless.list.json'].flatMap((f) => ['--input', join(dir, f)]);
}

/** An exceptions file covering billing-oauth's http-target-uses-oidc finding. */
export function writeExceptions(dir: string, expires = isoDayFromNow(30)): string {
  const path = join(dir, 'exceptions.yaml');
  writeFileSync(
    path,
    [
      'exceptions:',
      '  - id: billing-oauth-migration',
      '    rule: http-target-uses-oidc',
      '    match:',
      '      jobs: ["billing-oauth"]',
      '      projects: ["acme-prod"]',
      '    reason: the billing service moves to OIDC with the Q1 release',
      '    owner: billing-team@example.com',
      `    expires: ${expires}`,
      '    ticket: SEC-142',
      '',
    ].join('\n'),
  );
  return path;
}

export function isoDayFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, with only the environment given (plus PATH). */
export function cronwarden(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** JSONL output split into findings and resolved records, each validated by its own schema. */
export function parseJsonl(stdout: string): { findings: Finding[]; resolved: ResolvedRecord[] } {
  const findings: Finding[] = [];
  const resolved: ResolvedRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const value = JSON.parse(line) as { recordType?: string };
    if (value.recordType === 'finding.resolved') resolved.push(ResolvedRecordSchema.parse(value));
    else findings.push(FindingSchema.parse(value));
  }
  return { findings, resolved };
}

/** `job rule` of each, sorted: what a test compares. */
export const keysOf = (items: readonly { job: { name: string }; ruleId: string }[]): string[] =>
  items.map((i) => `${i.job.name.slice(i.job.name.lastIndexOf('/') + 1)} ${i.ruleId}`).sort();

export const byLifecycle = (findings: readonly Finding[], lifecycle: string): string[] =>
  keysOf(findings.filter((f) => f.lifecycle === lifecycle));
