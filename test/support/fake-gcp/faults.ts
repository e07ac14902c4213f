import * as grpc from '@grpc/grpc-js';

export type StatusName = keyof typeof grpc.status;

/**
 * An injected fault. `method` is `service.Method` (`asset.ListAssets`), a bare method name
 * (any service), or `*`. A rule fires on the calls it selects: `calls` (1-based ordinals of that
 * method), else `rate` (a probability from the fake's seeded generator), else every call; `scope`
 * narrows it to requests whose parent/name/resource is or lies under that name; `times` caps how
 * often it fires. A rule with `code` fails the call; with only `delayMs`, it slows the call.
 */
export interface FaultRule {
  method: string;
  code?: StatusName;
  message?: string;
  rate?: number;
  calls?: number[];
  scope?: string;
  delayMs?: number;
  times?: number;
}

/** An error a handler throws to answer with a gRPC status, as Google would. */
export class FakeStatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: StatusName, message: string): never {
  throw new FakeStatusError(grpc.status[code], message);
}

export interface LoggedRequest {
  method: string;
  request: Record<string, unknown>;
  /** Whether the call carried an `authorization` header (it never should, against the fake). */
  authorization: boolean;
  /** The status the fake answered with (0 = OK). */
  code?: number;
}

/** Per-method request counters: injected failures count too, as they are calls all the same. */
export class Counters {
  private readonly counts = new Map<string, number>();

  inc(method: string): number {
    const n = (this.counts.get(method) ?? 0) + 1;
    this.counts.set(method, n);
    return n;
  }

  /** Calls of `service.Method`, or of a bare method name across services. */
  get(method: string): number {
    if (method.includes('.')) return this.counts.get(method) ?? 0;
    let n = 0;
    for (const [k, v] of this.counts) if (k.endsWith(`.${method}`)) n += v;
    return n;
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }

  reset(): void {
    this.counts.clear();
  }
}

/** mulberry32: small, seedable, good enough to spread faults evenly and reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function requestScope(request: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const key of ['parent', 'name', 'resource']) if (typeof request[key] === 'string') names.push(request[key]);
  const job = request.job as { name?: unknown } | undefined;
  if (typeof job?.name === 'string') names.push(job.name);
  if (Array.isArray(request.resourceNames)) names.push(...request.resourceNames.filter((n): n is string => typeof n === 'string'));
  return names;
}

function matchesMethod(rule: string, method: string): boolean {
  return rule === '*' || rule === method || method.endsWith(`.${rule}`);
}

export class FaultPlan {
  private rules: { rule: FaultRule; fired: number }[] = [];

  constructor(
    rules: readonly FaultRule[],
    private readonly random: () => number,
  ) {
    this.set(rules);
  }

  set(rules: readonly FaultRule[]): void {
    for (const r of rules) {
      if (r.code !== undefined && !(r.code in grpc.status)) throw new Error(`unknown gRPC status ${r.code}`);
    }
    this.rules = rules.map((rule) => ({ rule, fired: 0 }));
  }

  add(rule: FaultRule): void {
    this.set([...this.rules.map((r) => r.rule), rule]);
  }

  /** The rules that fire for this call: their delays add up; the first with a code fails it. */
  pick(method: string, ordinal: number, request: Record<string, unknown>): { delayMs: number; error?: FaultRule } {
    let delayMs = 0;
    let error: FaultRule | undefined;
    for (const entry of this.rules) {
      const { rule } = entry;
      if (!matchesMethod(rule.method, method)) continue;
      if (rule.times !== undefined && entry.fired >= rule.times) continue;
      if (rule.scope !== undefined && !requestScope(request).some((n) => n === rule.scope || n.startsWith(`${rule.scope}/`))) continue;
      if (rule.calls !== undefined ? !rule.calls.includes(ordinal) : rule.rate !== undefined && this.random() >= rule.rate) continue;
      if (rule.code !== undefined && error) continue;
      entry.fired++;
      delayMs += rule.delayMs ?? 0;
      if (rule.code !== undefined) error = rule;
    }
    return error ? { delayMs, error } : { delayMs };
  }
}

export interface WrapContext {
  counters: Counters;
  faults: FaultPlan;
  latencyMs(method: string): number;
  log(entry: LoggedRequest): void;
}

type Handler = (request: Record<string, unknown>) => Promise<unknown> | unknown;

function sleepUnlessCancelled(ms: number, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      call.removeListener('cancelled', done);
      resolve();
    }
    call.once('cancelled', done);
  });
}

/** A unary gRPC handler with counting, latency, injected faults and status errors. */
export function wrapUnary(ctx: WrapContext, method: string, handler: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const request = (call.request ?? {}) as Record<string, unknown>;
    const ordinal = ctx.counters.inc(method);
    const entry: LoggedRequest = { method, request, authorization: call.metadata.get('authorization').length > 0 };
    ctx.log(entry);
    const { delayMs, error } = ctx.faults.pick(method, ordinal, request);
    void sleepUnlessCancelled(ctx.latencyMs(method) + delayMs, call).then(async () => {
      if (call.cancelled) {
        entry.code = grpc.status.CANCELLED;
        return;
      }
      if (error) {
        entry.code = grpc.status[error.code!];
        callback({ code: entry.code, details: error.message ?? `injected ${error.code}` });
        return;
      }
      try {
        const response = await handler(request);
        entry.code = grpc.status.OK;
        callback(null, response);
      } catch (err) {
        const code = err instanceof FakeStatusError ? err.code : grpc.status.INTERNAL;
        entry.code = code;
        callback({ code, details: (err as Error).message });
      }
    });
  };
}
