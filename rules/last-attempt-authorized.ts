import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import { RPC_CODE_NAMES } from '../src/engine/predicates.js';
import { gcloud } from '../src/fixes/shell.js';

/** Configuration rules whose failures explain a 401/403; the last attempt's status joins their findings. */
export const CONFIG_RULES_EXPLAINING_AUTH_FAILURES = [
  'http-target-uses-oidc',
  'oidc-audience-matches-target',
  'oidc-sa-can-invoke-target',
  'google-api-target-uses-oauth',
  'oauth-sa-can-call-target',
  'token-sa-exists-and-enabled',
  'scheduler-service-agent-has-role',
] as const;

type M = 'ok' | 'authFailed' | 'authFailedUnexplained' | 'attemptsRefused' | 'attemptsRefusedUnexplained' | 'fixedSince';

/** Nearly every job passes: one shared, read-only result. */
const PASSED: readonly RuleResult<M>[] = [{ status: 'pass', messageId: 'ok' }];

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

export default defineRule<M>({
  meta: {
    id: 'last-attempt-authorized',
    title: "Job's last attempt was not refused as unauthenticated or unauthorized",
    severity: 'high',
    appliesTo: 'all',
    docs: {
      description:
        "The job's `status` (the target's response to the last attempt) must not be UNAUTHENTICATED or PERMISSION_DENIED, and, " +
        "when the execution logs were read (`--attempts-window`), no attempt in the window may have been refused with 401 or 403 " +
        "unless the job's last attempt succeeded after the last refusal (fixed since: a pass that says so). The status is joined " +
        "as `evidence.lastAttempt`, and the logs' counts as `evidence.attempts`, to the job's non-passing configuration findings. " +
        'When none of them is a `fail`, this rule also reports it on its own at full severity: the cause is then unconfirmed or ' +
        'outside what the inventory shows (an IAM deny policy, group membership, ingress settings, an org policy).',
      rationale:
        'A 401/403 from the target is the symptom this scanner exists for; a refusal the configuration does not explain still needs ' +
        'a person to look.',
      sources: [
        'googleapis google/cloud/scheduler/v1/job.proto (Job.status: "The response from the target for the last attempted execution")',
        'google/rpc/code.proto (UNAUTHENTICATED = 16, PERMISSION_DENIED = 7)',
        'https://cloud.google.com/scheduler/docs/troubleshooting',
        'Scheduler execution logs: log cloudscheduler.googleapis.com/executions, AttemptFinished entries with httpRequest.status and jsonPayload.status (GCP-FACTS §5, §17)',
        'https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list',
      ],
      fix: {
        gcloud:
          'gcloud logging read \'resource.type="cloud_scheduler_job" AND resource.labels.job_id="JOB" AND jsonPayload.status="PERMISSION_DENIED"\' --limit=5',
        terraform: '# Fix the cause the logs show (invoker binding, audience, token type); nothing to set on the job itself.',
      },
      limitations: [
        'Without --attempts-window evidence the inventory carries only the last attempt; older failures are not seen.',
        'Logs are read only for refused attempts, so "fixed since" rests on the inventory\'s lastAttemptTime and status.',
        'A project whose logs cannot be read is a coverage gap; its jobs are judged from Job.status alone.',
      ],
    },
    messages: {
      ok: 'The last attempt was not refused for authentication or authorization.',
      authFailed: 'The last attempt ended {{code}}{{detail}}, and no configuration finding explains it.',
      authFailedUnexplained:
        'The last attempt ended {{code}}{{detail}}; the configuration rules that could explain it did not run in this scan (see --only-rule and --skip-rule).',
      attemptsRefused:
        '{{refused}} attempt(s) in the last {{window}} were refused (401: {{unauthenticated}}, 403: {{permissionDenied}}; first {{first}}, last {{last}}); {{lastAttempt}}, and no configuration finding explains it.',
      attemptsRefusedUnexplained:
        '{{refused}} attempt(s) in the last {{window}} were refused (401: {{unauthenticated}}, 403: {{permissionDenied}}; first {{first}}, last {{last}}); {{lastAttempt}}; the configuration rules that could explain it did not run in this scan (see --only-rule and --skip-rule).',
      fixedSince:
        '{{refused}} attempt(s) in the last {{window}} were refused (401: {{unauthenticated}}, 403: {{permissionDenied}}; last {{last}}), but the last attempt, at {{lastAttemptTime}}, succeeded: fixed since.',
    },
    remediation: { summary: "Read the job's execution logs and the target's IAM, ingress and deny policies to find the cause.", automatic: false },
  },
  evaluate(job) {
    const last = job.lastAttempt;
    const lastRefused = last !== undefined && (last.code === UNAUTHENTICATED || last.code === PERMISSION_DENIED);
    const lastCode = last ? (RPC_CODE_NAMES[last.code] ?? `code ${last.code}`) : undefined;
    // A message that only repeats the code name adds nothing to the code.
    const message = last?.message && last.message.trim().toUpperCase() !== lastCode ? last.message : undefined;
    const lastAttempt = last ? { code: lastCode!, ...(message ? { message } : {}), ...(last.time ? { time: last.time } : {}) } : undefined;
    const history = job.attempts;
    const refused = history ? history.unauthenticated + history.permissionDenied : 0;
    if (history && refused > 0) {
      const attempts = { ...history, ...(job.lastAttemptTime ? { lastAttemptTime: job.lastAttemptTime } : {}), lastAttemptStatus: lastAttempt?.code ?? 'OK' };
      const counts = { refused, window: history.window, unauthenticated: history.unauthenticated, permissionDenied: history.permissionDenied, last: history.lastFailureTime! };
      if (fixedSince(job.lastAttemptTime, history.lastFailureTime, last?.code)) {
        return [{ status: 'pass', messageId: 'fixedSince', data: { ...counts, lastAttemptTime: job.lastAttemptTime! }, evidence: { attempts } }];
      }
      const lastText = lastAttempt ? `the last attempt ended ${lastAttempt.code}` : job.lastAttemptTime ? `the last attempt (${job.lastAttemptTime}) reported no status` : 'the inventory shows no later attempt';
      return [
        {
          status: 'fail',
          messageId: 'attemptsRefused',
          data: { ...counts, first: history.firstFailureTime!, lastAttempt: lastText },
          // One finding per job and kind of refusal, whatever the counts: they change every run.
          cause: history.lastFailure === '401' || history.lastFailure === 'UNAUTHENTICATED' ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED',
          evidence: { attempts, ...(lastRefused ? { lastAttempt } : {}) },
          joinTo: CONFIG_RULES_EXPLAINING_AUTH_FAILURES,
          joinRulesDidNotRunMessageId: 'attemptsRefusedUnexplained',
        },
      ];
    }
    if (!lastRefused) return PASSED;
    const code = lastAttempt!.code;
    return [
      {
        status: 'fail',
        messageId: 'authFailed',
        data: { code, detail: message ? ` ("${message}")` : '' },
        cause: code,
        evidence: { lastAttempt, ...(history ? { attempts: { ...history, lastAttemptStatus: code } } : {}) },
        joinTo: CONFIG_RULES_EXPLAINING_AUTH_FAILURES,
        joinRulesDidNotRunMessageId: 'authFailedUnexplained',
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

/**
 * A job is fixed when its last attempt started after the last refused one finished and ended
 * well: `lastAttemptTime` is when an attempt started, a log entry's time is when it finished.
 */
function fixedSince(lastAttemptTime: string | undefined, lastFailureTime: string | undefined, lastCode: number | undefined): boolean {
  if (!lastAttemptTime || !lastFailureTime || (lastCode !== undefined && lastCode !== 0)) return false;
  const started = Date.parse(lastAttemptTime);
  return !Number.isNaN(started) && started > Date.parse(lastFailureTime);
}
