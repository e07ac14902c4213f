import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { effectiveAudience, splitUrl } from '../src/engine/predicates.js';
import { acceptedAudiences, extendsUrl, functionUrlFromJobUri, listedExactly, sameUrl, withCalledUrl } from '../src/engine/audiences.js';
import { SERVERLESS_TARGET_KINDS, type RunService, type Target } from '../src/model/types.js';
import { acceptedAudience, describeJob, jobOidcTerraform, setOidcToken } from '../src/fixes/gcloud-fixes.js';
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
        "service's URLs or custom audiences (a trailing slash does not matter). 1st gen function: its full URL. 2nd gen function: " +
        'the URLs and custom audiences of its underlying Run service.',
      rationale:
        'A token whose `aud` the receiving service does not accept is rejected with 401 before IAM is consulted. Scheduler uses the ' +
        'full job URI, path and query included, when no audience is set.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (OidcToken.audience: "If not specified, the URI specified in target will be used")',
        'https://cloud.google.com/run/docs/configuring/custom-audiences ("The default Google-generated URL always remains an accepted audience")',
        'https://cloud.google.com/run/docs/authenticating/service-to-service',
        'googleapis/google-auth-library-nodejs#1208 and GoogleCloudPlatform/nodejs-docs-samples#3267 (1st gen: host-only audience gets 401; the full URL works)',
        'googleapis/python-tasks#137 (a default audience with a query string gets 401)',
      ],
      fix: {
        gcloud: 'gcloud scheduler jobs update http JOB --location=LOCATION --oidc-token-audience=ACCEPTED_URL',
        terraform: 'http_target {\n  oidc_token {\n    service_account_email = "SA_EMAIL"\n    audience              = "ACCEPTED_URL"\n  }\n}',
      },
      limitations: [
        'Whether Cloud Run accepts an audience equal to its URL plus a path is not confirmed: reported unverifiable at low severity.',
        'Which audiences a 2nd gen function accepts for its cloudfunctions.net URL is not confirmed: that URL as audience (also with a path or query, and whichever URL the job calls) is reported unverifiable at low severity.',
        'A target not in the inventory cannot be judged: unverifiable.',
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
    },
    remediation: { summary: "Set the job's OIDC audience to the target's URL (without path or query).", automatic: false },
  },
  // The verdict depends only on the target and the audience. The default audience is the job's
  // URI, fixed by the target: key "". A configured audience is never empty (an empty one is unset).
  memoKey: (job) => (job.http?.oidcToken ? (job.http.oidcToken.audience ?? '') : undefined),
  evaluate(job, { target }) {
    const aud = effectiveAudience(job);
    return aud ? judgeAudience(job.http!.uri, target, aud) : [];
  },
  fix({ messageId, evidence, data, job, target }) {
    const account = job.http?.oidcToken?.serviceAccountEmail ?? '';
    if (messageId === 'targetUnknown') {
      return {
        summary: `The job calls ${String(data.target)}, which is not in the inventory: check the job's URI (a typo, a deleted service, or a project outside the scan), then scan again.`,
        commands: [describeJob(job), gcloud(['run', 'services', 'list'], { project: job.projectId })],
      };
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

function judgeAudience(uri: string, target: Target, aud: { audience: string; explicit: boolean }): RuleResult<M>[] {
  const base = { audience: aud.audience, which: aud.explicit ? 'configured' : 'default (job URI)' };
  const evidence = { audience: aud.audience, audienceSource: aud.explicit ? 'oidcToken.audience' : 'job URI' };
  const result = (status: RuleResult['status'], messageId: M, extra: Record<string, string>, severity?: RuleResult['severity']): RuleResult<M>[] => [
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
    case 'cloud-run':
      // Most audiences are written exactly as the service lists them: no URL parsing for those.
      if (listedExactly(aud.audience, target.service.urls, target.service)) return result('pass', 'matches', { accepted: acceptedAudiences([...target.service.urls], target.service).join(', ') });
      return judgeRun(aud.audience, withCalledUrl(target.service.urls, target.url), target.service, target.service.name, result);
    case 'function-gen2': {
      const urls = [...(target.service?.urls ?? []), ...(target.fn.runUri ? [target.fn.runUri] : [])];
      if (!target.service) {
        // Custom audiences of the underlying service are unknown; only the default URL is certain.
        if (urls.some((u) => sameUrl(u, aud.audience))) return result('pass', 'matches', { accepted: urls.join(', ') });
        return result('unverifiable', 'targetUnknown', { target: `${target.fn.name} (its Run service)` }, 'low');
      }
      if (aud.audience !== target.fn.url && listedExactly(aud.audience, urls, target.service)) {
        return result('pass', 'matches', { accepted: acceptedAudiences(urls, target.service).join(', ') });
      }
      // Which audiences a gen2 function accepts for its cloudfunctions.net URL is unconfirmed, whichever URL is called.
      if (target.fn.url && sameUrl(target.fn.url, aud.audience)) {
        return result('unverifiable', 'gen2CloudfunctionsUrl', { accepted: acceptedAudiences(urls, target.service).join(', ') }, 'low');
      }
      if (target.fn.url && extendsUrl(target.fn.url, aud.audience)) {
        return result('unverifiable', 'functionUrlWithPath', { accepted: target.fn.url }, 'low');
      }
      return judgeRun(aud.audience, target.via === 'run-url' ? withCalledUrl(urls, target.url) : urls, target.service, target.fn.name, result);
    }
    case 'function-gen1': {
      const expected = target.fn.url ?? functionUrlFromJobUri(uri);
      if (!expected) return result('unverifiable', 'targetUnknown', { target: target.fn.name }, 'low');
      if (expected === aud.audience || sameUrl(expected, aud.audience)) return result('pass', 'matches', { accepted: expected });
      const a = splitUrl(aud.audience);
      const e = splitUrl(expected)!;
      if (a && a.origin === e.origin) {
        if (a.rest === '') return result('fail', 'hostOnly', { accepted: expected });
        const noQuery = aud.audience.split(/[?#]/)[0]!;
        if (noQuery !== aud.audience && sameUrl(noQuery, expected)) return result('fail', 'queryInAudience', { accepted: expected });
        if (extendsUrl(expected, aud.audience)) {
          return result('unverifiable', 'functionUrlWithPath', { accepted: expected }, 'low');
        }
      }
      return result('fail', 'mismatch', { target: target.fn.name, accepted: expected });
    }
    case 'unknown-run':
    case 'unknown-function':
      return result('unverifiable', 'targetUnknown', { target: target.url }, 'low');
    default:
      return [];
  }
}

function judgeRun(
  audience: string,
  urls: string[],
  service: RunService,
  targetName: string,
  result: (s: RuleResult['status'], m: M, extra: Record<string, string>, sev?: RuleResult['severity']) => RuleResult<M>[],
): RuleResult<M>[] {
  const accepted = acceptedAudiences(urls, service);
  if (accepted.some((u) => sameUrl(u, audience))) {
    return result('pass', 'matches', { accepted: accepted.join(', ') });
  }
  if (urls.length === 0) return result('unverifiable', 'runUrlsUnknown', { target: targetName }, 'low');
  const a = splitUrl(audience);
  if (a && a.rest !== '' && urls.some((u) => splitUrl(u)?.origin === a.origin)) {
    return result('unverifiable', 'runUrlWithPath', { accepted: accepted.join(', ') }, 'low');
  }
  return result('fail', 'mismatch', { target: targetName, accepted: accepted.join(', ') });
}
