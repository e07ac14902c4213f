import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Topic } from '@google-cloud/pubsub';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../src/log/logger.js';
import { Delivery } from '../../src/sinks/pubsub/delivery.js';
import { findingMessage } from '../../src/sinks/pubsub/message.js';
import { Spool } from '../../src/sinks/pubsub/spool.js';
import { aFinding } from './finding-builder.js';
import { readSpool } from './pubsub-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cronwarden-delivery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Callback = (err: unknown, id?: string) => void;

/** A topic whose publishes settle only when the test says so. */
function heldTopic() {
  const held: Callback[] = [];
  const topic = {
    publishMessage: (_m: unknown, cb: Callback) => void held.push(cb),
    flush: async () => undefined,
  } as unknown as Topic;
  return { topic, held };
}

function delivery(topic: Topic, spool: Spool, now: () => number = Date.now) {
  return new Delivery(topic, {
    topicName: 'projects/cronwarden-test/topics/t',
    spool,
    logger: memoryLogger(),
    maxInFlightMessages: 100,
    maxInFlightBytes: 1024 * 1024 * 1024,
    pauseAfterOutageMs: 1000,
    now,
  });
}

describe('Delivery', () => {
  it('keeps at most the in-flight window unsettled, however many findings come (1M here)', async () => {
    const { topic, held } = heldTopic();
    const d = delivery(topic, Spool.create(join(dir, 'none.jsonl'), { topic: 'projects/p-test/topics/t' }));
    const message = findingMessage(aFinding(1));
    let maxPending = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const wait = d.publish(message);
      maxPending = Math.max(maxPending, d.pending);
      if (wait) {
        // The scanner waits here; the service answers a batch at a time meanwhile.
        for (const cb of held.splice(0, 60)) cb(null, 'id');
        await wait;
      }
    }
    for (const cb of held.splice(0)) cb(null, 'id');
    await d.settle();
    expect(maxPending).toBe(100);
    expect(d.delivered).toBe(1_000_000);
    expect(d.failed).toBe(0);
  });

  it('after a batch dies of an outage, spools new messages at once for a while, then tries again', async () => {
    const { topic, held } = heldTopic();
    let now = 0;
    const spool = Spool.create(join(dir, 'paused.jsonl'), { topic: 'projects/p-test/topics/t' });
    const d = delivery(topic, spool, () => now);
    d.publish(findingMessage(aFinding(1)));
    held.shift()!(Object.assign(new Error('Total timeout of API exceeded'), { code: 4 }));
    d.publish(findingMessage(aFinding(2)));
    expect(held).toHaveLength(0);
    now = 1001;
    d.publish(findingMessage(aFinding(3)));
    expect(held).toHaveLength(1);
    held.shift()!(null, 'id');
    await d.settle();
    await spool.close();
    expect(readSpool(spool.path).map((r) => r.error.status)).toEqual(['DEADLINE_EXCEEDED', 'PUBLISHING_PAUSED']);
    expect([d.delivered, d.failed]).toEqual([1, 2]);
  });

  it('spools a message over 10 MB instead of letting it fail its whole batch', async () => {
    const { topic, held } = heldTopic();
    const spool = Spool.create(join(dir, 'large.jsonl'), { topic: 'projects/p-test/topics/t' });
    const d = delivery(topic, spool);
    d.publish({ data: Buffer.alloc(10_000_001, 'x'), attributes: { eventType: 'finding' } });
    expect(held).toHaveLength(0);
    await spool.close();
    expect(readSpool(spool.path)[0]!.error.status).toBe('INVALID_ARGUMENT');
    expect(d.failed).toBe(1);
  });
});
