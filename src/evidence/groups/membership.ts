import pLimit, { type LimitFunction } from 'p-limit';
import { SlidingWindowLimiter, realTimer, type Timer } from '../../inventory/cai/rate-limiter.js';
import { pairKey } from '../../model/memo-space.js';
import { errorMessage, type CloudIdentityRequester, type HttpAnswer } from './cloud-identity-client.js';

/** A settled or unsettled answer to "is this account a (transitive) member of this group?". */
export type MembershipAnswer =
  | { result: 'member'; path: string[]; how: 'transitive-check' | 'walk' }
  | { result: 'not-member'; how: 'transitive-check' | 'walk' }
  | { result: 'unknown'; reason: string };

export interface MembershipOptions {
  requester: CloudIdentityRequester;
  concurrency?: number;
  callsPerMinute?: number;
  /** Bounds of the walk through nested groups when the transitive check is not available. */
  maxDepth?: number;
  maxGroups?: number;
  maxMembers?: number;
  timer?: Timer;
}

interface Member {
  key: string;
  type: string;
}

type Lookup = { name: string } | { reason: string };
type Listing = { members: Member[] } | { reason: string };

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 4;

/**
 * Answers (group, account) membership through the Cloud Identity Groups API (GCP-FACTS §18):
 * `groups:lookup`, then `memberships:checkTransitiveMembership`; where that answers 403 (the
 * transitive methods need a premium edition), a walk of `memberships.list` through nested
 * groups, bounded in depth and size. Every lookup, listing and answer is remembered for the scan:
 * one answer per pair, one listing per group, whatever the number of jobs that ask.
 */
export class MembershipResolver {
  private readonly answers = new Map<string, Promise<MembershipAnswer>>();
  private readonly lookups = new Map<string, Promise<Lookup>>();
  private readonly listings = new Map<string, Promise<Listing>>();
  /** Unknown until the first transitive check answers; false after a 403 from it. */
  private premium: boolean | undefined;
  /** The first transitive check, which the others wait for: on a standard edition only one is refused. */
  private probe: Promise<unknown> | undefined;
  private readonly limit: LimitFunction;
  private readonly limiter: SlidingWindowLimiter;
  private readonly timer: Timer;
  readonly calls = { lookup: 0, checkTransitive: 0, list: 0, retries: 0 };

  constructor(private readonly opts: MembershipOptions) {
    this.limit = pLimit(opts.concurrency ?? 8);
    this.timer = opts.timer ?? realTimer;
    this.limiter = new SlidingWindowLimiter(opts.callsPerMinute ?? 600, 60_000, this.timer);
  }

  /** Distinct (group, account) pairs asked about. */
  get pairs(): number {
    return this.answers.size;
  }

  get edition(): 'premium' | 'standard' | 'unknown' {
    return this.premium === undefined ? 'unknown' : this.premium ? 'premium' : 'standard';
  }

  check(groupEmail: string, account: string): Promise<MembershipAnswer> {
    const group = groupEmail.toLowerCase();
    const key = pairKey(group, account.toLowerCase());
    let answer = this.answers.get(key);
    if (!answer) {
      answer = this.answer(group, account.toLowerCase()).catch((err: unknown) => ({ result: 'unknown' as const, reason: `Cloud Identity could not be asked: ${(err as Error).message}` }));
      this.answers.set(key, answer);
    }
    return answer;
  }

  private async answer(group: string, account: string): Promise<MembershipAnswer> {
    const found = await this.lookup(group);
    if ('reason' in found) return { result: 'unknown', reason: found.reason };
    if (this.premium === undefined && this.probe) await this.probe.catch(() => undefined);
    if (this.premium !== false) {
      const query = encodeURIComponent(`member_key_id == '${account}'`);
      this.calls.checkTransitive++;
      const call = this.get(`/v1/${found.name}/memberships:checkTransitiveMembership?query=${query}`);
      if (this.premium === undefined) this.probe ??= call;
      const res = await call;
      if (res.status === 200) {
        this.premium = true;
        if (res.body.hasMembership !== true) return { result: 'not-member', how: 'transitive-check' };
        // The check says yes but not through which groups: the walk's listings give the path when
        // it has them; otherwise the path names the group and the account only.
        return { result: 'member', path: [`group:${group}`, `serviceAccount:${account}`], how: 'transitive-check' };
      }
      if (res.status !== 403) return { result: 'unknown', reason: `checkTransitiveMembership on group ${group}: ${errorMessage(res)}` };
      // The group was readable by lookup: a 403 here is the edition (GCP-FACTS §18), so walk instead.
      this.premium = false;
    }
    return this.walk(group, found.name, account);
  }

  /** Breadth first through nested groups; a branch that cannot be read leaves the answer unknown. */
  private async walk(group: string, name: string, account: string): Promise<MembershipAnswer> {
    const maxDepth = this.opts.maxDepth ?? 8;
    const maxGroups = this.opts.maxGroups ?? 2000;
    const maxMembers = this.opts.maxMembers ?? 200_000;
    const seen = new Set<string>([name]);
    let frontier: { name: string; path: string[] }[] = [{ name, path: [`group:${group}`] }];
    const unread: string[] = [];
    let members = 0;
    for (let depth = 0; frontier.length > 0; depth++) {
      if (depth >= maxDepth) return { result: 'unknown', reason: `group ${group} nests deeper than ${maxDepth} levels; membership not settled` };
      const listings = await Promise.all(frontier.map((g) => this.list(g.name)));
      const next: { name: string; path: string[] }[] = [];
      for (const [i, listing] of listings.entries()) {
        const from = frontier[i]!;
        if ('reason' in listing) {
          unread.push(`${from.path.at(-1)} (${listing.reason})`);
          continue;
        }
        members += listing.members.length;
        const hit = listing.members.find((m) => m.key === account);
        if (hit) return { result: 'member', path: [...from.path, `serviceAccount:${account}`], how: 'walk' };
        for (const m of listing.members) if (m.type === 'GROUP') next.push({ name: m.key, path: [...from.path, `group:${m.key}`] });
      }
      if (members > maxMembers) return { result: 'unknown', reason: `group ${group} has more than ${maxMembers} transitive members; membership not settled` };
      const resolved = await Promise.all(next.map(async (n) => ({ n, found: await this.lookup(n.name) })));
      frontier = [];
      for (const { n, found } of resolved) {
        if ('reason' in found) {
          unread.push(`${n.path.at(-1)} (${found.reason})`);
          continue;
        }
        if (seen.has(found.name)) continue;
        seen.add(found.name);
        if (seen.size > maxGroups) return { result: 'unknown', reason: `group ${group} nests more than ${maxGroups} groups; membership not settled` };
        frontier.push({ name: found.name, path: n.path });
      }
    }
    if (unread.length > 0) return { result: 'unknown', reason: `not found in group ${group}, but nested groups could not be read: ${unread.join(', ')}` };
    return { result: 'not-member', how: 'walk' };
  }

  private lookup(email: string): Promise<Lookup> {
    let p = this.lookups.get(email);
    if (!p) {
      p = (async (): Promise<Lookup> => {
        this.calls.lookup++;
        const res = await this.get(`/v1/groups:lookup?groupKey.id=${encodeURIComponent(email)}`);
        if (res.status === 200 && typeof res.body.name === 'string') return { name: res.body.name };
        if (res.status === 403) return { reason: `group ${email} belongs to another customer or the scanner may not read it (${errorMessage(res)})` };
        if (res.status === 404) return { reason: `group ${email} was not found, or is not visible to the scanner (${errorMessage(res)})` };
        return { reason: `lookup of group ${email}: ${errorMessage(res)}` };
      })();
      this.lookups.set(email, p);
    }
    return p;
  }

  /** Direct members of a group (`groups/ID`), every page. */
  private list(name: string): Promise<Listing> {
    let p = this.listings.get(name);
    if (!p) {
      p = (async (): Promise<Listing> => {
        const members: Member[] = [];
        let token = '';
        do {
          this.calls.list++;
          const res = await this.get(`/v1/${name}/memberships?view=FULL&pageSize=500${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
          if (res.status !== 200) return { reason: `members of ${name}: ${errorMessage(res)}` };
          for (const m of (res.body.memberships as Record<string, unknown>[] | undefined) ?? []) {
            const key = (m.preferredMemberKey as { id?: unknown } | undefined)?.id;
            if (typeof key === 'string') members.push({ key: key.toLowerCase(), type: typeof m.type === 'string' ? m.type : 'TYPE_UNSPECIFIED' });
          }
          token = typeof res.body.nextPageToken === 'string' ? res.body.nextPageToken : '';
        } while (token);
        return { members };
      })();
      this.listings.set(name, p);
    }
    return p;
  }

  /** One GET through the concurrency bound and the rate limit, retried on 429 and 5xx. */
  private get(path: string): Promise<HttpAnswer> {
    return this.limit(async () => {
      for (let attempt = 1; ; attempt++) {
        await this.limiter.acquire();
        const res = await this.opts.requester(path);
        if (!RETRYABLE.has(res.status) || attempt >= MAX_ATTEMPTS) return res;
        this.calls.retries++;
        await this.timer.sleep(Math.min(8_000, 250 * 2 ** attempt));
      }
    });
  }
}
