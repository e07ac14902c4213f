import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { effectiveAudience } from '../src/engine/predicates.js';
import { jobAuthorization } from '../src/engine/job-authorization.js';
import {
  canonicalAudience, extendsUrl, functionUrlFromJobUri, gen1AudienceForm, runAudienceForm, runAudiences, sameUpToTrailingSlash, sameWhenNormalised,
} from '../src/engine/audiences.js';
import type { Inventory } from '../src/model/inventory.js';
import { parseHttpUrl } from '../src/model/url.js';
import { SERVERLESS_TARGET_KINDS, type RunService, type Target } from '../src/model/types.js';
import { acceptedAudience, describeJob, jobOidcTerraform, setOidcToken, targetNotInInventoryFix } from '../src/fixes/gcloud-fixes.js';
import { gcloud } from '../src/fixes/shell.js';

type M =
  | 'matches'
  | 'mismatch'
  | 'runUrlWithPath'
  | 'runUrlsUnknown'
  | 'hostOnly'
  | 'queryInAudience'
  | 'functionUrlWithPath'
  | 'gen2CloudfunctionsUrl'
  | 'httpAudience'
  | 'httpUri'
  | 'undocumentedSpelling'
  | 'tagUrlAudience'
  | 'deterministicUnknown'
  | 'deterministicNotAssigned'
  | 'targetUnknown';

export default defineRule<M>({
  meta: {
    id: 'oidc-audience-matches-target',
    title: "OIDC token audience is one the target accepts",
    severity: 'high',
    appliesTo: SERVERLESS_TARGET_KINDS,
    docs: {
      description:
        "The effective audience (the token's `audience`, else the job's full URI) must be one the target accepts. Cloud Run: any of the " +
        "service's URLs or custom audiences, written as listed (a trailing slash does not matter). The service's URLs include the " +
        'deterministic `https://SERVICE-PROJECT_NUMBER.REGION.run.app` when its DNS label is at most 63 characters and its default URL ' +
        'is not disabled, also when an older record lists only the hash URL. 1st gen function: its exact URL. 2nd gen function: ' +
        'the URLs and custom audiences of its underlying Run service. An http:// audience is never a service URL.',
      rationale:
        'A token whose `aud` the receiving service does not accept is rejected with 401 before IAM is consulted. Scheduler uses the ' +
        'full job URI, path and query included, when no audience is set.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (OidcToken.audience: "If not specified, the URI specified in target will be used")',
        'https://cloud.google.com/run/docs/configuring/custom-audiences ("The default Google-generated URL always remains an accepted audience")',
        'https://cloud.google.com/run/docs/authenticating/service-to-service',
        'googleapis/google-auth-library-nodejs#1208 and GoogleCloudPlatform/nodejs-docs-samples#3267 (1st gen: host-only audience gets 401; the full URL works)',
        'googleapis/python-tasks#137 (a default audience with a query string gets 401)',
        'https://cloud.google.com/run/docs/triggering/https-request (deterministic URL https://[TAG---]SERVICE_NAME-PROJECT_NUMBER.REGION.run.app, "only available for DNS segments of 63 characters or less"; default run.app URLs can be disabled)',
        'https://cloud.google.com/run/docs/configuring/services/default-url (defaultUriDisabled; annotation run.googleapis.com/default-url-disabled)',
        'https://cloud.google.com/run/docs/rollouts-rollbacks-traffic-migration (traffic tags get TAG---SERVICE URLs of the same service; v2 trafficStatuses[].uri, v1 status.traffic[].url)',
        'GoogleCloudPlatform/python-docs-samples#7795 (a Google sample whose Cloud Run audience ends with a trailing slash)',
      ],
      fix: {
        gcloud: 'gcloud scheduler jobs update http JOB --location=LOCATION --oidc-token-audience=ACCEPTED_URL',
        terraform: 'http_target {\n  oidc_token {\n    service_account_email = "SA_EMAIL"\n    audience              = "ACCEPTED_URL"\n  }\n}',
      },
      limitations: [
        'Whether Cloud Run accepts an audience equal to its URL plus a path is not confirmed: reported unverifiable at low severity.',
        'Which audiences a 2nd gen function accepts for its cloudfunctions.net URL is not confirmed: that URL as audience (also with a path or query, and whichever URL the job calls) is reported unverifiable at low severity.',
        'A target not in the inventory cannot be judged: unverifiable.',
        'Spellings of an accepted URL the documentation does not show (upper-case host, explicit :443, a trailing slash on a 1st gen function URL) are unverifiable, never silently a match.',
        'Whether a traffic-tag URL is an accepted audience is not documented: unverifiable at low severity.',
        'Where the record cannot show whether the deterministic URL is assigned (project number unknown, no URL listed), an audience of that form is unverifiable at low severity.',
        'A job that calls http:// is unverifiable at medium severity even with a right audience: whether Scheduler follows the HTTPS redirect is not documented.',
      ],
    },
    messages: {
      matches: 'Audience {{audience}} is accepted by the target.',
      mismatch: 'Audience {{audience}} is none of the audiences {{target}} accepts ({{accepted}}): calls get 401.',
      runUrlWithPath:
        'Audience {{audience}} is a Cloud Run URL plus a path or query; Cloud Run is documented to accept {{accepted}}. Set the audience to the service URL.',
      runUrlsUnknown: 'The inventory lists no URL for {{target}}; the audience {{audience}} cannot be checked.',
      hostOnly: 'Audience {{audience}} is only the host; a 1st gen function accepts its full URL {{accepted}}: calls get 401.',
      queryInAudience:
        'The {{which}} audience {{audience}} carries a query string; the function accepts {{accepted}}: calls get 401.',
      functionUrlWithPath:
        'Audience {{audience}} extends the function URL {{accepted}} with a path or query; acceptance is not confirmed.',
      gen2CloudfunctionsUrl:
        'Audience {{audience}} is the cloudfunctions.net URL of a 2nd gen function; documented accepted audiences are its Run service URLs ({{accepted}}).',
      targetUnknown: 'The target {{target}} is not in the inventory; its accepted audiences are unknown.',
      httpAudience:
        'Audience {{audience}} is an http:// URL; {{target}} serves HTTPS only, so its URL is never http:// (accepted: {{accepted}}): calls get 401.',
      httpUri: 'The job calls {{uri}} over http://; Cloud Run and Cloud Functions serve HTTPS and redirect HTTP, and whether Scheduler follows the redirect is not documented.',
      undocumentedSpelling:
        'Audience {{audience}} is an accepted URL ({{accepted}}) spelled differently (letter case, port or similar); only the spelling the documentation shows is confirmed.',
      tagUrlAudience:
        'Audience {{audience}} is a traffic-tag URL of {{target}}; whether a tag URL is an accepted audience is not documented (accepted: {{accepted}}).',
      deterministicUnknown:
        'Audience {{audience}} has the form of the deterministic URL of {{target}}, but {{reason}}; it cannot be checked.',
      deterministicNotAssigned:
        'Audience {{audience}} is the deterministic URL form of {{target}}, which Cloud Run does not assign: {{reason}} (accepted: {{accepted}}).',
    },
    remediation: { summary: "Set the job's OIDC audience to the target's URL (without path or query).", automatic: true },
  },
  // The verdict depends only on the target and the audience. The default audience is the job's
  // URI, fixed by the target: key "". A configured audience is never empty (an empty one is unset).
  memoKey: (job) => (job.http?.oidcToken ? (job.http.oidcToken.audience ?? '') : undefined),
  evaluate(job, { inventory, target }) {
    const aud = effectiveAudience(job);
    if (!aud) return [];
    const results = judgeAudience(inventory, job.http!.uri, target, aud);
    // Cloud Run and Cloud Functions serve HTTPS and redirect HTTP: a right audience does not make an http:// call work.
    if (results[0]?.status === 'pass' && parseHttpUrl(job.http!.uri)?.protocol === 'http:') {
      return [{ status: 'unverifiable', messageId: 'httpUri', data: { uri: job.http!.uri }, severity: 'medium', cause: aud.audience, evidence: { uri: job.http!.uri } }];
    }
    return results;
  },
  remediate(job, { target }) {
    const before = jobAuthorization(job);
    const audience = canonicalAudience(target);
    if (before.type !== 'oidc') return { manual: 'the job sends no OIDC token' };
    if (!audience) return { manual: 'the inventory shows no URL of the target to use as audience' };
    return {
      change: { kind: 'job-token', job: job.name, before, after: { ...before, audience } },
      why: `set the OIDC audience to ${audience}, the target's own URL, which it accepts`,
    };
  },
  fix({ messageId, evidence, data, job, target }) {
    const account = job.http?.oidcToken?.serviceAccountEmail ?? '';
    if (messageId === 'targetUnknown') {
      return targetNotInInventoryFix(String(data.target), job);
    }
    if (messageId === 'runUrlsUnknown') {
      const service = target.kind === 'cloud-run' ? target.service : target.kind === 'function-gen2' ? target.service : undefined;
      return {
        summary: `The inventory lists no URL for ${String(data.target)}: read the service's URLs and set one of them as the job's audience.`,
        commands: service ? [gcloud(['run', 'services', 'describe', service.serviceName], { region: service.region, project: service.project, format: 'value(status.url)' })] : [describeJob(job)],
      };
    }
    const accepted = Array.isArray(evidence.accepted) && typeof evidence.accepted[0] === 'string' ? evidence.accepted[0] : acceptedAudience(target);
    if (!accepted) return undefined;
    return {
      summary: `Set the job's OIDC audience to ${accepted}, an audience the target accepts.`,
      commands: [setOidcToken(job, account, accepted)],
      terraform: jobOidcTerraform(job, account, accepted),
    };
  },
});

function judgeAudience(inv: Inventory, uri: string, target: Target, aud: { audience: string; explicit: boolean }): RuleResult<M>[] {
  const base = { audience: aud.audience, which: aud.explicit ? 'configured' : 'default (job URI)' };
  const evidence = { audience: aud.audience, audienceSource: aud.explicit ? 'oidcToken.audience' : 'job URI' };
  const result: Result = (status, messageId, extra, severity) => [
    {
      status,
      messageId,
      data: { ...base, ...extra },
      // A pass needs no evidence; it is most results, and most are never written.
      ...(status === 'pass' ? {} : { evidence: { ...evidence, ...(extra.accepted ? { accepted: extra.accepted.split(', ') } : {}) } }),
      cause: aud.audience,
      ...(severity ? { severity } : {}),
    },
  ];

  switch (target.kind) {
    case 'cloud-run': {
      const service = target.service;
      // Most audiences are written exactly as the service lists them: no URL parsing for those.
      if (service.urls.includes(aud.audience) || service.customAudiences.includes(aud.audience)) {
        return result('pass', 'matches', { accepted: [...service.urls, ...service.customAudiences].join(', ') });
      }
      return judgeRun(inv, aud.audience, service, [], service.name, result);
    }
    case 'function-gen2': {
      const runUrls = target.fn.runUri ? [target.fn.runUri] : [];
      if (!target.service) {
        // Custom audiences of the underlying service are unknown; only the default URL is certain.
        if (runUrls.some((u) => sameUpToTrailingSlash(aud.audience, u))) return result('pass', 'matches', { accepted: runUrls.join(', ') });
        return result('unverifiable', 'targetUnknown', { target: `${target.fn.name} (its Run service)` }, 'low');
      }
      const known = runAudiences(inv, target.service, runUrls);
      if (aud.audience !== target.fn.url && known.accepted.some((u) => sameUpToTrailingSlash(aud.audience, u))) {
        return result('pass', 'matches', { accepted: known.accepted.join(', ') });
      }
      // Which audiences a gen2 function accepts for its cloudfunctions.net URL is unconfirmed, whichever URL is called.
      if (target.fn.url && sameWhenNormalised(target.fn.url, aud.audience)) {
        return result('unverifiable', 'gen2CloudfunctionsUrl', { accepted: known.accepted.join(', ') }, 'low');
      }
      if (target.fn.url && extendsUrl(target.fn.url, aud.audience)) {
        return result('unverifiable', 'functionUrlWithPath', { accepted: target.fn.url }, 'low');
      }
      return judgeRun(inv, aud.audience, target.service, runUrls, target.fn.name, result);
    }
    case 'function-gen1':
      return judgeGen1(uri, target.fn.url, target.fn.name, aud.audience, result);
    case 'unknown-run':
    case 'unknown-function':
      return result('unverifiable', 'targetUnknown', { target: target.url }, 'low');
    default:
      return [];
  }
}

type Result = (status: RuleResult['status'], messageId: M, extra: Record<string, string>, severity?: RuleResult['severity']) => RuleResult<M>[];

function judgeRun(inv: Inventory, audience: string, service: RunService, extraUrls: readonly string[], targetName: string, result: Result): RuleResult<M>[] {
  const known = runAudiences(inv, service, extraUrls);
  const accepted = known.accepted.join(', ');
  if (known.accepted.some((u) => sameUpToTrailingSlash(audience, u))) return result('pass', 'matches', { accepted });
  const form = runAudienceForm(audience, service, known);
  if (form.form === 'http') return result('fail', 'httpAudience', { target: targetName, accepted });
  if (known.urls.length === 0) return result('unverifiable', 'runUrlsUnknown', { target: targetName }, 'low');
  switch (form.form) {
    case 'spelling':
      return result('unverifiable', 'undocumentedSpelling', { accepted }, 'medium');
    case 'tag':
      return result('unverifiable', 'tagUrlAudience', { target: targetName, accepted }, 'low');
    case 'deterministic-unknown':
      return result('unverifiable', 'deterministicUnknown', { target: targetName, reason: form.reason, accepted }, 'low');
    case 'deterministic-not-assigned':
      return result('fail', 'deterministicNotAssigned', { target: targetName, reason: form.reason, accepted });
    default:
  }
  if (form.form === 'with-path') return result('unverifiable', 'runUrlWithPath', { accepted }, 'low');
  return result('fail', 'mismatch', { target: targetName, accepted });
}

/** A 1st gen function accepts its exact URL (GCP-FACTS §3, §10). */
function judgeGen1(uri: string, url: string | undefined, name: string, audience: string, result: Result): RuleResult<M>[] {
  const expected = url ?? functionUrlFromJobUri(uri);
  if (!expected) return result('unverifiable', 'targetUnknown', { target: name }, 'low');
  const accepted = { accepted: expected };
  switch (gen1AudienceForm(audience, expected)) {
    case 'exact':
      return result('pass', 'matches', accepted);
    case 'http':
      return result('fail', 'httpAudience', { target: name, ...accepted });
    case 'trailing-slash':
      // Likely the same to the function, but not the documented spelling.
      return result('unverifiable', 'undocumentedSpelling', accepted, 'low');
    case 'spelling':
      return result('unverifiable', 'undocumentedSpelling', accepted, 'medium');
    case 'host-only':
      return result('fail', 'hostOnly', accepted);
    case 'query':
      return result('fail', 'queryInAudience', accepted);
    case 'with-path':
      return result('unverifiable', 'functionUrlWithPath', accepted, 'low');
    case 'other':
      return result('fail', 'mismatch', { target: name, ...accepted });
  }
}
