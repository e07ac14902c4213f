import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding, Severity } from '../findings/schema.js';
import { ruleInfoOf, type ReportInput, type RuleInfo } from './report-input.js';

/**
 * SARIF 2.1.0 for code-scanning tools: one rule per cronwarden rule (help, help URI, default
 * level, and `properties.security-severity`, where GitHub reads the severity), one result per
 * fail or unverifiable finding. A job is not a file: its location is its full resource name, as
 * both the logical location and the artifact URI (as Prowler does), which upload endpoints require.
 */

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub's bands: ≥9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export function fullJobResourceName(jobName: string): string {
  return `//cloudscheduler.googleapis.com/${jobName}`;
}

function descriptor(info: RuleInfo): ReportingDescriptor {
  const helpText = [info.description, info.rationale ?? '', `Fix: ${info.remediation}`].filter(Boolean).join('\n\n');
  return {
    id: info.id,
    name: info.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: info.title },
    fullDescription: { text: info.description },
    help: { text: helpText, markdown: helpText },
    ...(info.docsUrl ? { helpUri: info.docsUrl } : {}),
    defaultConfiguration: { level: LEVEL[info.severity] },
    properties: { 'security-severity': SECURITY_SEVERITY[info.severity], tags: ['security', 'cloud-scheduler'], precision: 'high' },
  };
}

/**
 * SARIF's `artifactLocation.uri` is a URI reference (RFC 3986): a name from a damaged or forged
 * inventory may hold spaces, quotes or control characters, which a validating consumer would
 * refuse the whole upload for. Every byte outside the characters a path may hold is
 * percent-encoded (UTF-8); real job names, `[A-Za-z0-9_-]` ids, come out unchanged.
 */
export function uriReference(text: string): string {
  if (!URI_UNSAFE.test(text)) return text;
  let out = '';
  for (const ch of text) {
    if (!URI_UNSAFE.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
/** Not an unreserved, sub-delim, `:`, `@` or `/` character (RFC 3986 pchar and path); `%` itself is encoded too. */
const URI_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

function result(f: Finding, ruleIndex: number): Result {
  const name = fullJobResourceName(f.job.name);
  const uri = uriReference(name);
  const jobId = f.job.name.slice(f.job.name.lastIndexOf('/') + 1);
  const fix = [f.remediation.summary, ...(f.remediation.commands ?? []).map((c) => `  ${c}`)].join('\n');
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${f.status === 'unverifiable' ? 'Unverifiable: ' : ''}${f.message}\nFix: ${fix}` },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri } },
        logicalLocations: [{ name: jobId, fullyQualifiedName: name, kind: 'resource' }],
      },
    ],
    partialFingerprints: { 'findingId/v1': f.findingId },
    properties: {
      status: f.status,
      severity: f.severity,
      'security-severity': SECURITY_SEVERITY[f.severity],
      project: f.job.project,
      target: f.target.resource ?? f.target.url ?? null,
      ...(f.remediation.commands ? { commands: f.remediation.commands } : {}),
      ...(f.remediation.terraform ? { terraform: f.remediation.terraform } : {}),
    },
  };
}

/** The SARIF log, written as pieces: the head, then each result, then the tail. */
export function* renderSarif(input: ReportInput): Generator<string> {
  const shown = input.findings.filter((f) => f.status !== 'pass');
  // Every rule that ran (or has findings), in a stable order; results point at them by index.
  const ids = new Set<string>(input.rules.keys());
  for (const f of shown) ids.add(f.ruleId);
  const order = [...ids].sort();
  const index = new Map(order.map((id, i) => [id, i]));
  const rules = order.map((id) => {
    const f = shown.find((x) => x.ruleId === id);
    return descriptor(input.rules.get(id) ?? ruleInfoOf(input, f!));
  });
  const partial = input.summaries.some((s) => s.partial);
  const notes = [
    ...input.summaries.flatMap((s) => s.coverageGaps.map((g) => `Coverage gap: ${g.scope}: ${g.reason}`)),
    ...input.withoutSummary.map((file) => `${file}: findings only; coverage and partial-scan information was not available`),
    ...input.problems,
  ];
  const log: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'cronwarden', version: input.version, semanticVersion: input.version, rules } },
        invocations: [
          {
            executionSuccessful: !partial && input.problems.length === 0,
            endTimeUtc: input.generatedAt,
            toolExecutionNotifications: notes.map((text) => ({ message: { text }, level: 'warning' as const })),
          },
        ],
        results: [],
        properties: { partial, coverageInformationAvailable: input.withoutSummary.length === 0 },
      },
    ],
  };
  // The log without results, cut where the results go: results are written one by one.
  const text = JSON.stringify(log, null, 2);
  const marker = '"results": []';
  const at = text.indexOf(marker);
  yield `${text.slice(0, at)}"results": [`;
  for (let i = 0; i < shown.length; i++) {
    const f = shown[i]!;
    yield `${i === 0 ? '\n' : ',\n'}${JSON.stringify(result(f, index.get(f.ruleId)!))}`;
  }
  yield `${shown.length > 0 ? '\n      ' : ''}]${text.slice(at + marker.length)}\n`;
}
