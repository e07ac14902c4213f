import type { PolicyApi } from '../engine/remedy.js';
import { livePolicyJson } from './context.js';
import { CODE, codeName, errorText, grpcCode, missingPermission, type IamPolicy, type RemediationApis } from './google-apis.js';
import { backoffMs, sleep, type RetryPolicy, type RunGuard } from './guard.js';
import { makeRecord, type ExecutionContext, type PolicyItem } from './work-item.js';

export interface PolicyExecutorDeps {
  apis: RemediationApis;
  guard: RunGuard;
  retry: RetryPolicy;
  ctx: ExecutionContext;
}

type Binding = NonNullable<IamPolicy['bindings']>[number];

/** Whether the member holds the role through an unconditional binding (the only kind remediation writes). */
export function holdsUnconditionally(policy: IamPolicy, role: string, member: string): boolean {
  return (policy.bindings ?? []).some((b) => b.role === role && !b.condition && (b.members ?? []).some((m) => m.toLowerCase() === member.toLowerCase()));
}

/**
 * The policy with members added to (or removed from) the unconditional binding of a role, and
 * nothing else changed: other bindings, conditions, audit configs, `version` and `etag` stay as
 * read, so that a concurrent change makes the write fail instead of being overwritten.
 */
export function withMembers(policy: IamPolicy, edits: readonly { role: string; member: string; present: boolean }[]): IamPolicy {
  const bindings: Binding[] = (policy.bindings ?? []).map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  for (const { role, member, present } of edits) {
    let binding = bindings.find((b) => b.role === role && !b.condition);
    if (present) {
      if (!binding) bindings.push((binding = { role, members: [] }));
      if (!binding.members!.some((m) => m.toLowerCase() === member.toLowerCase())) binding.members!.push(member);
    } else if (binding) {
      binding.members = binding.members!.filter((m) => m.toLowerCase() !== member.toLowerCase());
    }
  }
  return { ...policy, bindings: bindings.filter((b) => (b.members ?? []).length > 0) };
}

const CONFLICT = new Set<number>([CODE.ABORTED, CODE.FAILED_PRECONDITION]);

/**
 * Every change to one resource's policy in one read-modify-write, however many members it adds:
 * read (version 3), re-check each change on the live policy, write with the etag read. On an etag
 * conflict (ABORTED, or FAILED_PRECONDITION) the whole cycle is redone after a backoff, a bounded
 * number of times; the changes keep the cap slots they took.
 */
export async function runPolicyItems(api: PolicyApi, resource: string, items: readonly PolicyItem[], deps: PolicyExecutorDeps): Promise<void> {
  const { apis, guard, ctx } = deps;
  let pending = [...items];
  const reserved = new Set<PolicyItem>();
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (guard.stopped) {
      for (const item of pending) makeRecord(ctx, item, 'skipped', `not started: ${guard.stopped}`, attempt - 1);
      return;
    }
    let policy: IamPolicy;
    try {
      policy = await apis.getPolicy(api, resource);
    } catch (err) {
      return failAll(pending, deps, err, { op: 'getPolicy', api }, attempt - 1, resource);
    }
    const json = livePolicyJson(policy as never);
    const write: PolicyItem[] = [];
    for (const item of pending) {
      const { role, member, after } = item.change;
      // A yes/no before-value: not what the change makes means it is what the plan recorded.
      const present = holdsUnconditionally(policy, role, member);
      if (present === after.memberPresent) {
        makeRecord(ctx, item, 'skipped', `already in place: ${member} ${present ? 'holds' : 'does not hold'} ${role} on ${resource}`, attempt - 1);
        continue;
      }
      // A planned grant is judged on the job as it is now: one moved to another account needs none.
      let liveJob: Record<string, unknown> = {};
      if (item.recheck && item.origin.action === 'apply') {
        try {
          liveJob = await apis.getJob(item.origin.job);
        } catch (err) {
          const code = grpcCode(err);
          makeRecord(ctx, item, code === CODE.NOT_FOUND ? 'skipped' : 'failed', `GetJob ${item.origin.job} ${code === CODE.NOT_FOUND ? 'NOT_FOUND: the job no longer exists' : `failed with ${codeName(err)}`}: ${errorText(err)}`, attempt - 1);
          continue;
        }
      }
      const gone = item.recheck?.(json, liveJob);
      if (gone) {
        makeRecord(ctx, item, 'skipped', `the finding no longer holds on the live policy: ${gone}`, attempt - 1);
        continue;
      }
      if (!reserved.has(item)) {
        if (guard.reserve(1) === 0) {
          makeRecord(ctx, item, 'skipped', `not started: --max-changes ${guard.maxChanges} reached`, attempt - 1);
          continue;
        }
        reserved.add(item);
      }
      write.push(item);
    }
    if (write.length === 0) return;
    const next = withMembers(
      policy,
      write.map((i) => ({ role: i.change.role, member: i.change.member, present: i.change.after.memberPresent })),
    );
    try {
      const updated = await apis.setPolicy(api, resource, next);
      for (const item of write) {
        const { role, member, after } = item.change;
        const ok = holdsUnconditionally(updated, role, member) === after.memberPresent;
        makeRecord(
          ctx,
          item,
          ok ? 'applied' : 'failed',
          ok
            ? `setIamPolicy (etag-guarded, attempt ${attempt}) answered with ${member} ${after.memberPresent ? 'holding' : 'no longer holding'} ${role} on ${resource}`
            : `setIamPolicy answered, but the policy does not show the change`,
          attempt,
        );
      }
      return;
    } catch (err) {
      const code = grpcCode(err);
      if (code !== undefined && CONFLICT.has(code) && attempt < deps.retry.attempts) {
        // Someone else changed the policy between our read and write: read it again and redo.
        pending = write;
        await sleep(backoffMs(deps.retry, attempt));
        continue;
      }
      if (code !== undefined && CONFLICT.has(code)) {
        for (const item of write) makeRecord(ctx, item, 'failed', `setIamPolicy kept conflicting (${codeName(err)}) after ${attempt} read-modify-write attempts: ${errorText(err)}`, attempt);
        return;
      }
      return failAll(write, deps, err, { op: 'setPolicy', api }, attempt, resource);
    }
  }
}

function failAll(items: readonly PolicyItem[], deps: PolicyExecutorDeps, err: unknown, operation: { op: 'getPolicy' | 'setPolicy'; api: PolicyApi }, attempts: number, resource: string): void {
  const code = grpcCode(err);
  const what = operation.op === 'getPolicy' ? 'getIamPolicy' : 'setIamPolicy';
  let reason: string;
  if (code === CODE.PERMISSION_DENIED) reason = `${what} PERMISSION_DENIED on ${resource}: ${missingPermission(operation, errorText(err))} (${errorText(err)})`;
  else if (code === CODE.NOT_FOUND) reason = `${what} NOT_FOUND: ${resource} no longer exists (${errorText(err)})`;
  else {
    deps.guard.stop(`${what} on ${resource} failed with ${codeName(err)}`);
    reason = `${what} failed with ${codeName(err)}: ${errorText(err)}; no further change is started`;
  }
  for (const item of items) makeRecord(deps.ctx, item, 'failed', reason, attempts);
}
