import type { Rule } from '../engine/define-rule.js';

export function listRules(rules: readonly Rule[]): string {
  const w = Math.max(...rules.map((r) => r.meta.id.length));
  const lines = rules.map((r) => `${r.meta.id.padEnd(w)}  ${r.meta.severity.padEnd(8)}  ${r.meta.title}`);
  return `${'RULE'.padEnd(w)}  SEVERITY  TITLE\n${lines.join('\n')}\n\nRun 'cronwarden explain RULE_ID' for details and fixes.\n`;
}

export function explainRule(rule: Rule): string {
  const m = rule.meta;
  const indent = (text: string): string => text.split('\n').map((l) => `    ${l}`).join('\n');
  const parts = [
    `${m.id} — ${m.title}`,
    `Default severity: ${m.severity}. Applies to targets: ${m.appliesTo === 'all' ? 'all' : m.appliesTo.join(', ')}.`,
    '',
    m.docs.description,
    '',
    `Why: ${m.docs.rationale}`,
  ];
  if (m.docs.limitations?.length) parts.push('', 'Limits (reported as unverifiable or low severity):', ...m.docs.limitations.map((l) => `  - ${l}`));
  parts.push(
    '',
    'Fix by hand with gcloud:',
    indent(m.docs.fix.gcloud),
    '',
    'Fix with Terraform:',
    indent(m.docs.fix.terraform),
    '',
    `Automatic remediation: ${m.remediation.automatic ? 'yes' : 'no'} — ${m.remediation.summary}`,
    '',
    'Sources:',
    ...m.docs.sources.map((s) => `  - ${s}`),
  );
  return `${parts.join('\n')}\n`;
}
