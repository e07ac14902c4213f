import { defineRule } from '../src/engine/define-rule.js';
import { isDefaultComputeServiceAccount, tokenOf } from '../src/engine/predicates.js';
import { createDedicatedAccount, dedicatedAccountEmail, invokerGrant, setOauthToken, setOidcToken } from '../src/fixes/gcloud-fixes.js';

export default defineRule({
  meta: {
    id: 'token-sa-not-default-compute',
    title: "Token's identity is not the default compute service account",
    severity: 'medium',
    appliesTo: 'all',
    docs: {
      description: 'The job must not use the Compute Engine default service account (`NUMBER-compute@developer.gserviceaccount.com`) as its token identity.',
      rationale:
        'The default compute account often holds roles/editor on its project and is shared by every VM and service that did not ' +
        'choose an account. A Scheduler job should call as a dedicated account that holds only the invoker role on its target.',
      sources: [
        'https://cloud.google.com/compute/docs/access/service-accounts#default_service_account',
        'https://cloud.google.com/iam/docs/best-practices-service-accounts (avoid default service accounts)',
        'https://cloud.google.com/scheduler/docs/http-target-auth',
      ],
      fix: {
        gcloud:
          'gcloud iam service-accounts create scheduler-invoker\ngcloud scheduler jobs update http JOB --location=LOCATION --oidc-service-account-email=scheduler-invoker@PROJECT.iam.gserviceaccount.com',
        terraform: 'resource "google_service_account" "scheduler_invoker" {\n  account_id = "scheduler-invoker"\n}\n# and use google_service_account.scheduler_invoker.email in the job\'s oidc_token',
      },
    },
    messages: {
      ok: 'Job calls as {{sa}}, not a default account.',
      defaultCompute: 'Job calls as the default compute service account {{sa}}; use a dedicated account with only the invoker role.',
    },
    remediation: { summary: 'Create a dedicated service account with only the invoker role on the target and use it in the token.', automatic: false },
  },
  // The verdict depends only on the token's account.
  memoKey: (job) => tokenOf(job)?.token.serviceAccountEmail,
  evaluate(job) {
    const token = tokenOf(job);
    if (!token) return [];
    const sa = token.token.serviceAccountEmail;
    return isDefaultComputeServiceAccount(sa)
      ? [{ status: 'fail', messageId: 'defaultCompute', data: { sa }, cause: sa }]
      : [{ status: 'pass', messageId: 'ok', data: { sa } }];
  },
  fix({ job, target }) {
    const token = tokenOf(job);
    const account = dedicatedAccountEmail(job.projectId);
    const grant = token?.type === 'oidc' ? invokerGrant(target, `serviceAccount:${account}`) : undefined;
    return {
      summary:
        `Use a dedicated account ${account}` +
        (grant ? ` holding only ${grant.what}` : ' holding only the role the call needs') +
        ' instead of the default compute account, which holds Editor on the project in many organizations.',
      commands: [
        createDedicatedAccount(job.projectId),
        ...(grant ? [grant.command] : []),
        token?.type === 'oauth' ? setOauthToken(job, account) : setOidcToken(job, account, token?.type === 'oidc' ? token.token.audience : undefined),
      ],
      ...(grant ? { terraform: grant.terraform } : {}),
    };
  },
});
