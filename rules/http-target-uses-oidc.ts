import { defineRule } from '../src/engine/define-rule.js';
import { publicAccess, targetLabel } from '../src/engine/predicates.js';
import { SERVERLESS_TARGET_KINDS } from '../src/model/types.js';
import { canonicalAudience } from '../src/engine/audiences.js';
import { jobAuthorization } from '../src/engine/job-authorization.js';
import { acceptedAudience, createDedicatedAccount, dedicatedAccountEmail, invokerGrant, jobOidcTerraform, setOidcToken } from '../src/fixes/gcloud-fixes.js';

export default defineRule({
  meta: {
    id: 'http-target-uses-oidc',
    title: 'HTTP target on Cloud Run or Cloud Functions uses an OIDC token',
    severity: 'high',
    appliesTo: SERVERLESS_TARGET_KINDS,
    docs: {
      description:
        'A job whose HTTP target is a Cloud Run service or a Cloud Function (by URL or by resolved asset) must send an OIDC token. ' +
        'A job without a token, or with an OAuth access token, fails. Paused jobs fail too: they fail the moment they are resumed.',
      rationale:
        'IAM-protected Cloud Run services and Cloud Functions accept only Google-signed ID tokens; Scheduler sends one only when ' +
        '`oidcToken` is set. Without it every attempt ends 401/403. OAuth access tokens are for *.googleapis.com APIs. ' +
        'A target that is public (allUsers invoker, or the invoker IAM check disabled) does answer, but anyone can call it: ' +
        'the finding stays, at low severity, because the fix is to make the target private and send a token. ' +
        '`allAuthenticatedUsers` does not make a target public: a call without a token still gets 401.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (HttpTarget.oidc_token, OAuthToken: "should generally only be used when calling Google APIs hosted on *.googleapis.com")',
        'https://cloud.google.com/scheduler/docs/http-target-auth',
        'https://cloud.google.com/run/docs/authenticating/service-to-service',
        'https://cloud.google.com/run/docs/authenticating/public',
        'https://cloud.google.com/iam/docs/reference/rest/v1/Policy#Binding (allAuthenticatedUsers is every authenticated Google account; allUsers includes unauthenticated callers)',
      ],
      fix: {
        gcloud:
          'gcloud scheduler jobs update http JOB --location=LOCATION --oidc-service-account-email=SA_EMAIL --oidc-token-audience=TARGET_URL',
        terraform:
          'resource "google_cloud_scheduler_job" "job" {\n  http_target {\n    uri = "TARGET_URL"\n    oidc_token {\n      service_account_email = "SA_EMAIL"\n      audience              = "TARGET_URL"\n    }\n  }\n}',
      },
    },
    messages: {
      usesOidc: 'Job sends an OIDC token as {{sa}}.',
      noToken: 'Job ({{state}}) calls {{target}} without any token: the target answers 401/403{{publicNote}}.',
      oauthToken:
        'Job ({{state}}) sends an OAuth access token to {{target}}, which accepts only OIDC ID tokens{{publicNote}}.',
    },
    remediation: { summary: 'Set an OIDC token (service account and the target URL as audience) on the job.', automatic: true },
  },
  // A job that sends an OIDC token passes, whatever else it is: one result per target and account.
  // Failures read the job's state, so they are judged job by job.
  memoKey: (job) => job.http?.oidcToken?.serviceAccountEmail,
  evaluate(job, { inventory, target }) {
    const http = job.http!;
    if (http.oidcToken) return [{ status: 'pass', messageId: 'usesOidc', data: { sa: http.oidcToken.serviceAccountEmail } }];
    const open = publicAccess(inventory, target);
    const data = {
      state: job.state,
      target: targetLabel(target),
      publicNote: open ? ` (the target is public: ${open})` : '',
    };
    const evidence: Record<string, unknown> = { state: job.state, public: open ?? false };
    if (http.oauthToken) {
      evidence.oauthServiceAccount = http.oauthToken.serviceAccountEmail;
      return [{ status: 'fail', messageId: 'oauthToken', data, evidence, severity: open ? 'low' : 'high' }];
    }
    return [{ status: 'fail', messageId: 'noToken', data, evidence, severity: open ? 'low' : 'high' }];
  },
  // The least change: OIDC for the account the job already names (its OAuth token's), or the one
  // the operator named for the project; never an account guessed from elsewhere.
  remediate(job, { target }, _result, options) {
    const before = jobAuthorization(job);
    const audience = canonicalAudience(target);
    if (!audience) return { manual: 'the target is not in the inventory, so its URL (the audience) is unknown' };
    const named = before.type === 'oauth' ? before.serviceAccountEmail : undefined;
    const account = named ?? options.invokerAccounts.get(job.projectId);
    if (!account) {
      return { manual: `the job names no service account; name one for project ${job.projectId} with --invoker-account ${job.projectId}=EMAIL` };
    }
    return {
      change: { kind: 'job-token', job: job.name, before, after: { type: 'oidc', serviceAccountEmail: account, audience } },
      why: `send an OIDC token as ${account}${named ? ' (the account of its OAuth token)' : ' (the invoker account named for its project)'} with audience ${audience}`,
    };
  },
  fix({ messageId, evidence, job, target }) {
    // An OAuth token's account is kept: it is the identity the job's owner chose.
    const oauthAccount = messageId === 'oauthToken' && typeof evidence.oauthServiceAccount === 'string' ? evidence.oauthServiceAccount : undefined;
    const account = oauthAccount ?? dedicatedAccountEmail(job.projectId);
    const audience = acceptedAudience(target) ?? job.http?.uri;
    const grant = invokerGrant(target, `serviceAccount:${account}`);
    const commands = [
      ...(oauthAccount ? [] : [createDedicatedAccount(job.projectId)]),
      ...(grant ? [grant.command] : []),
      setOidcToken(job, account, audience),
    ];
    const who = oauthAccount ? `its OAuth token's account ${account}` : `a new account ${account} that holds only the invoker role`;
    return {
      summary:
        `Send an OIDC token as ${who}, with the audience ${audience}` +
        (grant ? `, and grant that account ${grant.what}.` : '; the target is not in the inventory: grant the account its invoker role there.'),
      commands,
      terraform: [jobOidcTerraform(job, account, audience), ...(grant ? [grant.terraform] : [])].join('\n\n'),
    };
  },
});
