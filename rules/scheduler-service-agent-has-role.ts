import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { tokenOf } from '../src/engine/predicates.js';
import { containerAssetName } from '../src/model/asset-types.js';
import { SCHEDULER_SERVICE_AGENT_ROLE } from '../src/model/predefined-roles.js';
import type { Inventory } from '../src/model/inventory.js';
import type { ScheduledJob } from '../src/model/types.js';
import { hcl } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M = 'ok' | 'missingRole' | 'projectUnknown' | 'policyMissing';

/** Memo owner for jobs whose record carries no ancestry (ancestries are interned, so jobs share them). */
const NO_ANCESTRY: readonly string[] = [];

export default defineRule<M>({
  meta: {
    id: 'scheduler-service-agent-has-role',
    title: 'Cloud Scheduler service agent holds roles/cloudscheduler.serviceAgent',
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description:
        "For a job that sends a token, the project's Cloud Scheduler service agent " +
        '(`service-PROJECT_NUMBER@gcp-sa-cloudscheduler.iam.gserviceaccount.com`) must hold `roles/cloudscheduler.serviceAgent` ' +
        "on the project (or an ancestor). Judged when the project's IAM policy is in the inventory.",
      rationale:
        'The agent mints the OIDC and OAuth tokens (the role carries iam.serviceAccounts.getOpenIdToken and getAccessToken). ' +
        'Revoking it "results in 403 responses to endpoints requiring authentication". Projects that enabled the API before ' +
        '2019-03-19 never got the binding automatically.',
      sources: [
        'https://cloud.google.com/scheduler/docs/http-target-auth',
        'https://cloud.google.com/iam/docs/service-agents (Cloud Scheduler Service Agent)',
        'iann0036/iam-dataset gcp/roles/cloudscheduler.serviceAgent.json',
      ],
      fix: {
        gcloud:
          'gcloud projects add-iam-policy-binding PROJECT_ID --member=serviceAccount:service-PROJECT_NUMBER@gcp-sa-cloudscheduler.iam.gserviceaccount.com --role=roles/cloudscheduler.serviceAgent',
        terraform:
          'resource "google_project_iam_member" "scheduler_agent" {\n  project = "PROJECT_ID"\n  role    = "roles/cloudscheduler.serviceAgent"\n  member  = "serviceAccount:service-PROJECT_NUMBER@gcp-sa-cloudscheduler.iam.gserviceaccount.com"\n}',
      },
      limitations: [
        'A grant of the token permissions to the agent through another role is not credited; the documented binding is what is checked.',
        "Without the project's IAM policy (or an ancestor's) in the inventory the verdict is unverifiable.",
      ],
    },
    messages: {
      ok: 'Service agent {{agent}} holds roles/cloudscheduler.serviceAgent on {{resource}}.',
      missingRole: 'Service agent {{agent}} does not hold roles/cloudscheduler.serviceAgent on {{project}} or its ancestors: token-authenticated calls get 403.',
      projectUnknown: 'Project {{project}} is not in the inventory; its Scheduler service agent cannot be checked.',
      policyMissing: 'The binding of {{agent}} cannot be confirmed: {{missing}} not in the inventory.',
    },
    remediation: { summary: "Grant roles/cloudscheduler.serviceAgent to the project's Cloud Scheduler service agent.", automatic: false },
  },
  evaluate(job, { inventory }) {
    if (!tokenOf(job)) return [];
    // The verdict depends only on the project and its ancestry: judge each project once per scan.
    return inventory.memo('scheduler-service-agent-has-role', job.ancestors ?? NO_ANCESTRY, job.projectId, () => judgeProject(job, inventory));
  },
  fix({ messageId, data, job }) {
    const project = job.projectId;
    const read = gcloud(['projects', 'get-iam-policy', project], {
      flatten: 'bindings[].members',
      filter: `bindings.role:${SCHEDULER_SERVICE_AGENT_ROLE}`,
      format: 'value(bindings.members)',
    });
    if (messageId !== 'missingRole') {
      return {
        summary: `Check that the Cloud Scheduler service agent of ${project} holds ${SCHEDULER_SERVICE_AGENT_ROLE}; the inventory does not show ${messageId === 'projectUnknown' ? 'the project' : 'every policy above it'}.`,
        commands: [read],
      };
    }
    const member = `serviceAccount:${String(data.agent)}`;
    return {
      summary: `Grant ${SCHEDULER_SERVICE_AGENT_ROLE} on ${project} back to its Cloud Scheduler service agent ${String(data.agent)}.`,
      commands: [gcloud(['projects', 'add-iam-policy-binding', project], { member, role: SCHEDULER_SERVICE_AGENT_ROLE })],
      terraform: hcl('google_project_iam_member', 'scheduler_service_agent', { project, role: SCHEDULER_SERVICE_AGENT_ROLE, member }),
    };
  },
});

function judgeProject(job: ScheduledJob, inventory: Inventory): RuleResult<M>[] {
  const number = inventory.projectNumber(job.projectId);
  if (!number) return [{ status: 'unverifiable', messageId: 'projectUnknown', data: { project: job.projectId }, severity: 'low' }];
  const agent = `service-${number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com`;
  const member = `serviceaccount:${agent}`;
  const ancestry = inventory.ancestorsOf({ project: job.projectId, ...(job.ancestors ? { ancestors: job.ancestors } : {}) });
  const chain = ancestry ?? [`projects/${number}`];
  const missing: string[] = [];
  for (const ancestor of chain) {
    const policy = inventory.policy(containerAssetName(ancestor));
    if (!policy) {
      missing.push(ancestor);
      continue;
    }
    const bound = policy.bindings.some(
      (b) => b.role === SCHEDULER_SERVICE_AGENT_ROLE && !b.condition && b.members.some((m) => m.toLowerCase() === member),
    );
    if (bound) return [{ status: 'pass', messageId: 'ok', data: { agent, resource: ancestor } }];
  }
  // Without the ancestry, a binding on a folder or the organization cannot be ruled out.
  if (!ancestry) missing.push(`the unknown folders and organization above projects/${number}`);
  if (missing.length > 0) {
    return [{ status: 'unverifiable', messageId: 'policyMissing', data: { agent, missing: `IAM policy of ${missing.join(', ')}` }, severity: 'low' }];
  }
  return [{ status: 'fail', messageId: 'missingRole', data: { agent, project: job.projectId }, evidence: { checkedPolicies: chain } }];
}
