import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { RPC_CODE_NAMES } from '../src/engine/predicates.js';
import { gcloud } from '../src/fixes/shell.js';

/** Configuration rules whose failures explain a 401/403; the last attempt's status joins their findings. */
export const CONFIG_RULES_EXPLAINING_AUTH_FAILURES = [
  'http-target-uses-oidc',
  'oidc-audience-matches-target',
  'oidc-sa-can-invoke-target',
  'google-api-target-uses-oauth',
  'token-sa-exists-and-enabled',
  'scheduler-service-agent-has-role',
] as const;

/** Nearly every job passes: one shared, read-only result. */
const PASSED: readonly RuleResult<'ok' | 'authFailed'>[] = [{ status: 'pass', messageId: 'ok' }];

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

export default defineRule({
  meta: {
    id: 'last-attempt-authorized',
    title: "Job's last attempt was not refused as unauthenticated or unauthorized",
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description:
        "The job's `status` (the target's response to the last attempt) must not be UNAUTHENTICATED or PERMISSION_DENIED. The status is " +
        "joined as `evidence.lastAttempt` to the job's non-passing configuration findings. When none of them is a `fail`, this " +
        'rule also reports it on its own at full severity: the cause is then unconfirmed or outside what the inventory shows (an ' +
        'IAM deny policy, group membership, ingress settings, an org policy).',
      rationale:
        'A 401/403 from the target is the symptom this scanner exists for; a refusal the configuration does not explain still needs ' +
        'a person to look.',
      sources: [
        'googleapis google/cloud/scheduler/v1/job.proto (Job.status: "The response from the target for the last attempted execution")',
        'google/rpc/code.proto (UNAUTHENTICATED = 16, PERMISSION_DENIED = 7)',
        'https://cloud.google.com/scheduler/docs/troubleshooting',
      ],
      fix: {
        gcloud:
          'gcloud logging read \'resource.type="cloud_scheduler_job" AND resource.labels.job_id="JOB" AND jsonPayload.status="PERMISSION_DENIED"\' --limit=5',
        terraform: '# Fix the cause the logs show (invoker binding, audience, token type); nothing to set on the job itself.',
      },
      limitations: ['The inventory carries only the last attempt; older failures are not seen.'],
    },
    messages: {
      ok: 'The last attempt was not refused for authentication or authorization.',
      authFailed: 'The last attempt ended {{code}}{{detail}}, and no configuration finding explains it.',
    },
    remediation: { summary: "Read the job's execution logs and the target's IAM, ingress and deny policies to find the cause.", automatic: false },
  },
  evaluate(job) {
    const last = job.lastAttempt;
    if (!last || (last.code !== UNAUTHENTICATED && last.code !== PERMISSION_DENIED)) {
      return PASSED;
    }
    const code = RPC_CODE_NAMES[last.code]!;
    const lastAttempt = { code, ...(last.message ? { message: last.message } : {}), ...(last.time ? { time: last.time } : {}) };
    return [
      {
        status: 'fail',
        messageId: 'authFailed',
        data: { code, detail: last.message ? ` ("${last.message}")` : '' },
        cause: code,
        evidence: { lastAttempt },
        joinTo: CONFIG_RULES_EXPLAINING_AUTH_FAILURES,
      },
    ];
  },
  fix({ job }) {
    const filter = `resource.type="cloud_scheduler_job" AND resource.labels.job_id="${job.jobId}" AND resource.labels.location="${job.location}"`;
    return {
      summary: "Read the job's recent execution logs for the refusal's detail, then check the target's IAM, ingress and any IAM deny policy.",
      commands: [gcloud(['logging', 'read', filter], { project: job.projectId, limit: '10', freshness: '7d' })],
    };
  },
});
