/**
 * An outside rule pack for cronwarden: an ES module whose default export is an array of rules,
 * shaped like the built-in ones in rules/ (see "Rule packs" in the README). Run it with
 *
 *   cronwarden scan --rule-pack examples/rule-packs/http-target-uses-https.mjs --input ...
 *
 * A rule is a plain object: `meta` (checked when the pack loads), a pure `evaluate(job, ctx)`,
 * and optionally `memoKey(job)`. `job` is the ScheduledJob of src/model/types.ts; `ctx` holds
 * the inventory and the job's resolved target.
 */

/** Fails a job whose HTTP target is called over plain http://. */
const httpTargetUsesHttps = {
  meta: {
    id: 'http-target-uses-https',
    title: 'HTTP target is called over HTTPS',
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description: "A job's HTTP target URI must start with https://. Scheduler accepts http:// URIs too.",
      rationale:
        'Over plain HTTP the request, its body and any token attached to it cross the network unencrypted; a bearer token ' +
        'read on the way can be replayed until it expires.',
      sources: [
        'googleapis google/cloud/scheduler/v1/target.proto (HttpTarget.uri: "must begin with either http:// or https://")',
        'https://cloud.google.com/scheduler/docs/http-target-auth',
      ],
      fix: {
        gcloud: 'gcloud scheduler jobs update http JOB --location=LOCATION --uri=https://HOST/PATH',
        terraform: 'http_target {\n  uri = "https://HOST/PATH"\n}',
      },
      limitations: [
        'Whether Scheduler attaches a configured token to a plain-HTTP request is not documented; a configured token is treated as exposed (high), no token as medium.',
      ],
    },
    messages: {
      https: 'Job calls {{uri}} over HTTPS.',
      plainHttp: 'Job calls {{uri}} over plain HTTP{{tokenNote}}: the request crosses the network unencrypted.',
    },
    remediation: { summary: "Call the target on its https:// URL.", automatic: false },
  },
  evaluate(job) {
    const http = job.http;
    if (!http) return [];
    if (!/^http:\/\//i.test(http.uri)) return [{ status: 'pass', messageId: 'https', data: { uri: http.uri } }];
    const token = http.oidcToken ? 'an OIDC token' : http.oauthToken ? 'an OAuth token' : undefined;
    return [
      {
        status: 'fail',
        messageId: 'plainHttp',
        severity: token ? 'high' : 'medium',
        data: { uri: http.uri, tokenNote: token ? ` with ${token} configured` : '' },
        evidence: { uri: http.uri, tokenConfigured: token !== undefined },
      },
    ];
  },
};

export default [httpTargetUsesHttps];
