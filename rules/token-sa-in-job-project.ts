import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { tokenOf } from '../src/engine/predicates.js';
import type { Inventory } from '../src/model/inventory.js';
import { pairKey } from '../src/model/memo-space.js';
import { serviceAccountProjectFromEmail } from '../src/model/service-account-project.js';
import { acceptedAudience, createDedicatedAccount, dedicatedAccountEmail, describeJob, setOauthToken, setOidcToken } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M = 'sameProject' | 'otherProject' | 'projectUnknown';

export default defineRule<M>({
  meta: {
    id: 'token-sa-in-job-project',
    title: "Token's service account belongs to the job's project",
    severity: 'medium',
    appliesTo: 'all',
    docs: {
      description:
        "The service account named in the job's OIDC or OAuth token must belong to the job's own project. The account's project is read " +
        'from its service-account asset, else from its email (`NAME@PROJECT_ID.iam.gserviceaccount.com`, `PROJECT_ID@appspot.gserviceaccount.com`, ' +
        '`PROJECT_NUMBER-compute@developer.gserviceaccount.com`), and compared by project number when the inventory knows both.',
      rationale:
        'Scheduler\'s OidcToken and OAuthToken reference says: "The service account must be within the same project as the job." An account ' +
        'of another project is outside what the API documents, and moving a job between projects without its account is a common way to break it.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (OidcToken and OAuthToken.service_account_email: "The service account must be within the same project as the job")',
        'https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#OidcToken',
        'https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#OAuthToken',
      ],
      fix: {
        gcloud:
          'gcloud iam service-accounts create scheduler-invoker --project=JOB_PROJECT\n' +
          'gcloud scheduler jobs update http JOB --location=LOCATION --oidc-service-account-email=scheduler-invoker@JOB_PROJECT.iam.gserviceaccount.com',
        terraform: 'resource "google_service_account" "scheduler" {\n  project    = "JOB_PROJECT"\n  account_id = "scheduler-invoker"\n}',
      },
      limitations: [
        'Google-managed accounts, and accounts whose project the inventory cannot tell (a default compute account of an unknown project number), are unverifiable (low).',
      ],
    },
    messages: {
      sameProject: 'Service account {{sa}} belongs to the job\'s project {{project}}.',
      otherProject: 'Service account {{sa}} belongs to project {{saProject}}, not to the job\'s project {{project}}; Scheduler documents that it must be in the same project.',
      projectUnknown: 'Whether service account {{sa}} belongs to the job\'s project {{project}} cannot be told: {{reason}}.',
    },
    remediation: { summary: "Use a service account of the job's own project in its token.", automatic: false },
  },
  // The verdict depends only on the account and the job's project (a target may be called from
  // several projects).
  memoKey: (job) => {
    const token = tokenOf(job);
    return token ? pairKey(job.projectId, token.token.serviceAccountEmail) : undefined;
  },
  evaluate(job, { inventory }) {
    const token = tokenOf(job);
    return token ? judge(inventory, token.token.serviceAccountEmail, job.projectId) : [];
  },
  fix({ messageId, data, job, target }) {
    const sa = String(data.sa ?? '');
    if (messageId !== 'otherProject') {
      return { summary: `Find which project ${sa} belongs to; Scheduler uses only an account of the job's own project.`, commands: [describeJob(job), gcloud(['iam', 'service-accounts', 'describe', sa])] };
    }
    const account = dedicatedAccountEmail(job.projectId);
    const oidc = job.http?.oidcToken !== undefined;
    return {
      summary: `Create an account in the job's project ${job.projectId} (${account}), give it the role the call needs, and point the job's token at it instead of ${sa}.`,
      commands: [createDedicatedAccount(job.projectId), oidc ? setOidcToken(job, account, job.http?.oidcToken?.audience ?? acceptedAudience(target)) : setOauthToken(job, account)],
    };
  },
});

function judge(inventory: Inventory, sa: string, project: string): RuleResult<M>[] {
  const data = { sa, project };
  const assetProject = inventory.serviceAccount(sa)?.projectId;
  const ref = assetProject !== undefined ? { projectId: assetProject } : serviceAccountProjectFromEmail(sa);
  if (!ref) {
    return [{ status: 'unverifiable', messageId: 'projectUnknown', data: { ...data, reason: 'it is not a user-managed or default account, and the inventory does not list it' }, severity: 'low', cause: sa }];
  }
  const saProject = 'projectId' in ref ? ref.projectId : ref.projectNumber;
  if (saProject === project) return [{ status: 'pass', messageId: 'sameProject', data }];
  const saNumber = inventory.projectNumber(saProject);
  const jobNumber = inventory.projectNumber(project);
  if (saNumber && jobNumber) {
    return saNumber === jobNumber
      ? [{ status: 'pass', messageId: 'sameProject', data }]
      : [{ status: 'fail', messageId: 'otherProject', data: { ...data, saProject: inventory.projectId(saNumber) ?? saProject }, cause: sa, evidence: { serviceAccountProject: `projects/${saNumber}`, jobProject: `projects/${jobNumber}` } }];
  }
  // Both named by id: ids are unique, so different ids are different projects.
  if ('projectId' in ref && !/^\d+$/.test(project)) {
    return [{ status: 'fail', messageId: 'otherProject', data: { ...data, saProject }, cause: sa }];
  }
  const missing = !saNumber ? `project ${saProject} of the account` : `project ${project} of the job`;
  return [{ status: 'unverifiable', messageId: 'projectUnknown', data: { ...data, reason: `${missing} is not in the inventory` }, severity: 'low', cause: sa }];
}
