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
import { readSpool, Spool } from './pubsub/spool.js';
import { parseTopicName } from './pubsub/topic-name.js';

export { decodeFindingMessage, decodeMessage, findingMessage, resolvedMessage, scanCompletedMessage } from './pubsub/message.js';
export type { SpoolRecord } from './pubsub/spool.js';

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
  /** JSONL file for messages that could not be delivered; created only if one fails. */
  spoolPath: string;
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
  const spool = new Spool(options.spoolPath);
  const delivery = newDelivery(topic, topicName.name, spool, options);
  let findings = 0;
  let report: Promise<SinkReport> | undefined;

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
        return finish(delivery, spool, pubsub, topicName.name, logger, `${findings} findings and the scan.completed event`);
      })();
      return report;
    },
  };
}

export interface ReplayOptions extends PubSubTuning {
  /** The spool file to read. */
  spoolPath: string;
  /** Publish here instead of each record's own topic. */
  topic?: string;
  /** Where messages that fail again go (default: `<spoolPath>.remaining.jsonl`). */
  remainingPath?: string;
  logger: Logger;
}

/**
 * Publishes every record of a spool file again, unchanged (same data, same attributes, so
 * consumers de-duplicate replays as they do redeliveries). Records that fail again, and lines
 * that do not parse, go to a new spool file; the original is left as it is.
 */
export async function replaySpool(options: ReplayOptions): Promise<SinkReport> {
  const { logger } = options;
  const remaining = new Spool(options.remainingPath ?? `${options.spoolPath}.remaining.jsonl`);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const open = new Map<string, { pubsub: PubSub; delivery: Delivery }>();
  let unreadable = 0;
  let total = 0;
  try {
    for await (const entry of readSpool(options.spoolPath)) {
      total++;
      if (!entry.record) {
        unreadable++;
        logger.warn(`spool line ${entry.line} of ${options.spoolPath} is not a spool record; kept in ${remaining.path}`);
        remaining.appendRaw(entry.raw);
        continue;
      }
      const name = parseTopicName(options.topic ?? entry.record.topic).name;
      let target = open.get(name);
      if (!target) {
        const { pubsub, topic } = await openTopic(name, clientOptions(parseTopicName(name).project, options), {
          batching: { ...DEFAULT_BATCHING, ...options.batching },
          retry,
        });
        target = { pubsub, delivery: newDelivery(topic, name, remaining, options) };
        open.set(name, target);
      }
      const pending = target.delivery.publish({ data: Buffer.from(entry.record.data), attributes: entry.record.attributes });
      if (pending) await pending;
    }
  } finally {
    await Promise.all([...open.values()].map((t) => t.delivery.settle()));
    await Promise.all([...open.values()].map((t) => closeQuietly(t.pubsub)));
  }
  const delivered = [...open.values()].reduce((n, t) => n + t.delivery.delivered, 0);
  const failed = [...open.values()].reduce((n, t) => n + t.delivery.failed, 0) + unreadable;
  const notes = [`replayed ${total} spooled messages from ${options.spoolPath}: ${delivered} delivered, ${failed} not`];
  try {
    await remaining.close();
  } catch (err) {
    notes.push(`could not write ${remaining.path}: ${rpcErrorInfo(err).message}`);
  }
  if (failed > 0) notes.push(`messages still undelivered are in ${remaining.path}`);
  return { sink: 'pubsub-replay', delivered, failed, ...(failed > 0 ? { spoolPath: remaining.path } : {}), notes };
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

async function closeQuietly(pubsub: PubSub): Promise<void> {
  try {
    await pubsub.close();
  } catch {
    // Closing channels after a failed run is best effort; every publish has settled already.
  }
}

/** A path as one shell word, so that the replay command in the notice can be pasted as is. */
function shellWord(path: string): string {
  return /^[\w./:@%+=,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
