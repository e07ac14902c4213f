import { findingId } from '../../engine/judge.js';
import { formatMessage } from '../../engine/define-rule.js';
import type { Finding } from '../../findings/schema.js';
import type { CoverageGap } from '../../inventory/source.js';
import type { Logger } from '../../log/logger.js';
import type { Grant } from '../../model/iam.js';
import type { ScheduledJob } from '../../model/types.js';
import invokeRule from '../../../rules/oidc-sa-can-invoke-target.js';
import type { EvidenceStep } from '../evidence.js';
import { redactDeep, redactText } from '../../text/redact-secrets.js';
import type { CloudIdentityRequester } from './cloud-identity-client.js';
import { MembershipResolver, type MembershipAnswer, type MembershipOptions } from './membership.js';

const INVOKE_RULE = invokeRule.meta.id;
const LAST_ATTEMPT_RULE = 'last-attempt-authorized';

export interface GroupsEvidenceOptions extends Omit<MembershipOptions, 'requester'> {
  requester: CloudIdentityRequester;
  logger: Logger;
}

/**
 * Settles `oidc-sa-can-invoke-target` verdicts that were unverifiable only because a grant went
 * to a group: a membership the account holds makes the finding a pass (the path in evidence);
 * when every such group answers "not a member" and nothing else was in doubt, a fail; any group
 * that cannot be read keeps it unverifiable, with the reason.
 */
export class GroupsEvidence implements EvidenceStep {
  readonly name = 'groups';
  readonly resolver: MembershipResolver;

  constructor(opts: GroupsEvidenceOptions) {
    this.resolver = new MembershipResolver(opts);
  }

  settle(job: ScheduledJob, findings: Finding[]): Finding[] | Promise<Finding[]> {
    const account = job.http?.oidcToken?.serviceAccountEmail;
    const index = account ? findings.findIndex((f) => f.ruleId === INVOKE_RULE && f.status === 'unverifiable' && groupGrants(f).length > 0) : -1;
    if (index === -1) return findings;
    return this.settleOne(job, account!, findings, index);
  }

  private async settleOne(job: ScheduledJob, account: string, findings: Finding[], index: number): Promise<Finding[]> {
    const finding = findings[index]!;
    const ev = finding.evidence as { possibleGrants: Grant[]; gaps?: string[]; reasons: string[]; permission: string; target: string; checkedPolicies: string[] };
    const grants = groupGrants(finding);
    const answers = await Promise.all(grants.map((g) => this.resolver.check(g.group!, account)));
    // One group may grant through several bindings (the service's and its project's): one answer each.
    const groupMembership = [...new Map(grants.map((g, i) => [g.group!.toLowerCase(), describe(g, answers[i]!)])).values()];
    const data = { sa: account, permission: ev.permission, target: ev.target };
    const out = [...findings];

    const held = answers.findIndex((a) => a.result === 'member');
    if (held !== -1) {
      const g = grants[held]!;
      const path = (answers[held] as { path: string[] }).path.join(' → ');
      out[index] = redacted(rebuild(finding, job, account, 'pass', 'grantedViaGroup', { ...data, via: `${g.role} for ${g.member} on ${g.resource}`, path }, {
        grants: [{ resource: g.resource, role: g.role, member: g.member }],
        groupPath: path,
        groupMembership,
      }));
      return out;
    }
    const othersInDoubt = ev.possibleGrants.length > grants.length || (ev.gaps ?? []).length > 0;
    if (!othersInDoubt && answers.every((a) => a.result === 'not-member')) {
      out[index] = redacted(
        rebuild(finding, job, account, 'fail', 'deniedGroupsChecked', { ...data, groups: [...new Set(grants.map((g) => g.member))].join(', ') }, {
          checkedPolicies: ev.checkedPolicies,
          groupMembership,
        }),
      );
      // A refusal in the logs or Job.status is explained by this fail now, as by any configuration fail.
      const alone = out.findIndex((f) => f.ruleId === LAST_ATTEMPT_RULE && f.status === 'fail');
      if (alone !== -1) {
        Object.assign(out[index]!.evidence, out[alone]!.evidence);
        out.splice(alone, 1);
      }
      return out;
    }
    // Still unverifiable: the groups that answered drop out of the reasons; the rest say why.
    const settled = new Set(grants.filter((_, i) => answers[i]!.result === 'not-member').map((g) => g.member));
    const reasons = [
      ...ev.possibleGrants.filter((g) => !settled.has(g.member) || !g.group).map((g) => {
        const a = g.group ? answers[grants.indexOf(g)] : undefined;
        return `${g.member} via ${g.role} on ${g.resource}: ${a?.result === 'unknown' ? a.reason : g.uncertainty}`;
      }),
      ...(ev.gaps ?? []),
    ];
    const template = invokeRule.meta.messages.unverifiable;
    out[index] = redacted({ ...finding, message: formatMessage(template, { ...data, reasons: reasons.join('; ') }), evidence: { ...finding.evidence, reasons, groupMembership } });
    return out;
  }

  gaps(): CoverageGap[] {
    return [];
  }

  stats(): Record<string, number> {
    const c = this.resolver.calls;
    return { pairs: this.resolver.pairs, lookupCalls: c.lookup, checkTransitiveCalls: c.checkTransitive, listCalls: c.list, retries: c.retries };
  }
}

/**
 * The judge redacts what it writes into a finding; a finding settled here gets text from
 * outside it (a Cloud Identity error quoting a request's `Authorization: Bearer …`): redacted
 * the same way, once, before any sink sees it.
 */
function redacted(f: Finding): Finding {
  return { ...f, message: redactText(f.message), evidence: redactDeep(f.evidence) };
}

function groupGrants(f: Finding): Grant[] {
  const possible = (f.evidence as { possibleGrants?: Grant[] }).possibleGrants;
  return Array.isArray(possible) ? possible.filter((g) => typeof g.group === 'string') : [];
}

function describe(g: Grant, a: MembershipAnswer): Record<string, unknown> {
  if (a.result === 'member') return { group: g.group, member: true, path: a.path.join(' → '), how: a.how };
  if (a.result === 'not-member') return { group: g.group, member: false, how: a.how };
  return { group: g.group, member: null, reason: a.reason };
}

function rebuild(
  f: Finding,
  job: ScheduledJob,
  account: string,
  status: 'pass' | 'fail',
  messageId: 'grantedViaGroup' | 'deniedGroupsChecked',
  data: Record<string, string>,
  evidence: Record<string, unknown>,
): Finding {
  return {
    ...f,
    findingId: findingId(INVOKE_RULE, job.name, { status, messageId, cause: account }),
    status,
    severity: status === 'pass' ? 'info' : invokeRule.meta.severity,
    message: formatMessage(invokeRule.meta.messages[messageId], data),
    evidence,
  };
}
