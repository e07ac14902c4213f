import { FINDING_SCHEMA_VERSION } from '../findings/schema.js';
import type { OutgoingMessage } from '../sinks/pubsub/message.js';
import { jobIdOf } from '../sinks/pubsub/message.js';
import type { ChangeRecord } from './record.js';

export const REMEDIATION_EVENTS = { applied: 'remediation.applied', skipped: 'remediation.skipped', failed: 'remediation.failed' } as const;

/**
 * A change record in its topic form (schemas/finding.proto, `remediationRecord`): the before and
 * after values travel as JSON strings, as `evidenceJson` does, because a topic schema cannot
 * describe their union of shapes.
 */
export function remediationWire(r: ChangeRecord) {
  const c = r.change;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    scanId: r.scanId,
    findingId: r.findingId,
    ruleId: r.ruleId,
    remediationRecord: {
      recordVersion: r.recordVersion,
      result: r.result,
      reason: r.reason,
      action: r.action,
      planId: r.planId,
      entryId: r.entryId,
      job: r.job,
      changeKind: c.kind,
      resource: c.kind === 'job-token' ? c.job : c.resource,
      beforeJson: JSON.stringify(c.before),
      afterJson: JSON.stringify(c.after),
      ...(c.kind === 'iam-member' ? { role: c.role, member: c.member } : {}),
      terraform: r.terraform,
      actor: r.actor,
      at: r.at,
      attempts: r.attempts,
    },
  };
}

export function remediationMessage(r: ChangeRecord): OutgoingMessage {
  const project = /^projects\/([^/]+)/.exec(r.job)?.[1] ?? '';
  return {
    data: Buffer.from(JSON.stringify(remediationWire(r))),
    attributes: {
      eventType: REMEDIATION_EVENTS[r.result],
      schemaVersion: String(FINDING_SCHEMA_VERSION),
      scanId: r.scanId,
      findingId: r.findingId,
      ruleId: r.ruleId,
      planId: r.planId,
      entryId: r.entryId,
      action: r.action,
      changeKind: r.change.kind,
      projectId: project,
      jobId: jobIdOf(r.job),
    },
  };
}
