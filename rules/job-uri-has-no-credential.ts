import { defineRule } from '../src/engine/define-rule.js';
import type { RuleResult } from '../src/engine/define-rule.js';
import { credentialsInUrl, redactUrl, URL_MAY_HOLD_CREDENTIAL } from '../src/text/redact-secrets.js';
import { describeJob } from '../src/fixes/gcloud-fixes.js';

const PASSED: readonly RuleResult<'ok' | 'credential'>[] = [{ status: 'pass', messageId: 'ok' }];

export default defineRule({
  meta: {
    id: 'job-uri-has-no-credential',
    title: "Job's URI carries no credential",
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description:
        "The job's HTTP URI (or App Engine relative URI) must not hold a credential: user info (`https://user:password@host`); a " +
        'credential-named query, fragment or path (`;name=`) parameter (`token`, `key`, `sig`, `signature`, `secret`, `password`, `code`, ' +
        '`access_token`, `X-Goog-Signature`, any `*_token`, `*-key`, `*_secret`..., `token[]` alike); a parameter whose value is a ' +
        'URL with user info; or a token-shaped string anywhere (a JWT, a Google OAuth access or refresh token, an API key).',
      rationale:
        "A job's URI is part of its configuration: everyone who may read the job (roles/cloudscheduler.viewer, every project " +
        'viewer, every export of the inventory) reads the secret, and the target may log it. Scheduler authenticates to Cloud Run, ' +
        'Cloud Functions and Google APIs with OIDC or OAuth tokens it mints per call, so no long-lived secret belongs in the URI. ' +
        'The finding shows the URI with the secret redacted.',
      sources: [
        'https://cloud.google.com/scheduler/docs/access-control (roles/cloudscheduler.viewer: cloudscheduler.jobs.get, reads the whole job)',
        'googleapis google/cloud/scheduler/v1/target.proto (HttpTarget.uri; oidc_token and oauth_token authorize calls instead)',
        'https://cloud.google.com/scheduler/docs/http-target-auth',
        'RFC 3986 section 3.2.1 ("Use of the format user:password in the userinfo field is deprecated")',
        'https://owasp.org/www-community/vulnerabilities/Information_exposure_through_query_strings_in_url',
        'https://cloud.google.com/docs/authentication/api-keys-best-practices',
      ],
      fix: {
        gcloud:
          '# Rotate the exposed secret first: it has been readable. Then drop it from the URI and authenticate with a token:\n' +
          'gcloud scheduler jobs update http JOB --location=LOCATION --uri=URI_WITHOUT_SECRET \\\n' +
          '  --oidc-service-account-email=SA_EMAIL --oidc-token-audience=AUDIENCE',
        terraform:
          'resource "google_cloud_scheduler_job" "job" {\n  http_target {\n    uri = "https://svc-abc-uc.a.run.app/run" # no user info, no secret parameter\n' +
          '    oidc_token {\n      service_account_email = google_service_account.invoker.email\n    }\n  }\n}',
      },
      limitations: [
        'Parameters are judged by name only: a secret under an innocuous name (`?x=...`) is not found.',
        'Headers and bodies are not in the inventory model and are not judged.',
      ],
    },
    messages: {
      ok: 'Job URI carries no credential.',
      credential: 'Job URI {{uri}} carries a credential ({{where}}), readable by everyone who can read the job; rotate it and authenticate with an OIDC or OAuth token.',
    },
    remediation: { summary: 'Rotate the secret, remove it from the URI, and authenticate the call with an OIDC or OAuth token.', automatic: false },
  },
  // An HTTP URI that may hold a credential is taken apart once: the judge remembers results per
  // HTTP URI already (its target entry), so no more key is needed. For the rest one test is
  // cheaper than a memo, and App Engine jobs have no remembered target.
  memoKey: (job) => (job.http !== undefined && URL_MAY_HOLD_CREDENTIAL.test(job.http.uri) ? '' : undefined),
  evaluate(job) {
    // An App Engine relative URI is a path and query: judged as one on a placeholder host.
    const uri = job.http?.uri ?? (job.appEngine?.relativeUri !== undefined ? `https://app-engine${job.appEngine.relativeUri}` : undefined);
    if (uri === undefined) return [];
    if (!URL_MAY_HOLD_CREDENTIAL.test(uri)) return PASSED;
    const where = credentialsInUrl(uri);
    if (where.length === 0) return PASSED;
    const shown = job.http ? redactUrl(uri) : redactUrl(uri).slice('https://app-engine'.length);
    return [{ status: 'fail', messageId: 'credential', data: { uri: shown, where: where.join(', ') }, cause: where.join(',') }];
  },
  fix({ job }) {
    return {
      summary: 'Rotate the secret at its issuer first (every Scheduler viewer could read it), then set the job URI without it and authenticate with an OIDC or OAuth token.',
      commands: [describeJob(job)],
    };
  },
});
