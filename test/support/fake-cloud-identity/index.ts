import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A group as the fake holds it: its email, owning customer and direct members. */
export interface FakeGroup {
  email: string;
  /** Defaults to the scanner's own customer. */
  customer?: string;
  members: { id: string; type: 'USER' | 'SERVICE_ACCOUNT' | 'GROUP' | 'OTHER' }[];
}

export interface FakeCloudIdentityOptions {
  groups: readonly FakeGroup[];
  /** `premium` answers the transitive methods; `standard` refuses them with 403, as the API does (GCP-FACTS §18). */
  edition: 'premium' | 'standard';
  /** The customer the scanner belongs to: groups of another customer answer 403 to lookup. */
  customer?: string;
  latencyMs?: number;
  /** Members per page of memberships.list at most (the page size asked is honoured below it). */
  pageSize?: number;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Answer these statuses, in order, to the next calls of a path prefix (e.g. `/v1/groups:lookup` → [503]). */
  faults?: Record<string, number[]>;
}

export interface FakeCloudIdentity {
  /** Base URL for CRONWARDEN_CLOUD_IDENTITY_ENDPOINT. */
  readonly url: string;
  readonly calls: { lookup: number; checkTransitive: number; list: number; total: number };
  /** Whether any call carried an authorization header (none should, against the fake). */
  readonly sawAuthorization: boolean;
  stop(): Promise<void>;
}

const OWN = 'C0own';

/**
 * An HTTP fake of the Cloud Identity v1 endpoints the scanner calls: `groups:lookup`,
 * `groups/ID/memberships:checkTransitiveMembership` (premium only) and `groups/ID/memberships`
 * (paged). Errors come as Google's JSON error bodies.
 */
export async function startFakeCloudIdentity(opts: FakeCloudIdentityOptions): Promise<FakeCloudIdentity> {
  const own = opts.customer ?? OWN;
  const byEmail = new Map<string, { id: string; group: FakeGroup }>();
  opts.groups.forEach((g, i) => byEmail.set(g.email.toLowerCase(), { id: `0${(100000 + i).toString(16)}`, group: g }));
  const byId = new Map([...byEmail.values()].map((v) => [v.id, v.group]));
  const calls = { lookup: 0, checkTransitive: 0, list: 0, total: 0 };
  let sawAuthorization = false;
  const faults = new Map(Object.entries(opts.faults ?? {}).map(([k, v]) => [k, [...v]]));

  const transitive = (group: FakeGroup, key: string, seen = new Set<string>()): boolean => {
    if (seen.has(group.email)) return false;
    seen.add(group.email);
    return group.members.some((m) => m.id.toLowerCase() === key || (m.type === 'GROUP' && byEmail.has(m.id.toLowerCase()) && transitive(byEmail.get(m.id.toLowerCase())!.group, key, seen)));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string): void => send(status, { error: { code: status, status: code, message } });
    calls.total++;
    if (req.headers.authorization) sawAuthorization = true;
    for (const [prefix, queue] of faults) {
      if (url.pathname.startsWith(prefix) && queue.length > 0) return error(queue.shift()!, 'UNAVAILABLE', 'injected fault');
    }
    if (req.method !== 'GET') return error(405, 'UNIMPLEMENTED', `${req.method} is not served by this fake`);
    if (url.pathname === '/v1/groups:lookup') {
      calls.lookup++;
      const email = url.searchParams.get('groupKey.id')?.toLowerCase();
      if (!email) return error(400, 'INVALID_ARGUMENT', 'groupKey.id is required');
      const found = byEmail.get(email);
      if (!found) return error(404, 'NOT_FOUND', 'Not found');
      if ((found.group.customer ?? own) !== own) return error(403, 'PERMISSION_DENIED', 'The caller does not have permission');
      return send(200, { name: `groups/${found.id}` });
    }
    const m = /^\/v1\/groups\/([^/:]+)\/memberships(:checkTransitiveMembership)?$/.exec(url.pathname);
    const group = m ? byId.get(m[1]!) : undefined;
    if (!m) return error(404, 'NOT_FOUND', `no such method ${url.pathname}`);
    if (!group) return error(404, 'NOT_FOUND', 'Not found');
    if ((group.customer ?? own) !== own) return error(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    if (m[2]) {
      calls.checkTransitive++;
      if (opts.edition !== 'premium') return error(403, 'PERMISSION_DENIED', 'Transitive membership methods require a Cloud Identity Premium or Google Workspace Enterprise edition');
      const q = /^member_key_id\s*==\s*'([^']+)'$/.exec(url.searchParams.get('query') ?? '');
      if (!q) return error(400, 'INVALID_ARGUMENT', 'query must be member_key_id == \'EMAIL\'');
      return send(200, { hasMembership: transitive(group, q[1]!.toLowerCase()) });
    }
    calls.list++;
    const asked = Number(url.searchParams.get('pageSize') ?? 200);
    const view = url.searchParams.get('view') ?? 'BASIC';
    if (!Number.isInteger(asked) || asked < 0 || asked > (view === 'FULL' ? 500 : 1000)) return error(400, 'INVALID_ARGUMENT', 'page_size out of range');
    const size = Math.min(asked || 200, opts.pageSize ?? Number.MAX_SAFE_INTEGER);
    const offset = Number(url.searchParams.get('pageToken') ?? 0);
    const page = group.members.slice(offset, offset + size).map((mm, i) => ({
      name: `groups/${m[1]}/memberships/${offset + i}`,
      preferredMemberKey: { id: mm.id },
      roles: [{ name: 'MEMBER' }],
      ...(view === 'FULL' ? { type: mm.type } : {}),
    }));
    return send(200, { memberships: page, ...(offset + size < group.members.length ? { nextPageToken: String(offset + size) } : {}) });
  };

  const server = createServer((req, res) => {
    setTimeout(() => handle(req, res), opts.latencyMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get sawAuthorization() {
      return sawAuthorization;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
