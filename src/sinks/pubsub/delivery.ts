import type { Topic } from '@google-cloud/pubsub';
import type { Logger } from '../../log/logger.js';
import { isTransient, rpcErrorInfo, STATUS, type RpcErrorInfo } from './client.js';
import type { OutgoingMessage } from './message.js';
import type { Spool } from './spool.js';

/** Pub/Sub refuses messages over 10 MB (data plus attributes); they would fail their whole batch. */
const MAX_MESSAGE_BYTES = 10_000_000;

export interface DeliveryOptions {
  topicName: string;
  spool: Spool;
  logger: Logger;
  /** Publishes not yet settled, in messages and bytes; `publish` waits when either is reached. */
  maxInFlightMessages: number;
  maxInFlightBytes: number;
  /**
   * After a batch has used up its retry budget on a transient error, new messages go straight
   * to the spool for this long instead of queueing behind a dead endpoint; then publishing is
   * tried again. Keeps a long outage from costing one full retry budget per batch.
   */
  pauseAfterOutageMs: number;
  now?: () => number;
}

/**
 * Publishes messages with bounded memory and accounts for every one: each is either delivered
 * (the service returned a message id) or written to the spool with the error that stopped it.
 */
export class Delivery {
  delivered = 0;
  failed = 0;
  /** Failures by status name, for the summary. */
  readonly failures = new Map<string, number>();
  /** The `findingId` attribute of every message that failed: the lifecycle keeps those unreported. */
  readonly failedIds = new Set<string>();
  private inFlight = 0;
  private inFlightBytes = 0;
  /** Messages handed to the client and not yet settled, by publish number. */
  private readonly unsettled = new Map<number, OutgoingMessage>();
  private nextId = 0;
  /** Set by {@link abandon}: the process is stopping; everything goes to the spool. */
  private stopped: string | undefined;
  private pausedUntil = 0;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(
    private readonly topic: Topic,
    private readonly opts: DeliveryOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get pending(): number {
    return this.inFlight;
  }

  /**
   * Hands one message to the client's batcher. Returns a promise only when the in-flight limits
   * are reached: it resolves once half the window has drained.
   */
  publish(message: OutgoingMessage, opts: { ignorePause?: boolean } = {}): void | Promise<void> {
    const bytes = messageBytes(message);
    if (bytes > MAX_MESSAGE_BYTES) {
      this.fail(message, { code: 3, status: 'INVALID_ARGUMENT', message: `message of ${bytes} bytes exceeds Pub/Sub's 10 MB limit` });
      return;
    }
    if (this.stopped) {
      this.fail(message, { code: null, status: 'STOPPED', message: this.stopped });
      return;
    }
    if (!opts.ignorePause && this.now() < this.pausedUntil) {
      this.fail(message, {
        code: null,
        status: 'PUBLISHING_PAUSED',
        message: `not sent: publishing to ${this.opts.topicName} paused after an outage until ${new Date(this.pausedUntil).toISOString()}`,
      });
      return;
    }
    this.inFlight++;
    this.inFlightBytes += bytes;
    const id = this.nextId++;
    this.unsettled.set(id, message);
    try {
      this.topic.publishMessage(message, (err) => this.settled(id, message, bytes, err));
    } catch (err) {
      this.settled(id, message, bytes, err);
    }
    if (this.inFlight >= this.opts.maxInFlightMessages || this.inFlightBytes >= this.opts.maxInFlightBytes) {
      return new Promise((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Sends what is batched now and resolves when every publish has settled. */
  async settle(): Promise<void> {
    if (this.inFlight === 0) return;
    this.topic.flush().catch(() => {
      // Failures reach each message's callback; nothing more to do here.
    });
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The process is stopping: every message not yet acknowledged is spooled now, with `reason`,
   * instead of waiting out the retry budget past the stop's grace period; later publishes are
   * spooled at once. A message the service takes after all is then both delivered and spooled:
   * at least once, and consumers drop duplicates by `findingId`.
   */
  abandon(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    const pending = [...this.unsettled.values()];
    this.unsettled.clear();
    this.inFlight = 0;
    this.inFlightBytes = 0;
    for (const message of pending) this.fail(message, { code: null, status: 'STOPPED', message: reason });
    for (const wake of this.roomWaiters.splice(0)) wake();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private settled(id: number, message: OutgoingMessage, bytes: number, err: unknown): void {
    // Already spooled by abandon(): its late outcome changes nothing.
    if (!this.unsettled.delete(id)) return;
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (err) {
      const info = rpcErrorInfo(err);
      if (isTransient(info.code)) this.pausedUntil = this.now() + this.opts.pauseAfterOutageMs;
      this.fail(message, info);
    } else {
      this.delivered++;
      if (this.pausedUntil !== 0) this.pausedUntil = 0;
    }
    if (
      this.roomWaiters.length > 0 &&
      this.inFlight <= this.opts.maxInFlightMessages / 2 &&
      this.inFlightBytes <= this.opts.maxInFlightBytes / 2
    ) {
      for (const wake of this.roomWaiters.splice(0)) wake();
    }
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private fail(message: OutgoingMessage, error: RpcErrorInfo): void {
    this.failed++;
    const id = message.attributes.findingId;
    if (id) this.failedIds.add(id);
    const seen = this.failures.get(error.status) ?? 0;
    this.failures.set(error.status, seen + 1);
    if (seen === 0) {
      // Once per kind of failure: the reason, never the payload.
      const why =
        error.code === STATUS.NOT_FOUND ? `topic ${this.opts.topicName} does not exist` : `publish to ${this.opts.topicName} failed`;
      this.opts.logger.warn(`${why} (${error.status}): ${error.message}; undelivered messages go to ${this.opts.spool.path}`);
    }
    this.opts.spool.append({
      attributes: message.attributes,
      data: message.data.toString('utf8'),
      error,
      failedAt: new Date(this.now()).toISOString(),
    });
  }
}

/** Data plus attributes, in bytes; attributes are counted in UTF-16 units unless near the limit. */
function messageBytes(m: OutgoingMessage): number {
  let units = 0;
  for (const k in m.attributes) units += k.length + m.attributes[k]!.length;
  if (m.data.length + units * 3 <= MAX_MESSAGE_BYTES) return m.data.length + units;
  let n = m.data.length;
  for (const k in m.attributes) n += Buffer.byteLength(k) + Buffer.byteLength(m.attributes[k]!);
  return n;
}
