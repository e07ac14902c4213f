import { describe, expect, it } from 'vitest';
import rule, { CONFIG_RULES_EXPLAINING_AUTH_FAILURES } from '../../rules/last-attempt-authorized.js';
import type { RuleContext } from '../../src/engine/define-rule.js';
import type { AttemptHistory, ScheduledJob } from '../../src/model/types.js';

const ctx = {} as RuleContext;
const job = (over: Partial<ScheduledJob>): ScheduledJob => ({
  name: 'projects/p/locations/l/jobs/j',
  projectId: 'p',
  location: 'l',
  jobId: 'j',
  state: 'ENABLED',
  source: { assetName: '//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/j', origin: 'test' },
  ...over,
});
const history = (over: Partial<AttemptHistory>): AttemptHistory => ({ window: '7d', since: '2026-11-23T04:00:00.000Z', unauthenticated: 0, permissionDenied: 0, ...over });
const refused = history({ permissionDenied: 2, unauthenticated: 1, firstFailureTime: '2026-11-24T03:00:02.000Z', lastFailureTime: '2026-11-26T03:00:02.000Z', lastFailure: '403' });

describe('last-attempt-authorized with execution-log evidence', () => {
  it('says "fixed since" when the last attempt started after the last refusal and succeeded', () => {
    const [r] = rule.evaluate(job({ attempts: refused, lastAttemptTime: '2026-11-29T03:00:01Z' }), ctx);
    expect(r).toMatchObject({ status: 'pass', messageId: 'fixedSince', evidence: { attempts: { permissionDenied: 2, unauthenticated: 1, lastAttemptStatus: 'OK', lastAttemptTime: '2026-11-29T03:00:01Z' } } });
  });

  it('fails when the last attempt was itself refused, reported no time, or started before the last refusal ended', () => {
    const cases: Partial<ScheduledJob>[] = [
      { lastAttemptTime: '2026-11-29T03:00:01Z', lastAttempt: { code: 7, time: '2026-11-29T03:00:01Z' } },
      // Observed: a 401 shows in Job.status as code 2, UNKNOWN; the logs still tell it was refused.
      { lastAttemptTime: '2026-11-29T03:00:01Z', lastAttempt: { code: 2 } },
      {},
      { lastAttemptTime: '2026-11-26T03:00:01Z' },
    ];
    for (const c of cases) {
      const [r] = rule.evaluate(job({ attempts: refused, ...c }), ctx);
      expect(r, JSON.stringify(c)).toMatchObject({ status: 'fail', messageId: 'attemptsRefused', cause: 'PERMISSION_DENIED', joinTo: CONFIG_RULES_EXPLAINING_AUTH_FAILURES });
      expect(r!.evidence!.attempts).toMatchObject({ permissionDenied: 2, unauthenticated: 1, firstFailureTime: '2026-11-24T03:00:02.000Z' });
    }
  });

  it('keeps one finding id per kind of refusal, whatever the counts', () => {
    const [a] = rule.evaluate(job({ attempts: refused }), ctx);
    const [b] = rule.evaluate(job({ attempts: { ...refused, permissionDenied: 9 } }), ctx);
    const [c] = rule.evaluate(job({ attempts: { ...refused, lastFailure: '401' } }), ctx);
    expect(a!.cause).toBe(b!.cause);
    expect(c!.cause).toBe('UNAUTHENTICATED');
  });

  it('judges from Job.status when the logs show no refusal, and shows the zero counts', () => {
    expect(rule.evaluate(job({ attempts: history({}) }), ctx)).toEqual([{ status: 'pass', messageId: 'ok' }]);
    const [r] = rule.evaluate(job({ attempts: history({}), lastAttempt: { code: 16 } }), ctx);
    expect(r).toMatchObject({ status: 'fail', messageId: 'authFailed', evidence: { lastAttempt: { code: 'UNAUTHENTICATED' }, attempts: { unauthenticated: 0, permissionDenied: 0 } } });
  });

  it('without the evidence, judges as before', () => {
    const [r] = rule.evaluate(job({ lastAttempt: { code: 7 } }), ctx);
    expect(r).toMatchObject({ status: 'fail', messageId: 'authFailed' });
    expect(r!.evidence).not.toHaveProperty('attempts');
  });
});
