import { existsSync, readFileSync } from 'node:fs';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import type { SpoolRecord } from '../../src/sinks/pubsub-sink.js';

export const PROJECT = 'cronwarden-test';

/** A client of the emulator for the test's own topics and subscriptions. */
export function adminClient(host: string): PubSub {
  return new PubSub({ projectId: PROJECT, apiEndpoint: host, emulatorMode: true, universeDomain: 'googleapis.com' });
}

let counter = 0;
/** A fresh topic with one subscription; returns the topic's full name. */
export async function freshTopic(admin: PubSub, label: string): Promise<{ topic: string; subscription: Subscription }> {
  const id = `${label}-${process.pid}-${++counter}`;
  const [topic] = await admin.createTopic(id);
  const [subscription] = await topic.createSubscription(`${id}-sub`, {
    // Stored, not applied, by the emulator: it shows the filter a consumer would use.
    filter: 'attributes:eventType',
  });
  return { topic: topic.name, subscription };
}

export interface Received {
  data: string;
  attributes: Record<string, string>;
}

/** Receives and acknowledges everything a subscription delivers, keeping it in order of arrival. */
export class Collector {
  readonly messages: Received[] = [];
  private readonly errors: Error[] = [];

  constructor(private readonly subscription: Subscription) {
    subscription.setOptions({ flowControl: { maxMessages: 5000, allowExcessMessages: true } });
    subscription.on('message', (m: Message) => {
      this.messages.push({ data: m.data.toString('utf8'), attributes: { ...m.attributes } });
      m.ack();
    });
    subscription.on('error', (err: Error) => this.errors.push(err));
  }

  /** Distinct keys seen so far: the findingId, or the eventType for events. */
  keys(): Set<string> {
    return new Set(this.messages.map((m) => m.attributes.findingId ?? `${m.attributes.eventType}`));
  }

  async waitForKeys(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.keys().size < n) {
      if (Date.now() > deadline) {
        throw new Error(`received ${this.keys().size} distinct messages, expected ${n}${this.errors.length ? `; subscriber errors: ${this.errors.map((e) => e.message).join('; ')}` : ''}`);
      }
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.subscription.removeAllListeners('message');
    await this.subscription.close().catch(() => undefined);
    this.subscription.removeAllListeners('error');
    this.subscription.on('error', () => undefined);
  }
}

/** The records of a spool file, its header line left out. */
export function readSpool(path: string): SpoolRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SpoolRecord & { cronwardenSpool?: number })
    .filter((r) => r.cronwardenSpool === undefined);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until the check holds or the time is up. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
