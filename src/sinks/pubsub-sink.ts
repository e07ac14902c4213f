import { randomUUID } from 'node:crypto';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { PublishError } from '../errors.js';
import type { Finding } from '../findings/schema.js';
import type { Logger } from '../log/logger.js';
import type { ScanSummary } from '../scan/summary.js';
import type { FindingSink, SinkReport } from './sink.js';
import {
  DEFAULT_BATCHING,
  DEFAULT_RETRY,
  endpointOf,
  gaxRetry,
  openTopic,
  rpcErrorInfo,
  STATUS,
  type BatchingOptions,
  type RetryOptions,
} from './pubsub/client.js';
import { Delivery } from './pubsub/delivery.js';
import { findingMessage, resolvedMessage, scanCompletedMessage } from './pubsub/message.js';
import { Spool } from './pubsub/spool.js';
import { registerExitFlush } from '../runtime/exit-flush.js';
import { parseTopicName } from './pubsub/topic-name.js';

export { decodeFindingMessage, decodeMessage, findingMessage, resolvedMessage, scanCompletedMessage } from './pubsub/message.js';
export type { SpoolHeader, SpoolRecord } from './pubsub/spool.js';
export { replaySpool, type ReplayOptions } from './pubsub/replay.js';

export interface PubSubTuning {
  batching?: Partial<BatchingOptions>;
  retry?: Partial<RetryOptions>;
  /** Unsettled publishes allowed before `write` waits (default 10,000 messages, 32 MiB). */
  maxInFlightMessages?: number;
  maxInFlightBytes?: number;
  /** See {@link Delivery}: how long to spool directly after a batch died of an outage (default 15 s). */
  pauseAfterOutageMs?: number;
  /** Cap on gRPC's reconnect backoff (default 5 s). */
  maxReconnectBackoffMs?: number;
  /** `host:port` of an emulator; by default the client reads PUBSUB_EMULATOR_HOST. */
  apiEndpoint?: string;
}

export interface PubSubSinkOptions extends PubSubTuning {
  /** `projects/P/topics/T`. */
  topic: string;
  /**
   * Where messages that could not be delivered go: a new file per run in `spoolDir` (created
   * 0700), or exactly `spoolPath` (which must not exist). The file is created 0600 up front and
   * removed at the end if no message went to it.
   */
  spoolDir?: string;
  spoolPath?: string;
  /** Names the run's spool file and is recorded in its header. */
  scanId?: string;
  /**
   * Aborted when the process is asked to stop (SIGTERM, SIGINT): publishing then gets
   * `stopFlushMs` (default 2 s) to be acknowledged, and every message still unacknowledged is
   * spooled, well within the stop's grace period.
   */
  signal?: AbortSignal;
  stopFlushMs?: number;
  logger: Logger;
  /**
   * Check up front that the topic exists (default true). The check needs `pubsub.topics.get`,
   * which `roles/pubsub.publisher` lacks: PERMISSION_DENIED is therefore tolerated, and a missing
   * topic then shows at the first publish (NOT_FOUND, named in the log, the report and the spool).
   */
  checkTopic?: boolean;
  /** Budget of the up-front check, retries included (default 15 s). */
  checkTimeoutMs?: number;
}

/**
 * A findings sink that publishes each finding it is given, then one `scan.completed` event, to a
 * Pub/Sub topic. Everything not delivered is spooled; `close` settles every publish first.
 */
export async function createPubSubSink(options: PubSubSinkOptions): Promise<FindingSink> {
  const topicName = parseTopicName(options.topic);
  const { logger } = options;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const { pubsub, topic } = await openTopic(topicName.name, clientOptions(topicName.project, options), {
    batching: { ...DEFAULT_BATCHING, ...options.batching },
    retry,
  });
  try {
    if (options.checkTopic !== false) await checkTopic(topic, topicName.name, options, retry, logger);
  } catch (err) {
    await closeQuietly(pubsub);
    throw err;
  }
  let spool: Spool;
  try {
    spool = openSpool(topicName.name, options);
  } catch (err) {
    await closeQuietly(pubsub);
    throw err;
  }
  const delivery = newDelivery(topic, topicName.name, spool, options);
  let findings = 0;
  let report: Promise<SinkReport> | undefined;
  const stopReason = (): string =>
    `not acknowledged by Pub/Sub before the scan stopped (${String(options.signal?.reason ?? 'stop requested')}); it may have been delivered as well`;
  const spoolEverything = (): void => {
    delivery.abandon(stopReason());
    spool.flush();
  };
  // A forced exit (second signal, grace period over) spools what is still in flight first.
  const unregister = registerExitFlush(spoolEverything);
  let stopTimer: NodeJS.Timeout | undefined;
  const onStop = (): void => {
    stopTimer = setTimeout(spoolEverything, options.stopFlushMs ?? 2_000);
    stopTimer.unref();
  };
  if (options.signal?.aborted) onStop();
  else options.signal?.addEventListener('abort', onStop, { once: true });

  return {
    name: 'pubsub',
    write(finding: Finding) {
      if (report) throw new PublishError('SINK_CLOSED', `the Pub/Sub sink for ${topicName.name} is already closed`);
      findings++;
      return delivery.publish(findingMessage(finding));
    },
    writeResolved(record) {
      if (report) throw new PublishError('SINK_CLOSED', `the Pub/Sub sink for ${topicName.name} is already closed`);
      findings++;
      return delivery.publish(resolvedMessage(record));
    },
    flush: () => delivery.settle(),
    undelivered: () => delivery.failedIds,
    close(summary: ScanSummary) {
      report ??= (async () => {
        await delivery.settle();
        const counts = { findingsPublished: delivery.delivered, findingsSpooled: delivery.failed };
        // The event goes out even while publishing is paused: it is one message, and the one
        // consumers watch for.
        await delivery.publish(scanCompletedMessage(summary, counts), { ignorePause: true });
        await delivery.settle();
        if (stopTimer) clearTimeout(stopTimer);
        options.signal?.removeEventListener('abort', onStop);
        try {
          return await finish(delivery, spool, pubsub, topicName.name, logger, `${findings} findings and the scan.completed event`);
        } finally {
          unregister();
        }
      })();
      return report;
    },
  };
}

function openSpool(topic: string, o: PubSubSinkOptions): Spool {
  if (o.spoolPath) return Spool.create(o.spoolPath, { topic, ...(o.scanId ? { scanId: o.scanId } : {}) });
  return Spool.inDirectory(o.spoolDir ?? 'cronwarden-spool', { topic, scanId: o.scanId ?? randomUUID() });
}

function clientOptions(project: string, o: PubSubTuning) {
  return {
    project,
    maxReconnectBackoffMs: o.maxReconnectBackoffMs ?? 5_000,
    ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint } : {}),
  };
}

function newDelivery(topic: Topic, topicName: string, spool: Spool, o: PubSubTuning & { logger: Logger }): Delivery {
  return new Delivery(topic, {
    topicName,
    spool,
    logger: o.logger,
    maxInFlightMessages: o.maxInFlightMessages ?? 10_000,
    maxInFlightBytes: o.maxInFlightBytes ?? 32 * 1024 * 1024,
    pauseAfterOutageMs: o.pauseAfterOutageMs ?? 15_000,
  });
}

async function checkTopic(topic: Topic, name: string, o: PubSubSinkOptions, retry: RetryOptions, logger: Logger): Promise<void> {
  try {
    await topic.getMetadata(gaxRetry(retry, o.checkTimeoutMs ?? 15_000));
  } catch (err) {
    const info = rpcErrorInfo(err);
    if (info.code === STATUS.NOT_FOUND) {
      throw new PublishError('TOPIC_NOT_FOUND', `Pub/Sub topic ${name} does not exist (create it, or fix --topic)`, { cause: err });
    }
    if (info.code === STATUS.PERMISSION_DENIED) {
      // roles/pubsub.publisher may publish but not read the topic: the first publish will tell.
      logger.debug(`cannot read topic ${name} (PERMISSION_DENIED); its existence is checked by the first publish`);
      return;
    }
    if (info.code === STATUS.UNAVAILABLE || info.code === STATUS.DEADLINE_EXCEEDED) {
      throw new PublishError('PUBSUB_UNREACHABLE', `cannot reach Pub/Sub at ${endpointOf(o.apiEndpoint).endpoint} to check topic ${name}: ${info.status}`, {
        cause: err,
      });
    }
    throw new PublishError('TOPIC_CHECK_FAILED', `cannot check Pub/Sub topic ${name}: ${info.status}: ${info.message}`, { cause: err });
  }
}

async function finish(delivery: Delivery, spool: Spool, pubsub: PubSub, topicName: string, logger: Logger, what: string): Promise<SinkReport> {
  const notes: string[] = [];
  let spoolFailed = false;
  try {
    await spool.close();
  } catch (err) {
    spoolFailed = true;
    logger.error(`could not write the spool file ${spool.path}: ${rpcErrorInfo(err).message}`);
  }
  await closeQuietly(pubsub);
  if (delivery.failed === 0) {
    notes.push(`published ${what} to ${topicName}`);
    return { sink: 'pubsub', delivered: delivery.delivered, failed: 0, notes };
  }
  const reasons = [...delivery.failures].map(([status, n]) => `${status} ×${n}`).join(', ');
  notes.push(`partial delivery to ${topicName}: ${delivery.delivered} messages delivered, ${delivery.failed} not (${reasons})`);
  if (delivery.failures.has('NOT_FOUND')) notes.push(`topic ${topicName} does not exist`);
  notes.push(
    spoolFailed
      ? `the spool file ${spool.path} could not be written completely: some undelivered messages are lost`
      : `undelivered messages are in ${spool.path} (JSONL); publish them again with: cronwarden replay-spool ${shellWord(spool.path)}`,
  );
  logger.warn(notes.join('; '));
  return { sink: 'pubsub', delivered: delivery.delivered, failed: delivery.failed, spoolPath: spool.path, notes };
}

/**
 * Closes the client; best effort after a failed run, since every publish has settled (or was
 * spooled) already. Bounded: closing channels to a server that does not answer (frozen, or
 * behind a dead network) can take as long as gRPC's own timeouts.
 */
async function closeQuietly(pubsub: PubSub, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    pubsub.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  if (timer) clearTimeout(timer);
}

/** A path as one shell word, so that the replay command in the notice can be pasted as is. */
function shellWord(path: string): string {
  return /^[\w./:@%+=,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
