import type { IamMemberChange, JobTokenChange } from '../engine/remedy.js';
import type { ChangeRecord } from './record.js';

/** Who and what a change belongs to: copied into its record. */
export interface WorkOrigin {
  planId: string;
  entryId: string;
  findingId: string;
  scanId: string;
  ruleId: string;
  job: string;
  terraform: string;
  action: 'apply' | 'undo';
}

/**
 * One change to make, from a plan entry (apply) or an applied record (undo). `recheck` re-judges
 * the rule on the live state just read and returns why the finding no longer holds, if it does
 * not; undo has none (there is no finding to hold, only the before-values to match).
 */
export type WorkItem =
  | { origin: WorkOrigin; change: JobTokenChange; recheck?: (liveJob: Record<string, unknown>) => string | undefined }
  | { origin: WorkOrigin; change: IamMemberChange; recheck?: (livePolicy: import('../inventory/asset-record.js').IamPolicyJson, liveJob: Record<string, unknown>) => string | undefined };

export type JobItem = Extract<WorkItem, { change: JobTokenChange }>;
export type PolicyItem = Extract<WorkItem, { change: IamMemberChange }>;

export interface ExecutionContext {
  actor: string;
  now: () => Date;
  emit: (record: ChangeRecord) => void;
}

export function makeRecord(
  ctx: ExecutionContext,
  item: WorkItem,
  result: ChangeRecord['result'],
  reason: string,
  attempts: number,
  change: ChangeRecord['change'] = item.change,
): ChangeRecord {
  const o = item.origin;
  const record: ChangeRecord = {
    kind: 'cronwarden.remediation-record',
    recordVersion: 1,
    result,
    reason,
    action: o.action,
    planId: o.planId,
    entryId: o.entryId,
    findingId: o.findingId,
    scanId: o.scanId,
    ruleId: o.ruleId,
    job: o.job,
    change: structuredClone(change),
    terraform: o.terraform,
    actor: ctx.actor,
    at: ctx.now().toISOString(),
    attempts,
  };
  ctx.emit(record);
  return record;
}
