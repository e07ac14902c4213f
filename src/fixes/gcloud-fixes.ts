import type { CloudFunction, RunService, ScheduledJob, Target } from '../model/types.js';
import type { Fix } from './fix.js';
import { gcloud } from './shell.js';

/**
 * Building blocks of per-finding fixes: gcloud commands and Terraform with the job's own values.
 * Flags are the ones `gcloud <command> --help` lists (test/fixes checks each against the
 * installed gcloud).
 */

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** The account id proposed where a job needs an account and has none (or a wrong one). */
export const DEDICATED_ACCOUNT_ID = 'scheduler-invoker';

export function dedicatedAccountEmail(project: string): string {
  return `${DEDICATED_ACCOUNT_ID}@${project}.iam.gserviceaccount.com`;
}

/** The command for each project, built once: every failing job of a project proposes it. */
const createCommands = new Map<string, string>();

export function createDedicatedAccount(project: string): string {
  let command = createCommands.get(project);
  if (command === undefined) {
    if (createCommands.size >= 4096) createCommands.clear();
    command = gcloud(['iam', 'service-accounts', 'create', DEDICATED_ACCOUNT_ID], { project, 'display-name': 'Cloud Scheduler invoker' });
    createCommands.set(project, command);
  }
  return command;
}

function jobScope(job: ScheduledJob): { location: string; project: string } {
  return { location: job.location, project: job.projectId };
}

/** Sets an OIDC token (account and audience) on the job; replaces an OAuth token. */
export function setOidcToken(job: ScheduledJob, account: string, audience: string | undefined): string {
  return gcloud(['scheduler', 'jobs', 'update', 'http', job.jobId], {
    ...jobScope(job),
    'oidc-service-account-email': account,
    'oidc-token-audience': audience,
  });
}

/** Sets an OAuth token (cloud-platform scope) on the job; replaces an OIDC token. */
export function setOauthToken(job: ScheduledJob, account: string): string {
  return gcloud(['scheduler', 'jobs', 'update', 'http', job.jobId], {
    ...jobScope(job),
    'oauth-service-account-email': account,
    'oauth-token-scope': CLOUD_PLATFORM_SCOPE,
  });
}

export function describeJob(job: ScheduledJob): string {
  return gcloud(['scheduler', 'jobs', 'describe', job.jobId], jobScope(job));
}

/** A Cloud Run or Cloud Functions URL the inventory has no service or function for. */
export function targetNotInInventoryFix(target: string, job: ScheduledJob): Fix {
  return {
    summary: `The job calls ${target}, which is not in the inventory: check the job's URI (a typo, a deleted service, or a project outside the scan), then scan again.`,
    commands: [describeJob(job), gcloud(['run', 'services', 'list'], { project: job.projectId })],
  };
}

/** The audience a target documents as accepted: a Run service's URL, a 1st gen function's full URL. */
export function acceptedAudience(target: Target): string | undefined {
  switch (target.kind) {
    case 'cloud-run':
      return target.service.urls[0] ?? origin(target.url);
    case 'function-gen1':
      return target.fn.url ?? target.url;
    case 'function-gen2':
      return target.service?.urls[0] ?? target.fn.runUri ?? undefined;
    default:
      return undefined;
  }
}

function origin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** The Run service behind a target (Cloud Run, or a 2nd gen function's). */
export function runServiceOf(target: Target): { name: string; region: string; project: string } | undefined {
  if (target.kind === 'cloud-run') return serviceRef(target.service);
  if (target.kind === 'function-gen2') {
    if (target.service) return serviceRef(target.service);
    if (target.fn.runServiceName) return { name: target.fn.runServiceName.split('/').pop()!, region: target.fn.region, project: target.fn.project };
  }
  return undefined;
}

function serviceRef(s: RunService): { name: string; region: string; project: string } {
  return { name: s.serviceName, region: s.region, project: s.project };
}

function functionRef(fn: CloudFunction): { name: string; region: string; project: string } {
  return { name: fn.functionName, region: fn.region, project: fn.project };
}

export interface Grant {
  readonly command: string;
  readonly terraform: string;
  /** What the grant is, in words: "roles/run.invoker on Cloud Run service S". */
  readonly what: string;
}

/**
 * Grants built so far, by target and member: every job that calls a target as the same account
 * needs the same grant, and a scan writes one finding per such job.
 */
const grants = new WeakMap<Target, Map<string, Grant | undefined>>();

/** The invoker grant a target needs for `member` (`serviceAccount:EMAIL`); undefined when the target is not known. */
export function invokerGrant(target: Target, member: string): Grant | undefined {
  let byMember = grants.get(target);
  if (!byMember) grants.set(target, (byMember = new Map()));
  if (byMember.has(member)) return byMember.get(member);
  const grant = buildInvokerGrant(target, member);
  byMember.set(member, grant);
  return grant;
}

function buildInvokerGrant(target: Target, member: string): Grant | undefined {
  if (target.kind === 'function-gen1') {
    const fn = functionRef(target.fn);
    return {
      command: gcloud(['functions', 'add-iam-policy-binding', fn.name], { region: fn.region, project: fn.project, member, role: 'roles/cloudfunctions.invoker' }),
      terraform: hcl('google_cloudfunctions_function_iam_member', 'scheduler_invoker', {
        project: fn.project,
        region: fn.region,
        cloud_function: fn.name,
        role: 'roles/cloudfunctions.invoker',
        member,
      }),
      what: `roles/cloudfunctions.invoker on 1st gen function ${fn.name}`,
    };
  }
  const service = runServiceOf(target);
  if (service) {
    return {
      command: gcloud(['run', 'services', 'add-iam-policy-binding', service.name], {
        region: service.region,
        project: service.project,
        member,
        role: 'roles/run.invoker',
      }),
      terraform: hcl('google_cloud_run_v2_service_iam_member', 'scheduler_invoker', {
        project: service.project,
        location: service.region,
        name: service.name,
        role: 'roles/run.invoker',
        member,
      }),
      what: `roles/run.invoker on Cloud Run service ${service.name}`,
    };
  }
  if (target.kind === 'function-gen2') {
    // The Run service's name is not in the inventory: gcloud finds it from the function.
    const fn = functionRef(target.fn);
    return {
      command: gcloud(['functions', 'add-invoker-policy-binding', fn.name], { region: fn.region, project: fn.project, member }),
      terraform: hcl('google_cloudfunctions2_function_iam_member', 'scheduler_invoker', {
        project: fn.project,
        location: fn.region,
        cloud_function: fn.name,
        role: 'roles/cloudfunctions.invoker',
        member,
      }) + '\n# 2nd gen: calls also need roles/run.invoker on the function\'s Run service (google_cloud_run_v2_service_iam_member).',
      what: `roles/run.invoker on the Run service of 2nd gen function ${fn.name}`,
    };
  }
  return undefined;
}

/** A Terraform resource block; string values are written as HCL strings. */
export function hcl(type: string, name: string, attributes: Record<string, string>): string {
  const width = Math.max(0, ...Object.keys(attributes).map((k) => k.length));
  const body = Object.entries(attributes)
    .map(([k, v]) => `  ${k.padEnd(width)} = ${hclString(v)}`)
    .join('\n');
  return `resource "${type}" "${name}" {\n${body}\n}`;
}

const HCL_SPECIAL = /[\\"\n\r]|[$%]\{/;

/** An HCL string literal: quotes, backslashes and template openers (`${`, `%{`) escaped. */
export function hclString(value: string): string {
  if (!HCL_SPECIAL.test(value)) return `"${value}"`;
  const escaped = value
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('${', '$${')
    .replaceAll('%{', '%%{');
  return `"${escaped}"`;
}

/** The job's HTTP target with an OIDC token, as Terraform (google_cloud_scheduler_job). */
export function jobOidcTerraform(job: ScheduledJob, account: string, audience: string | undefined): string {
  return jobTokenTerraform(job, 'oidc_token', [
    `      service_account_email = ${hclString(account)}`,
    ...(audience ? [`      audience              = ${hclString(audience)}`] : []),
  ]);
}

/** The job's HTTP target with an OAuth token (cloud-platform scope), as Terraform. */
export function jobOauthTerraform(job: ScheduledJob, account: string): string {
  return jobTokenTerraform(job, 'oauth_token', [
    `      service_account_email = ${hclString(account)}`,
    `      scope                 = ${hclString(CLOUD_PLATFORM_SCOPE)}`,
  ]);
}

function jobTokenTerraform(job: ScheduledJob, block: 'oidc_token' | 'oauth_token', tokenLines: string[]): string {
  return [
    `resource "google_cloud_scheduler_job" "${terraformName(job.jobId)}" {`,
    `  project = ${hclString(job.projectId)}`,
    `  region  = ${hclString(job.location)}`,
    `  name    = ${hclString(job.jobId)}`,
    '  # ... schedule and the rest of the job as they are',
    '  http_target {',
    `    uri = ${hclString(job.http?.uri ?? '')}`,
    `    ${block} {`,
    ...tokenLines,
    '    }',
    '  }',
    '}',
  ].join('\n');
}

/** A Terraform resource name from a job id: letters, digits, underscores and dashes, not starting with a digit. */
function terraformName(id: string): string {
  const name = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(name) ? name : `job_${name}`;
}
