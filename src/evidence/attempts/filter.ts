/** Scheduler's execution log (GCP-FACTS §5, §17): one entry per attempt start and one per finish. */
export const EXECUTIONS_LOG_ID = 'cloudscheduler.googleapis.com/executions';
export const ATTEMPT_FINISHED_TYPE = 'type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished';

/**
 * The server-side filter for refused attempts since `since`: only those are read, since counting
 * successes too would cost a call per page of every job's runs. Strings are compared without
 * regard to case by Logging; the status names are upper case as Scheduler writes them.
 */
export function refusedAttemptsFilter(since: Date, until?: Date): string {
  return [
    'resource.type="cloud_scheduler_job"',
    `log_id("${EXECUTIONS_LOG_ID}")`,
    `jsonPayload."@type"="${ATTEMPT_FINISHED_TYPE}"`,
    '(httpRequest.status=(401 OR 403) OR jsonPayload.status=("UNAUTHENTICATED" OR "PERMISSION_DENIED"))',
    `timestamp>="${since.toISOString()}"`,
    // An entry stamped after the scan began (a skewed clock, a forged entry) is not in the window.
    ...(until ? [`timestamp<="${until.toISOString()}"`] : []),
  ].join(' AND ');
}

/** `7d`, `36h`, `90m` → milliseconds; undefined when not of that form. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)([dhm])$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return n > 0 ? n * unit : undefined;
}
