import { Logging } from '@google-cloud/logging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_API_ENDPOINT_ENV, googleClientOptions } from '../../src/google/client-options.js';
import { runFakeGcpCli } from './fake-gcp/cli.js';
import { startFakeGcp, type FakeGcp } from './fake-gcp/index.js';
import { parseLogFilter } from './fake-gcp/log-filter.js';

const LOG = 'cloudscheduler.googleapis.com%2Fexecutions';
const at = (i: number): string => new Date(Date.UTC(2026, 10, 25, 3, 0, i)).toISOString();
function entry(project: string, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    logName: `projects/${project}/logs/${LOG}`,
    resource: { type: 'cloud_scheduler_job', labels: { project_id: project, location: 'l', job_id: `j${i}` } },
    timestamp: at(i),
    insertId: `id${String(i).padStart(4, '0')}`,
    httpRequest: { status: 403 },
    jsonPayload: { '@type': 'type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished', status: 'PERMISSION_DENIED' },
    ...extra,
  };
}

let fake: FakeGcp;
let logging: Logging;
beforeAll(async () => {
  const seed = [...Array.from({ length: 25 }, (_, i) => entry('p-one', i)), entry('p-two', 0), entry('p-view', 1)];
  // Three entries at one instant, written out of insert_id order.
  for (const id of ['tie-c', 'tie-a', 'tie-b']) seed.push(entry('p-ties', 0, { insertId: id }));
  fake = await startFakeGcp({ logEntries: seed });
  logging = new Logging({ projectId: 'p-one', ...googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: fake.address }) });
});
afterAll(async () => {
  await fake.stop();
});

async function list(req: Record<string, unknown>): Promise<{ ids: string[]; token?: string }> {
  const [entries, next] = (await logging.getEntries({ filter: 'timestamp>="2026-01-01T00:00:00Z"', autoPaginate: false, ...req })) as unknown as [
    { metadata: { insertId?: string } }[],
    { pageToken?: string } | null,
  ];
  return { ids: entries.map((e) => e.metadata.insertId!), ...(next?.pageToken ? { token: next.pageToken } : {}) };
}
async function code(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; details: string };
  }
  throw new Error('expected the call to fail');
}

describe('the fake Logging query language', () => {
  const e = { severity: 'ERROR', httpRequest: { status: 403 }, jsonPayload: { status: 'PERMISSION_DENIED', '@type': 'type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished' } };

  it('compares strings without regard to case', () => {
    expect(parseLogFilter('jsonPayload.status="permission_denied"')(e)).toBe(true);
    expect(parseLogFilter('jsonPayload.status!="Permission_Denied"')(e)).toBe(false);
  });

  it('reads value-level OR, also negated', () => {
    expect(parseLogFilter('httpRequest.status=(401 OR 403)')(e)).toBe(true);
    expect(parseLogFilter('httpRequest.status=(401 OR 500)')(e)).toBe(false);
    expect(parseLogFilter('jsonPayload.status=("UNAUTHENTICATED" OR "PERMISSION_DENIED")')(e)).toBe(true);
    expect(parseLogFilter('httpRequest.status!=(401 OR 403)')(e)).toBe(false);
    expect(() => parseLogFilter('httpRequest.status=(401 AND 403)')).toThrow(/only OR/);
  });

  it('matches regular expressions with =~ and !~, case-sensitive unless (?i)', () => {
    expect(parseLogFilter('jsonPayload."@type"=~"scheduler\\.logging\\.AttemptFinished$"')(e)).toBe(true);
    expect(parseLogFilter('jsonPayload.status=~"denied"')(e)).toBe(false);
    expect(parseLogFilter('jsonPayload.status=~"(?i)denied"')(e)).toBe(true);
    expect(parseLogFilter('jsonPayload.status!~"^UNAUTH"')(e)).toBe(true);
    expect(() => parseLogFilter('jsonPayload.status=~"("')).toThrow(/invalid regular expression/);
  });

  it('refuses functions it does not implement instead of matching nothing', () => {
    expect(() => parseLogFilter('sample(insertId, 0.5)')).toThrow(/not implemented/);
    expect(() => parseLogFilter('ip_in_net(httpRequest.remoteIp, "10.0.0.0/8")')).toThrow(/not implemented/);
  });
});

describe('the fake entries.list', () => {
  it('refuses a page size over 1000 or below 0, over 100 resource names and a filter over 20,000 characters', async () => {
    expect((await code(list({ resourceNames: ['projects/p-one'], pageSize: 1001 }))).code).toBe(3);
    expect((await code(list({ resourceNames: ['projects/p-one'], pageSize: -1 }))).code).toBe(3);
    expect((await list({ resourceNames: ['projects/p-one'], pageSize: 1000 })).ids).toHaveLength(25);
    const names = Array.from({ length: 101 }, (_, i) => `projects/p-${i}`);
    expect((await code(list({ resourceNames: names }))).details).toMatch(/at most 100/);
    expect((await list({ resourceNames: names.slice(0, 100) })).ids).toEqual([]);
    const long = `timestamp>="2026-01-01T00:00:00Z" AND (${Array.from({ length: 1000 }, (_, i) => `jsonPayload.x="${i}"`).join(' OR ')})`;
    expect(long.length).toBeGreaterThan(20_000);
    expect((await code(list({ resourceNames: ['projects/p-one'], filter: long }))).details).toMatch(/at most 20000/);
  });

  it('orders entries of one timestamp by insert_id, both ways', async () => {
    expect((await list({ resourceNames: ['projects/p-ties'], orderBy: 'timestamp asc' })).ids).toEqual(['tie-a', 'tie-b', 'tie-c']);
    expect((await list({ resourceNames: ['projects/p-ties'], orderBy: 'timestamp desc' })).ids).toEqual(['tie-c', 'tie-b', 'tie-a']);
  });

  it('may answer short and empty pages that still carry a token', async () => {
    fake.logging.setPaging({ pageCaps: [3, 0, 10] });
    try {
      const seen: string[] = [];
      const sizes: number[] = [];
      let token: string | undefined;
      do {
        const page = await list({ resourceNames: ['projects/p-one'], pageSize: 1000, orderBy: 'timestamp asc', ...(token ? { pageToken: token } : {}) });
        seen.push(...page.ids);
        sizes.push(page.ids.length);
        token = page.token;
      } while (token);
      expect(sizes.slice(0, 3)).toEqual([3, 0, 10]);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `id${String(i).padStart(4, '0')}`));
    } finally {
      fake.logging.setPaging({});
    }
  });

  it('shows a log view the entries of its projects, and refuses an unknown view', async () => {
    const view = 'projects/central/locations/global/buckets/scheduler/views/all';
    expect((await code(list({ resourceNames: [view] }))).code).toBe(5);
    fake.logging.addView({ name: view, projects: ['p-two', 'p-view'] });
    expect((await list({ resourceNames: [view] })).ids.sort()).toEqual(['id0000', 'id0001']);
  });

  it('adds latency and injected faults like every fake method', async () => {
    fake.setLatency({ 'logging.ListLogEntries': 120 });
    fake.setFaults([{ method: 'ListLogEntries', code: 'PERMISSION_DENIED', scope: 'projects/p-two' }]);
    try {
      const started = Date.now();
      await list({ resourceNames: ['projects/p-one'] });
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      expect((await code(list({ resourceNames: ['projects/p-one', 'projects/p-two'] }))).code).toBe(7);
    } finally {
      fake.setLatency(0);
      fake.setFaults([]);
    }
  });

  it('serves log entry files and log views from the command line', async () => {
    const view = 'projects/acme-logs/locations/global/buckets/scheduler/views/all';
    const own = await runFakeGcpCli(['--seed', 'examples/sample-org', '--log-entries', 'examples/sample-org/evidence/log-entries.scheduler-executions.ndjson', '--log-view', view], () => undefined);
    try {
      const client = new Logging({ projectId: 'acme-prod', ...googleClientOptions({ [GOOGLE_API_ENDPOINT_ENV]: own.address }) });
      const [entries] = (await client.getEntries({ resourceNames: [view], filter: 'timestamp>="2026-01-01T00:00:00Z" AND httpRequest.status=403', autoPaginate: false })) as unknown as [unknown[]];
      expect(entries).toHaveLength(9);
    } finally {
      await own.stop();
    }
  });
});
