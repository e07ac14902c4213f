import type { JobAuthorization } from '../engine/remedy.js';
import { tokenUpdateMask } from './job-token.js';
import type { Plan } from './plan-schema.js';

/** Text from the inventory (names, URLs) shown on a terminal: control characters made visible, never obeyed. */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fields(a: JobAuthorization): Record<string, string> {
  if (a.type === 'oidc') return { 'http_target.oidc_token.service_account_email': a.serviceAccountEmail, 'http_target.oidc_token.audience': a.audience ?? '(unset: the job URI)' };
  if (a.type === 'oauth') return { 'http_target.oauth_token.service_account_email': a.serviceAccountEmail, 'http_target.oauth_token.scope': a.scope ?? '(unset: cloud-platform)' };
  return {};
}

/** The plan as a reviewer reads it: per change, a unified-diff style view of exactly what it touches. */
export function planText(plan: Plan): string {
  const s = terminalSafe;
  const lines = [`Remediation plan ${s(plan.planId)} (scan ${s(plan.scanId)}): ${plan.changes.length} change(s), ${plan.manual.length} left to a person`, ''];
  plan.changes.forEach((e, i) => {
    lines.push(`[${i + 1}/${plan.changes.length}] entry ${e.entryId}  ${s(e.ruleId)}  finding ${e.findingId}`);
    lines.push(`    why: ${s(e.why)}`);
    const c = e.change;
    if (c.kind === 'job-token') {
      lines.push(`    --- job ${s(c.job)} (UpdateJob, mask ${tokenUpdateMask(c.before, c.after).join(', ')})`);
      const before = fields(c.before);
      const after = fields(c.after);
      for (const [k, v] of Object.entries(before)) if (after[k] !== v) lines.push(`    - ${k}: ${s(v)}`);
      for (const [k, v] of Object.entries(after)) if (before[k] !== v) lines.push(`    + ${k}: ${s(v)}`);
      if (c.before.type === 'none') lines.push('    - (no token)');
    } else {
      lines.push(`    --- IAM policy of ${s(c.resource)} (${c.api === 'run' ? 'Cloud Run' : 'Cloud Functions 1st gen'}; read-modify-write with etag; no other binding changes)`);
      lines.push(`    + binding ${s(c.role)}: ${s(c.member)}`);
    }
    lines.push('');
  });
  if (plan.manual.length > 0) {
    lines.push('Left to a person:');
    for (const m of plan.manual) lines.push(`  ${s(m.ruleId)}  ${s(m.job)}: ${s(m.reason)}`);
    lines.push('');
  }
  lines.push('Approve by deleting from "changes" what must not be made, then: cronwarden fix apply PLAN');
  return `${lines.join('\n')}\n`;
}
