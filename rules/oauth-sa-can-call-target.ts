import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import type { Inventory } from '../src/model/inventory.js';
import type { AccessVerdict } from '../src/model/iam.js';
import { pairKey } from '../src/model/memo-space.js';
import type { KnownPermission } from '../src/model/predefined-roles.js';
import type { ApiCall, ScheduledJob } from '../src/model/types.js';
import { describeJob } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M = 'granted' | 'denied' | 'unverifiable' | 'targetUnknown';

export default defineRule<M>({
  meta: {
    id: 'oauth-sa-can-call-target',
    title: "OAuth token's service account may run the Cloud Run job or workflow it calls",
    severity: 'high',
    appliesTo: ['google-api'],
    docs: {
      description:
        "A job that runs a Cloud Run job (`…/jobs/JOB:run`, v1 or v2 Admin API) or starts a workflow (`workflowexecutions.googleapis.com/v1/…/workflows/W/executions`) " +
        "with an OAuth token: the token's service account must hold `run.jobs.run` on the Cloud Run job (and `run.jobs.runWithOverrides` " +
        'when the request body carries overrides), or `workflows.executions.create` on the workflow, through effective IAM: the ' +
        "resource's own policy and its project's, folders' and organization's, with predefined roles from a dated table and custom roles from the inventory.",
      rationale:
        'Scheduler is the documented way to run Cloud Run jobs and workflows on a schedule. The right token type still gets 403 when the ' +
        'account lacks the permission, and the job fails silently every night.',
      sources: [
        'https://cloud.google.com/run/docs/execute/jobs-on-schedule',
        'https://cloud.google.com/run/docs/reference/rest/v1/namespaces.jobs/run (run.jobs.run on the job; run.jobs.runWithOverrides for overrides in the body)',
        'https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run',
        'https://cloud.google.com/workflows/docs/schedule-workflow (Scheduler with an OAuth token; roles/workflows.invoker)',
        'https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create (workflows.executions.create)',
        'iann0036/iam-dataset gcp/roles (role files read 2026-12): predefined roles holding run.jobs.run, run.jobs.runWithOverrides, workflows.executions.create',
      ],
      fix: {
        gcloud:
          'gcloud run jobs add-iam-policy-binding JOB --region=REGION --member=serviceAccount:SA_EMAIL --role=roles/run.invoker\n' +
          '# with overrides in the body: --role=roles/run.jobsExecutorWithOverrides\n' +
          '# workflows: gcloud projects add-iam-policy-binding PROJECT_ID --member=serviceAccount:SA_EMAIL --role=roles/workflows.invoker',
        terraform:
          'resource "google_cloud_run_v2_job_iam_member" "scheduler" {\n  name     = "JOB"\n  location = "REGION"\n  role     = "roles/run.invoker"\n  member   = "serviceAccount:SA_EMAIL"\n}',
      },
      limitations: [
        'Group and domain membership, IAM conditions and IAM deny policies are not in Cloud Asset Inventory: grants that depend on them are unverifiable.',
        'A Cloud Run job or workflow not in the inventory is unverifiable (low).',
        'A request body Cloud Asset Inventory leaves out cannot show overrides: only run.jobs.run is checked then; an unreadable body makes a missing run.jobs.runWithOverrides unverifiable.',
        'Service-agent roles are listed only as far as the dataset excerpt read for this table shows them.',
      ],
    },
    messages: {
      granted: '{{sa}} holds {{permission}} on {{target}} through {{via}}.',
      denied: '{{sa}} does not hold {{permission}} on {{target}} in any policy in the inventory ({{checked}}): calls get 403.',
      unverifiable: 'Whether {{sa}} holds {{permission}} on {{target}} cannot be confirmed: {{reasons}}.',
      targetUnknown: 'The {{what}} {{target}} is not in the inventory; who may run it is unknown.',
    },
    remediation: { summary: "Grant the token's service account roles/run.invoker on the Cloud Run job (roles/run.jobsExecutorWithOverrides with overrides), or roles/workflows.invoker.", automatic: false },
  },
  // The verdict depends on the target, the token's account and what the body asks for (the method,
  // then after the last `|` the overrides, which hold none).
  memoKey: (job) => (job.http?.oauthToken ? pairKey(job.http.oauthToken.serviceAccountEmail, `${job.http.httpMethod ?? ''}|${job.http.runOverrides ?? ''}`) : undefined),
  evaluate(job, { inventory, target }) {
    const sa = job.http?.oauthToken?.serviceAccountEmail;
    if (!sa || target.kind !== 'google-api' || !target.call) return [];
    // Both calls are POSTs (Scheduler's unspecified method is POST); another method is another call.
    const method = job.http!.httpMethod ?? 'POST';
    if (method !== 'POST' && method !== 'HTTP_METHOD_UNSPECIFIED') return [];
    return judge(inventory, target.call, sa, job);
  },
  fix({ messageId, data, job }) {
    const sa = String(data.sa ?? job.http?.oauthToken?.serviceAccountEmail ?? '');
    const target = String(data.target ?? '');
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\/(jobs|workflows)\/([^/]+)$/.exec(target);
    if (messageId === 'targetUnknown' || !m) {
      return { summary: `The job calls ${target}, which is not in the inventory: check the job's URI (a typo, a deleted job or workflow, a project outside the scan), then scan again.`, commands: [describeJob(job)] };
    }
    const [, project, region, kind, name] = m as unknown as [string, string, string, string, string];
    const member = `serviceAccount:${sa}`;
    if (kind === 'jobs') {
      const role = data.permission === 'run.jobs.runWithOverrides' ? 'roles/run.jobsExecutorWithOverrides' : 'roles/run.invoker';
      return {
        summary: `Grant ${sa} ${role} on the Cloud Run job ${name} (the job only; no project-wide grant).`,
        commands: [gcloud(['run', 'jobs', 'add-iam-policy-binding', name], { region, project, member, role })],
        terraform: `resource "google_cloud_run_v2_job_iam_member" "scheduler" {\n  project  = "${project}"\n  location = "${region}"\n  name     = "${name}"\n  role     = "${role}"\n  member   = "${member}"\n}`,
      };
    }
    // gcloud grants Workflows roles on the project only; the API also takes a policy per workflow.
    return {
      summary: `Grant ${sa} roles/workflows.invoker so that it may start executions of ${name}; gcloud grants it on project ${project}.`,
      commands: [gcloud(['projects', 'add-iam-policy-binding', project], { member, role: 'roles/workflows.invoker', condition: 'None' })],
    };
  },
});

function judge(inventory: Inventory, call: ApiCall, sa: string, job: ScheduledJob): RuleResult<M>[] {
  const label = `projects/${call.project}/locations/${call.location ?? '-'}/${call.kind === 'run-job' ? 'jobs' : 'workflows'}/${call.id}`;
  const resource = call.resource;
  if (!resource) {
    return [{ status: 'unverifiable', messageId: 'targetUnknown', data: { what: call.kind === 'run-job' ? 'Cloud Run job' : 'workflow', target: label }, severity: 'low', cause: sa }];
  }
  const ask = (permission: KnownPermission): AccessVerdict =>
    inventory.access({ member: `serviceAccount:${sa}`, permission, resource: resource.source.assetName, ancestors: inventory.ancestorsOf(resource) });
  if (call.kind === 'workflow') return [fromVerdict(ask('workflows.executions.create'), sa, 'workflows.executions.create', resource.name)];
  const run = fromVerdict(ask('run.jobs.run'), sa, 'run.jobs.run', resource.name);
  const overrides = job.http!.runOverrides;
  if (!overrides || run.status !== 'pass') return [run];
  const withOverrides = fromVerdict(ask('run.jobs.runWithOverrides'), sa, 'run.jobs.runWithOverrides', resource.name);
  if (overrides === 'unreadable' && withOverrides.status === 'fail') {
    // The body could not be read: overrides, and so the need for the permission, are unconfirmed.
    return [{ ...withOverrides, status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', data: { ...withOverrides.data, reasons: 'the request body could not be read to tell whether it carries overrides' } }];
  }
  return [withOverrides];
}

function fromVerdict(verdict: AccessVerdict, sa: string, permission: string, target: string): RuleResult<M> {
  const data = { sa, permission, target };
  switch (verdict.result) {
    case 'granted': {
      const g = verdict.grants[0]!;
      return { status: 'pass', messageId: 'granted', data: { ...data, via: `${g.role} for ${g.member} on ${g.resource}` }, evidence: { grants: verdict.grants }, cause: `${sa}|${permission}` };
    }
    case 'denied':
      return { status: 'fail', messageId: 'denied', data: { ...data, checked: verdict.checkedPolicies.join(', ') }, evidence: { checkedPolicies: verdict.checkedPolicies }, cause: `${sa}|${permission}` };
    case 'unverifiable':
      return {
        status: 'unverifiable',
        messageId: 'unverifiable',
        severity: 'medium',
        data: { ...data, reasons: verdict.reasons.join('; ') },
        evidence: { reasons: verdict.reasons, possibleGrants: verdict.possibleGrants, checkedPolicies: verdict.checkedPolicies },
        cause: `${sa}|${permission}`,
      };
  }
}
