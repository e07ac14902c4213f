import type { Writable } from 'node:stream';
import { isCloudLogger } from '../log/cloud-logger.js';
import type { Logger } from '../log/logger.js';
import { parseTopicName } from '../sinks/pubsub/topic-name.js';
import { DEFAULT_BATCHING, DEFAULT_RETRY, openTopic } from '../sinks/pubsub/client.js';
import type { ChangeRecord } from './record.js';
import { remediationMessage } from './record-message.js';

/** Where each change record goes: the output (a JSON line), the log (a structured entry) and, with a topic, Pub/Sub. */
export interface RecordOutputs {
  write(record: ChangeRecord): void;
  /** Waits for every write and publish; returns how many records Pub/Sub did not take. */
  close(): Promise<{ undelivered: number }>;
}

const SEVERITY = { applied: 'NOTICE', skipped: 'INFO', failed: 'ERROR' } as const;

export async function openRecordOutputs(opts: { out: Writable; logger: Logger; topic?: string; pubsubEndpoint?: string }): Promise<RecordOutputs> {
  const published: Promise<unknown>[] = [];
  let undelivered = 0;
  let topic: Awaited<ReturnType<typeof openTopic>> | undefined;
  if (opts.topic) {
    const name = parseTopicName(opts.topic);
    topic = await openTopic(name.name, { project: name.project, maxReconnectBackoffMs: 5_000, ...(opts.pubsubEndpoint ? { apiEndpoint: opts.pubsubEndpoint } : {}) }, { batching: DEFAULT_BATCHING, retry: DEFAULT_RETRY });
  }
  return {
    write(record) {
      opts.out.write(`${JSON.stringify(record)}\n`);
      const target = record.change.kind === 'job-token' ? record.change.job : `${record.change.resource} (${record.change.role} for ${record.change.member})`;
      const message = `remediation ${record.result}: ${record.ruleId} on ${target}: ${record.reason}`;
      if (isCloudLogger(opts.logger)) opts.logger.log(SEVERITY[record.result], message, { event: `remediation.${record.result}`, record });
      else if (record.result === 'failed') opts.logger.error(message);
      else opts.logger.info(message);
      if (topic) {
        const m = remediationMessage(record);
        published.push(
          topic.topic.publishMessage({ data: m.data, attributes: m.attributes }).catch((err: unknown) => {
            undelivered++;
            opts.logger.error(`remediation record ${record.entryId} not published to ${opts.topic}: ${String((err as Error).message ?? err)}`);
          }),
        );
      }
    },
    async close() {
      await Promise.all(published);
      if (topic) await topic.pubsub.close().catch(() => undefined);
      return { undelivered };
    },
  };
}
