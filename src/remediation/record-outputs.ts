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
  /**
   * Waits for every write and publish; returns how many records Pub/Sub did not take, and why the
   * output (records file or stdout) could not be written, if it could not.
   */
  close(): Promise<{ undelivered: number; outputError?: string }>;
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
  // A full disk or a closed file must not crash a run that is changing the cloud: the rest of the
  // changes go on, each still logged (and published), and the run is reported partial.
  let outputError: string | undefined;
  opts.out.on('error', (err: NodeJS.ErrnoException) => {
    if (outputError !== undefined) return;
    outputError = err.code ?? err.message;
    opts.logger.error(`cannot write the change records (${outputError}): they are in the log${topic ? ' and on the topic' : ''}; the records output is incomplete`);
  });
  return {
    write(record) {
      if (outputError === undefined && !opts.out.destroyed) opts.out.write(`${JSON.stringify(record)}\n`);
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
      return { undelivered, ...(outputError !== undefined ? { outputError } : {}) };
    },
  };
}
