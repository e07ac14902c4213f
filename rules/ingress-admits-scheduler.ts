import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import type { Inventory } from '../src/model/inventory.js';
import type { CloudFunction, RunService, ScheduledJob, Target } from '../src/model/types.js';
import { describeJob, runServiceOf, targetNotInInventoryFix } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M =
  | 'admitsAll'
  | 'sameProject'
  | 'otherOrganization'
  | 'perimeterUnknown'
  | 'projectUnknown'
  | 'viaFunctionsUrl'
  | 'gen1Internal'
  | 'unknownIngress'
  | 'targetUnknown';

type Ingress = 'all' | 'internal' | 'internal-and-cloud-load-balancing';

/** Cloud Run v1 annotation, Run v2 enum and Functions `ingressSettings` values, by what they admit. */
const INGRESS: Record<string, Ingress> = {
  all: 'all',
  INGRESS_TRAFFIC_ALL: 'all',
  ALLOW_ALL: 'all',
  // Unspecified is the default, which admits all traffic.
  INGRESS_TRAFFIC_UNSPECIFIED: 'all',
  INGRESS_SETTINGS_UNSPECIFIED: 'all',
  internal: 'internal',
  INGRESS_TRAFFIC_INTERNAL_ONLY: 'internal',
  ALLOW_INTERNAL_ONLY: 'internal',
  'internal-and-cloud-load-balancing': 'internal-and-cloud-load-balancing',
  INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER: 'internal-and-cloud-load-balancing',
  ALLOW_INTERNAL_AND_GCLB: 'internal-and-cloud-load-balancing',
};

export default defineRule<M>({
  meta: {
    id: 'ingress-admits-scheduler',
    title: "Target's ingress setting admits the job's requests",
    severity: 'high',
    appliesTo: ['cloud-run', 'function-gen1', 'function-gen2', 'unknown-run', 'unknown-function'],
    docs: {
      description:
        "A Cloud Run service (or 2nd gen function) whose ingress is internal, or internal and Cloud Load Balancing, admits a " +
        'Scheduler job only when the job is in the same project or the same VPC Service Controls perimeter, and calls the default ' +
        'run.app URL. A job in another organization can never share a perimeter with the target: it fails. A job in another ' +
        'project of the same organization is unverifiable, because perimeters are not in the inventory.',
      rationale:
        "A request the ingress setting refuses never reaches the service's IAM check, so a correct token and invoker binding do " +
        'not help. Moving a job to a central project, or a target to another organization, breaks it silently.',
      sources: [
        'https://cloud.google.com/run/docs/securing/ingress ("Cloud Scheduler … in the same project or VPC Service Controls perimeter … using the default run.app URL and not a custom domain")',
        'https://cloud.google.com/access-context-manager/docs/reference/rest/v1/accessPolicies (an access policy, which holds the perimeters, has one organization as parent and restricts resources within it)',
        'https://cloud.google.com/functions/docs/networking/network-settings (ingressSettings: ALLOW_ALL, ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB)',
      ],
      fix: {
        gcloud:
          '# Run the job in the target\'s project (recreate it there), or admit all traffic and rely on IAM:\n' +
          'gcloud run services update SERVICE --region=REGION --ingress=all',
        terraform: 'resource "google_cloud_run_v2_service" "svc" {\n  # ...\n  ingress = "INGRESS_TRAFFIC_ALL"\n}',
      },
      limitations: [
        'VPC Service Controls perimeters are not in the inventory: a job in another project of the same organization is unverifiable (medium).',
        'Whether Scheduler reaches a 1st gen function with internal ingress, or a 2nd gen function called on its cloudfunctions.net URL, is not documented: unverifiable (low).',
        'A Cloud Run or Cloud Functions URL whose service or function is not in the inventory: its ingress is unknown, unverifiable (low).',
      ],
    },
    messages: {
      admitsAll: 'Ingress of {{target}} admits all traffic.',
      sameProject: "Ingress of {{target}} is {{ingress}}; the job is in the same project, so Scheduler's requests count as internal.",
      otherOrganization:
        "Ingress of {{target}} is {{ingress}}, and the job is in {{jobProject}} of another organization ({{jobOrganization}}, target in " +
        "{{targetOrganization}}): no VPC Service Controls perimeter holds both, so Scheduler's requests are refused.",
      perimeterUnknown:
        "Ingress of {{target}} is {{ingress}}, and the job is in another project ({{jobProject}}): Scheduler's requests are admitted only " +
        'if both projects are in one VPC Service Controls perimeter, which the inventory does not show.',
      projectUnknown:
        "Ingress of {{target}} is {{ingress}}; whether the job's project {{jobProject}} is the target's, or in its organization, cannot be told from the inventory.",
      viaFunctionsUrl:
        "Ingress of {{target}} is {{ingress}}, and the job calls the function's cloudfunctions.net URL; whether Scheduler's requests count as internal there is not documented.",
      gen1Internal:
        "Ingress of 1st gen function {{target}} is {{ingress}}; whether Scheduler's requests reach an internal-only 1st gen function is not documented.",
      unknownIngress: 'Ingress of {{target}} is "{{ingress}}", a value the scanner does not know.',
      targetUnknown: 'The target {{target}} is not in the inventory; its ingress setting is unknown.',
    },
    remediation: { summary: "Run the job in the target's project (or its VPC-SC perimeter), or set the target's ingress to all.", automatic: false },
  },
  // The verdict depends only on the target and the job's project (whose ancestry is the job's).
  memoKey: (job) => job.projectId,
  evaluate(job, { inventory, target }) {
    return judge(inventory, target, job);
  },
  fix({ messageId, data, job, target }) {
    if (messageId === 'targetUnknown') return targetNotInInventoryFix(String(data.target), job);
    const service = runServiceOf(target);
    const exposure =
      'Setting ingress to all exposes the service URL to the internet: every request then reaches it, and only IAM ' +
      '(roles/run.invoker) and the service itself stand between it and the caller; do that only if the service requires authentication.';
    const read = service
      ? gcloud(['run', 'services', 'describe', service.name], { region: service.region, project: service.project, format: 'value(metadata.annotations."run.googleapis.com/ingress")' })
      : describeJob(job);
    switch (messageId) {
      case 'otherOrganization':
        return {
          summary:
            `Recreate the job in the target's project (${service?.project ?? 'the target project'}), where Scheduler's requests count as internal. ` + exposure,
          commands: [describeJob(job), ...(service ? [gcloud(['run', 'services', 'update', service.name], { region: service.region, project: service.project, ingress: 'all' })] : [])],
        };
      case 'perimeterUnknown':
        return {
          summary: `Confirm that projects/${job.projectId} and the target's project are in one VPC Service Controls perimeter; otherwise recreate the job in the target's project.`,
          commands: [read, gcloud(['access-context-manager', 'perimeters', 'list'], { format: 'value(name,status.resources)' })],
        };
      default:
        return {
          summary: "Check the target's ingress setting and where the job runs: Scheduler counts as internal only from the target's own project or perimeter, and on the run.app URL.",
          commands: [read],
        };
    }
  },
});

function judge(inventory: Inventory, target: Target, job: ScheduledJob): RuleResult<M>[] {
  let resource: RunService | CloudFunction;
  let raw: string | undefined;
  if (target.kind === 'cloud-run') {
    resource = target.service;
    raw = target.service.ingress;
  } else if (target.kind === 'function-gen2') {
    // A 2nd gen function's ingress is its Run service's; the function's own setting stands in when the service is not listed.
    resource = target.service ?? target.fn;
    raw = target.service ? target.service.ingress : target.fn.ingress;
  } else if (target.kind === 'function-gen1') {
    resource = target.fn;
    raw = target.fn.ingress;
  } else if (target.kind === 'unknown-run' || target.kind === 'unknown-function') {
    // Not silence: an ingress that refuses the job is as likely as one that admits it.
    return [{ status: 'unverifiable', messageId: 'targetUnknown', data: { target: target.url }, severity: 'low' }];
  } else {
    return [];
  }
  const name = resource.name;
  const ingress = raw === undefined ? 'all' : INGRESS[raw];
  if (ingress === undefined) return [{ status: 'unverifiable', messageId: 'unknownIngress', data: { target: name, ingress: raw! }, severity: 'low' }];
  if (ingress === 'all') return [{ status: 'pass', messageId: 'admitsAll', data: { target: name } }];
  const data = { target: name, ingress, jobProject: `projects/${job.projectId}` };
  if (target.kind === 'function-gen1') return [{ status: 'unverifiable', messageId: 'gen1Internal', data, severity: 'low' }];
  if (target.kind === 'function-gen2' && target.via === 'cloudfunctions-url') {
    return [{ status: 'unverifiable', messageId: 'viaFunctionsUrl', data, severity: 'low' }];
  }
  const jobNumber = inventory.projectNumber(job.projectId);
  const targetNumber = inventory.projectNumber(resource.project);
  if (jobNumber && targetNumber && jobNumber === targetNumber) return [{ status: 'pass', messageId: 'sameProject', data }];
  if (!jobNumber && !targetNumber && job.projectId === resource.project) return [{ status: 'pass', messageId: 'sameProject', data }];
  if (!jobNumber || !targetNumber) return [{ status: 'unverifiable', messageId: 'projectUnknown', data, severity: 'low' }];
  const jobOrganization = organizationOf(inventory.ancestorsOf({ project: job.projectId, ...(job.ancestors ? { ancestors: job.ancestors } : {}) }));
  const targetOrganization = organizationOf(inventory.ancestorsOf(resource));
  if (!jobOrganization || !targetOrganization) return [{ status: 'unverifiable', messageId: 'projectUnknown', data, severity: 'low' }];
  const evidence = { ingress: raw, jobProject: `projects/${jobNumber}`, targetProject: `projects/${targetNumber}`, jobOrganization, targetOrganization };
  if (jobOrganization !== targetOrganization) {
    return [{ status: 'fail', messageId: 'otherOrganization', data: { ...data, jobOrganization, targetOrganization }, evidence, cause: jobOrganization }];
  }
  return [{ status: 'unverifiable', messageId: 'perimeterUnknown', data, evidence, severity: 'medium', cause: `projects/${jobNumber}` }];
}

function organizationOf(ancestors: readonly string[] | undefined): string | undefined {
  return ancestors?.find((a) => a.startsWith('organizations/'));
}
