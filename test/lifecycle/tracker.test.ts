import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { bucketOf, type OpenEntry, type StateSnapshot } from '../../src/lifecycle/state.js';
import { LifecycleTracker } from '../../src/lifecycle/tracker.js';

const JOB = 'projects/acme-prod/locations/us-central1/jobs/nightly';
const RULE = 'oidc-sa-can-invoke-target';
const ctx = { interrupted: false, rulesRun: new Set([RULE]), gapCovers: () => false, listedCompletely: () => true };

const finding = (id: string, status: 'fail' | 'unverifiable'): Finding =>
  ({ findingId: id, ruleId: RULE, status, severity: 'high', job: { name: JOB, project: 'acme-prod', location: 'us-central1' }, observedAt: '2026-12-01T03:00:00.000Z' }) as unknown as Finding;

const entry = (over: Partial<OpenEntry> = {}): OpenEntry => ({ ruleId: RULE, severity: 'high', firstSeenAt: '2026-11-01T03:00:00.000Z', jobName: JOB, reported: true, ...over });

function tracker(state: StateSnapshot): LifecycleTracker {
  const t = new LifecycleTracker(state);
  t.startScan({ scanId: 's2', observedAt: '2026-12-01T03:00:00.000Z' });
  t.jobJudged(JOB);
  return t;
}

describe('the lifecycle tracker', () => {
  it('an earlier fail that comes out unverifiable this time is unconfirmed, not resolved', () => {
    const t = tracker({ open: new Map([['a'.repeat(32), entry()]]), resolved: new Map() });
    t.annotate(finding('b'.repeat(32), 'unverifiable'));
    expect(t.resolve(ctx)).toEqual([]);
    const c = t.changes(new Set());
    expect([...c.removeOpen.keys()]).toEqual([]);
  });

  it('tombstones older than 90 days go only with a bucket that is written anyway', () => {
    const old = { resolvedAt: '2026-06-01T00:00:00.000Z', bucket: bucketOf(JOB) };
    const elsewhere = { resolvedAt: '2026-06-01T00:00:00.000Z', bucket: (bucketOf(JOB) + 1) % 256 };
    const t = tracker({ open: new Map(), resolved: new Map([['c'.repeat(32), old], ['d'.repeat(32), elsewhere]]) });
    expect(t.annotate(finding('e'.repeat(32), 'fail')).lifecycle).toBe('new');
    const c = t.changes(new Set());
    expect([...c.removeResolved.keys()]).toEqual(['c'.repeat(32)]);
  });

  it('a finding seen again after its resolution is reopened, and its tombstone removed', () => {
    const t = tracker({ open: new Map(), resolved: new Map([['f'.repeat(32), { resolvedAt: '2026-11-20T00:00:00.000Z', bucket: bucketOf(JOB) }]]) });
    expect(t.annotate(finding('f'.repeat(32), 'fail'))).toMatchObject({ lifecycle: 'reopened', firstSeenAt: '2026-12-01T03:00:00.000Z' });
    const c = t.changes(new Set());
    expect([...c.removeResolved.keys()]).toEqual(['f'.repeat(32)]);
    expect(c.upsertOpen.get('f'.repeat(32))).toMatchObject({ reported: true });
  });

  it('an open finding whose entry did not change is not written', () => {
    const t = tracker({ open: new Map([['a'.repeat(32), entry()]]), resolved: new Map() });
    expect(t.annotate(finding('a'.repeat(32), 'fail'))).toMatchObject({ lifecycle: 'open', firstSeenAt: '2026-11-01T03:00:00.000Z' });
    const c = t.changes(new Set());
    expect(c.upsertOpen.size + c.removeOpen.size + c.upsertResolved.size + c.removeResolved.size).toBe(0);
  });
});
