import { createHash } from 'node:crypto';
import { FINDING_SCHEMA_VERSION, FindingSchema, SEVERITIES, type Finding } from '../../src/findings/schema.js';
import type { ScanSummary } from '../../src/scan/summary.js';
import { countFinding } from '../../src/scan/run-scan.js';

const RULES = ['http-target-uses-oidc', 'oidc-audience-matches-target', 'oidc-sa-can-invoke-target', 'token-sa-not-default-compute'];
const LOCATIONS = ['us-central1', 'europe-west1', 'asia-northeast1'];

/**
 * The i-th of a varied set of findings that pass `FindingSchema`: statuses, severities and target
 * kinds rotate; some have a null job URI and target; evidence holds strings, booleans, numbers,
 * arrays, nested objects and non-ASCII text.
 */
export function aFinding(i: number, scanId = 'scan-0001', overrides: Partial<Finding> = {}): Finding {
  const project = `proj-${String(i % 7).padStart(3, '0')}-prod`;
  const location = LOCATIONS[i % LOCATIONS.length]!;
  const jobId = `nightly-export_${i}`;
  const ruleId = RULES[i % RULES.length]!;
  const status = i % 5 === 4 ? 'unverifiable' : 'fail';
  const noTarget = i % 11 === 3;
  const url = `https://svc-${i}-a1b2c3d4e5-uc.a.run.app/run?x=${i}`;
  const finding: Finding = {
    schemaVersion: FINDING_SCHEMA_VERSION,
    findingId: createHash('sha256').update(`${ruleId}\n${jobId}\n${i}`).digest('hex').slice(0, 32),
    scanId,
    ruleId,
    status,
    severity: SEVERITIES[i % 4]!,
    title: 'HTTP target sends an OIDC token',
    message: `Job ${jobId} calls ${noTarget ? 'nothing known' : url} without an OIDC token — «${i}»`,
    job: {
      name: `projects/${project}/locations/${location}/jobs/${jobId}`,
      project,
      location,
      state: i % 9 === 0 ? 'PAUSED' : 'ENABLED',
      uri: noTarget ? null : url,
    },
    target: noTarget
      ? { kind: 'invalid-uri', resource: null, url: null }
      : { kind: i % 2 === 0 ? 'cloud-run' : 'function-gen2', resource: `projects/${project}/locations/${location}/services/svc-${i}`, url },
    evidence: {
      audience: url,
      public: i % 3 === 0,
      attempts: i % 4,
      accepted: [url, `https://svc-${i}.example.com`],
      lastAttempt: { status: 'PERMISSION_DENIED', httpStatus: 403, note: 'ünïcødé "quoted"\n' },
      nothing: null,
    },
    remediation: { summary: 'Set an OIDC token with the service account that may invoke the target.', automaticFix: i % 2 === 0 },
    observedAt: '2026-03-01T06:00:00.000Z',
    ...overrides,
  };
  return FindingSchema.parse(finding);
}

export function someFindings(n: number, scanId = 'scan-0001'): Finding[] {
  return Array.from({ length: n }, (_, i) => aFinding(i, scanId));
}

/** The summary a scan would close its sinks with after producing these findings. */
export function aSummary(findings: readonly Finding[], overrides: Partial<ScanSummary> = {}): ScanSummary {
  const summary: ScanSummary = {
    scanId: findings[0]?.scanId ?? 'scan-0001',
    version: '0.1.0',
    startedAt: '2026-03-01T06:00:00.000Z',
    durationMs: 1234,
    jobsScanned: findings.length,
    assetsRead: findings.length * 4,
    assetsSkippedByType: { 'compute.googleapis.com/Instance': 12 },
    rulesRun: ['http-target-uses-oidc', 'oidc-audience-matches-target'],
    findings: { total: 0, byRule: {}, bySeverity: {}, byStatus: {} },
    unreadableRecords: 1,
    problems: [{ origin: 'export.ndjson:17', message: 'not JSON' }],
    coverageGaps: [{ scope: 'projects/123456', reason: 'IAM policy not in the inventory' }],
    partial: true,
    ...overrides,
  };
  for (const f of findings) countFinding(summary, f);
  return summary;
}

/** The attributes a finding's message must carry. */
export function expectedAttributes(f: Finding): Record<string, string> {
  return {
    eventType: 'finding',
    schemaVersion: '1',
    findingId: f.findingId,
    scanId: f.scanId,
    ruleId: f.ruleId,
    severity: f.severity,
    status: f.status,
    projectId: f.job.project,
    location: f.job.location,
    jobId: f.job.name.split('/jobs/')[1]!,
  };
}
