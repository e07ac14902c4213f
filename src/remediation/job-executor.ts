import { CODE, codeName, errorText, grpcCode, missingPermission, type RemediationApis } from './google-apis.js';
import { backoffMs, sleep, type RetryPolicy, type RunGuard } from './guard.js';
import { describeAuthorization, liveAuthorization, sameAuthorization, tokenAccountOf, tokenUpdateMask, tokenUpdateRequest } from './job-token.js';
import { makeRecord, type ExecutionContext, type JobItem } from './work-item.js';

type Json = Record<string, unknown>;

/** Errors after which UpdateJob may not have finished: the job can be left UPDATE_FAILED (GCP-FACTS §1, §16). */
const MAYBE_UNFINISHED = new Set<number>([CODE.UNAVAILABLE, CODE.DEADLINE_EXCEEDED, CODE.INTERNAL, CODE.UNKNOWN, CODE.ABORTED]);

export interface JobExecutorDeps {
  apis: RemediationApis;
  guard: RunGuard;
  retry: RetryPolicy;
  ctx: ExecutionContext;
}

/** One job's changes, one after the other: each is checked against the job as it is then. */
export async function runJobItems(items: readonly JobItem[], deps: JobExecutorDeps): Promise<void> {
  for (const item of items) await runJobItem(item, deps);
}

async function runJobItem(item: JobItem, deps: JobExecutorDeps): Promise<void> {
  const { apis, guard, ctx } = deps;
  const { before, after, job } = item.change;
  if (guard.stopped) return void makeRecord(ctx, item, 'skipped', `not started: ${guard.stopped}`, 0);
  let live: Json;
  try {
    live = await apis.getJob(job);
  } catch (err) {
    return void failure(item, deps, err, { op: 'getJob' }, 0);
  }
  const current = liveAuthorization(live);
  if (sameAuthorization(current, after)) return void makeRecord(ctx, item, 'skipped', `already in place: the job sends ${describeAuthorization(after)}`, 0);
  if (!sameAuthorization(current, before)) {
    return void makeRecord(
      ctx,
      item,
      'skipped',
      `the job changed since the plan: it sent ${describeAuthorization(before)}, it now sends ${describeAuthorization(current)}; plan again`,
      0,
      { ...item.change, before: current },
    );
  }
  const gone = item.recheck?.(live);
  if (gone) return void makeRecord(ctx, item, 'skipped', `the finding no longer holds on the live job: ${gone}`, 0);
  if (guard.reserve(1) === 0) return void makeRecord(ctx, item, 'skipped', `not started: --max-changes ${guard.maxChanges} reached`, 0);

  const paths = tokenUpdateMask(current, after);
  const request = tokenUpdateRequest(live, after);
  for (let attempt = 1; ; attempt++) {
    try {
      const updated = await apis.updateJob(request, paths);
      // The write's response is the verification: it is the job as Scheduler now holds it.
      const now = liveAuthorization(updated);
      if (!sameAuthorization(now, after)) {
        guard.stop(`UpdateJob on ${job} answered with ${describeAuthorization(now)}, not the change asked for`);
        return void makeRecord(ctx, item, 'failed', `UpdateJob answered, but the job sends ${describeAuthorization(now)}, not ${describeAuthorization(after)}`, attempt);
      }
      return void makeRecord(ctx, item, 'applied', `UpdateJob (mask ${paths.join(', ')}) answered with the job sending ${describeAuthorization(now)}`, attempt);
    } catch (err) {
      const code = grpcCode(err);
      if (code === undefined || !MAYBE_UNFINISHED.has(code)) return void failure(item, deps, err, { op: 'updateJob', tokenAccount: tokenAccountOf(after) }, attempt);
      // The update may or may not have landed, and may have left the job UPDATE_FAILED: look.
      let state = 'unknown';
      try {
        const check = await apis.getJob(job);
        state = String(check.state ?? 'unknown');
        const seen = liveAuthorization(check);
        if (state !== 'UPDATE_FAILED' && sameAuthorization(seen, after)) {
          return void makeRecord(ctx, item, 'applied', `UpdateJob answered ${codeName(err)}, but GetJob shows the change made and the job ${state}`, attempt);
        }
        // Someone else changed the token meanwhile: sending the update again would overwrite it.
        if (!sameAuthorization(seen, current) && !sameAuthorization(seen, after)) {
          return void makeRecord(
            ctx,
            item,
            'skipped',
            `UpdateJob answered ${codeName(err)}, and the job changed meanwhile: it now sends ${describeAuthorization(seen)}; not overwritten, plan again`,
            attempt,
            { ...item.change, before: seen },
          );
        }
      } catch {
        // Reported below with the update's own error.
      }
      if (attempt < deps.retry.attempts) {
        await sleep(backoffMs(deps.retry, attempt));
        continue;
      }
      const left =
        state === 'UPDATE_FAILED'
          ? ': the job is left UPDATE_FAILED and does not run until an update succeeds; run fix apply again, or update it by hand'
          : ` (job state ${state})`;
      guard.stop(`UpdateJob kept failing with ${codeName(err)}`);
      return void makeRecord(ctx, item, 'failed', `UpdateJob failed ${attempt} times, last with ${codeName(err)}: ${errorText(err)}${left}`, attempt);
    }
  }
}

/** A failed call: PERMISSION_DENIED and NOT_FOUND concern this change only; anything else stops the run. */
function failure(item: JobItem, deps: JobExecutorDeps, err: unknown, operation: Parameters<typeof missingPermission>[0], attempts: number): void {
  const code = grpcCode(err);
  const what = operation.op === 'getJob' ? 'GetJob' : 'UpdateJob';
  if (code === CODE.PERMISSION_DENIED) {
    return void makeRecord(deps.ctx, item, 'failed', `${what} PERMISSION_DENIED: ${missingPermission(operation, errorText(err))} (${errorText(err)})`, attempts);
  }
  if (code === CODE.NOT_FOUND) return void makeRecord(deps.ctx, item, 'failed', `${what} NOT_FOUND: the job no longer exists (${errorText(err)})`, attempts);
  deps.guard.stop(`${what} on ${item.change.job} failed with ${codeName(err)}`);
  makeRecord(deps.ctx, item, 'failed', `${what} failed with ${codeName(err)}: ${errorText(err)}; no further change is started`, attempts);
}
