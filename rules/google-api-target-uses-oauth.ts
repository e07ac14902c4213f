import { defineRule } from '../src/engine/define-rule.js';
import { jobAuthorization } from '../src/engine/job-authorization.js';
import { DEFAULT_OAUTH_SCOPE } from '../src/engine/remedy.js';
import { createDedicatedAccount, dedicatedAccountEmail, jobOauthTerraform, setOauthToken } from '../src/fixes/gcloud-fixes.js';

export default defineRule({
  meta: {
    id: 'google-api-target-uses-oauth',
    title: 'Google API target (*.googleapis.com) uses an OAuth token',
    severity: 'high',
    appliesTo: ['google-api'],
    docs: {
      description:
        'A job that calls a Google API on *.googleapis.com (for example the Cloud Run Admin API to run a job) must send an OAuth ' +
        'access token. An OIDC ID token, or no token, fails.',
      rationale:
        'Google APIs authorise OAuth 2.0 access tokens; an ID token is refused with 401. This is the usual mistake when a Cloud Run ' +
        'job is triggered from Scheduler with the settings copied from a Cloud Run service.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (OAuthToken: "should generally only be used when calling Google APIs hosted on *.googleapis.com")',
        'https://cloud.google.com/scheduler/docs/http-target-auth ("Google APIs hosted on *.googleapis.com expect an OAuth token")',
        'https://cloud.google.com/run/docs/execute/jobs-on-schedule',
      ],
      fix: {
        gcloud: 'gcloud scheduler jobs update http JOB --location=LOCATION --oauth-service-account-email=SA_EMAIL --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform',
        terraform: 'http_target {\n  oauth_token {\n    service_account_email = "SA_EMAIL"\n    scope                 = "https://www.googleapis.com/auth/cloud-platform"\n  }\n}',
      },
    },
    messages: {
      usesOauth: 'Job sends an OAuth token as {{sa}} to {{host}}.',
      oidcToGoogleApi: 'Job sends an OIDC ID token to the Google API {{host}}, which accepts only OAuth access tokens: calls get 401.',
      noToken: 'Job calls the Google API {{host}} without a token: calls get 401.',
    },
    remediation: { summary: 'Replace the OIDC token with an OAuth token (cloud-platform scope) for the same service account.', automatic: true },
  },
  evaluate(job, { target }) {
    if (target.kind !== 'google-api') return [];
    const http = job.http!;
    if (http.oauthToken) return [{ status: 'pass', messageId: 'usesOauth', data: { sa: http.oauthToken.serviceAccountEmail, host: target.host } }];
    if (http.oidcToken) {
      return [{ status: 'fail', messageId: 'oidcToGoogleApi', data: { host: target.host }, evidence: { oidcServiceAccount: http.oidcToken.serviceAccountEmail } }];
    }
    return [{ status: 'fail', messageId: 'noToken', data: { host: target.host }, severity: 'medium' }];
  },
  remediate(job) {
    const before = jobAuthorization(job);
    if (before.type !== 'oidc') return { manual: 'the job sends no token: which account should call the API is for its owner to decide' };
    return {
      change: { kind: 'job-token', job: job.name, before, after: { type: 'oauth', serviceAccountEmail: before.serviceAccountEmail, scope: DEFAULT_OAUTH_SCOPE } },
      why: `send an OAuth access token (cloud-platform scope) as ${before.serviceAccountEmail}, the account of its OIDC token`,
    };
  },
  fix({ messageId, evidence, job, data }) {
    const oidcAccount = messageId === 'oidcToGoogleApi' && typeof evidence.oidcServiceAccount === 'string' ? evidence.oidcServiceAccount : undefined;
    const account = oidcAccount ?? dedicatedAccountEmail(job.projectId);
    return {
      summary: oidcAccount
        ? `Replace the OIDC token with an OAuth token (cloud-platform scope) for the same account ${account}; ${data.host} accepts only OAuth access tokens.`
        : `Send an OAuth token (cloud-platform scope) as a new account ${account}, and grant it the role the ${data.host} call needs.`,
      commands: [...(oidcAccount ? [] : [createDedicatedAccount(job.projectId)]), setOauthToken(job, account)],
      terraform: jobOauthTerraform(job, account),
    };
  },
});
