import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { serviceAccountProject, tokenOf } from '../src/engine/predicates.js';
import type { Inventory } from '../src/model/inventory.js';
import { createDedicatedAccount, dedicatedAccountEmail, invokerGrant, setOauthToken, setOidcToken } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M = 'ok' | 'disabled' | 'missing' | 'notCovered' | 'unreadable';

export default defineRule<M>({
  meta: {
    id: 'token-sa-exists-and-enabled',
    title: "Token's service account exists and is enabled",
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description:
        "The service account named in the job's OIDC or OAuth token must exist and be enabled. Judged when the inventory lists the " +
        "service accounts of the account's project; otherwise unverifiable.",
      rationale:
        'Scheduler cannot mint a token for a deleted or disabled account: every attempt fails. Deleting an account and re-creating it ' +
        'with the same email does not restore its old bindings either.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (OidcToken/OAuthToken.service_account_email)',
        'https://cloud.google.com/iam/docs/service-accounts-disable-enable',
        'https://cloud.google.com/iam/docs/service-accounts-delete-undelete',
      ],
      fix: {
        gcloud: 'gcloud iam service-accounts enable SA_EMAIL\n# or point the job at a live account:\ngcloud scheduler jobs update http JOB --location=LOCATION --oidc-service-account-email=SA_EMAIL',
        terraform: 'resource "google_service_account" "scheduler" {\n  account_id = "scheduler-invoker"\n  disabled   = false\n}',
      },
      limitations: [
        'Google-managed accounts and accounts of projects whose service accounts are not in the inventory are unverifiable.',
        'An account missing while a service-account record of its project could not be read is unverifiable, not missing.',
      ],
    },
    messages: {
      ok: 'Service account {{sa}} exists and is enabled.',
      disabled: 'Service account {{sa}} is disabled: Scheduler cannot mint its token.',
      missing: 'Service account {{sa}} does not exist in project {{project}}: Scheduler cannot mint its token.',
      notCovered: 'Service account {{sa}} is not in the inventory, which does not list the service accounts of {{project}}.',
      unreadable: 'Whether service account {{sa}} exists cannot be confirmed: {{reason}}.',
    },
    remediation: { summary: 'Enable the service account, or point the job at an existing, enabled one.', automatic: false },
  },
  // The verdict depends only on the token's account (and so, trivially, on the target and it).
  memoKey: (job) => tokenOf(job)?.token.serviceAccountEmail,
  evaluate(job, { inventory }) {
    const token = tokenOf(job);
    return token ? judgeAccount(inventory, token.token.serviceAccountEmail) : [];
  },
  fix({ messageId, data, job, target }) {
    const sa = String(data.sa);
    const token = tokenOf(job);
    const project = sa.endsWith('.iam.gserviceaccount.com') ? sa.slice(sa.indexOf('@') + 1, -'.iam.gserviceaccount.com'.length) : job.projectId;
    switch (messageId) {
      case 'disabled':
        return {
          summary: `Enable ${sa} (disabled accounts cannot mint tokens), or point the job at another enabled account.`,
          commands: [gcloud(['iam', 'service-accounts', 'enable', sa], { project })],
        };
      case 'missing': {
        // A missing account cannot be granted anything: the job needs another account.
        const account = dedicatedAccountEmail(job.projectId);
        const grant = token?.type === 'oidc' ? invokerGrant(target, `serviceAccount:${account}`) : undefined;
        return {
          summary:
            `${sa} does not exist: point the job at an existing account. Proposed: a new account ${account}` +
            (grant ? ` with ${grant.what}.` : '.') +
            ' (An account deleted less than 30 days ago can be restored with `gcloud iam service-accounts undelete` and its unique id, from the audit logs.)',
          commands: [
            createDedicatedAccount(job.projectId),
            ...(grant ? [grant.command] : []),
            token?.type === 'oauth' ? setOauthToken(job, account) : setOidcToken(job, account, token?.type === 'oidc' ? token.token.audience : undefined),
          ],
        };
      }
      case 'notCovered':
        return {
          summary: `The inventory does not list the service accounts of ${String(data.project)}: check that ${sa} exists and is enabled.`,
          commands: [gcloud(['iam', 'service-accounts', 'describe', sa], { project, format: 'value(email,disabled)' })],
        };
      default:
        return undefined;
    }
  },
});

function judgeAccount(inventory: Inventory, email: string): RuleResult<M>[] {
  const sa = inventory.serviceAccount(email);
  if (sa) {
    return sa.disabled
      ? [{ status: 'fail', messageId: 'disabled', data: { sa: email }, cause: email, evidence: { serviceAccount: sa.source.assetName } }]
      : [{ status: 'pass', messageId: 'ok', data: { sa: email }, cause: email }];
  }
  const project = serviceAccountProject(inventory, email);
  if (project && inventory.coversServiceAccountsOf(project)) {
    // Absent only proves deleted when no unreadable record could be this account.
    const unknown = inventory.serviceAccountUnknown(email, project);
    if (unknown) return [{ status: 'unverifiable', messageId: 'unreadable', data: { sa: email, reason: unknown }, severity: 'medium', cause: email }];
    return [{ status: 'fail', messageId: 'missing', data: { sa: email, project }, cause: email }];
  }
  return [{ status: 'unverifiable', messageId: 'notCovered', data: { sa: email, project: project ?? 'its project' }, severity: 'low', cause: email }];
}
