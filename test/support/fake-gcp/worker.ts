import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startFakeGcp, type FakeGcp, type FakeGcpOptions } from './index.js';

/**
 * The fake in a worker thread, for benchmarks: its encoding work then runs beside the client's
 * instead of on the same event loop, as Google's servers do their work on their own machines.
 * Counters are read and reset by message.
 */
export interface FakeGcpWorker {
  readonly address: string;
  readonly assets: number;
  counters(): Promise<Record<string, number>>;
  resetCounters(): Promise<void>;
  stop(): Promise<void>;
}

/** Tells this module, loaded in a worker, that the worker is one of ours. */
const MARK = 'cronwardenFakeGcpWorker';

type Request = { id: number; op: 'counters' | 'reset' | 'stop' };
type Reply = { id: number; value?: unknown; error?: string };

export async function startFakeGcpWorker(options: FakeGcpOptions): Promise<FakeGcpWorker> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { [MARK]: true, options } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const ready = new Promise<{ address: string; assets: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const started = await ready;
  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error) p?.reject(new Error(reply.error));
    else p?.resolve(reply.value);
  });
  const call = (op: Request['op']): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op } satisfies Request);
    });
  return {
    address: started.address,
    assets: started.assets,
    counters: () => call('counters') as Promise<Record<string, number>>,
    resetCounters: async () => {
      await call('reset');
    },
    stop: async () => {
      await call('stop');
      await worker.terminate();
    },
  };
}

async function serve(): Promise<void> {
  const fake: FakeGcp = await startFakeGcp((workerData as { options: FakeGcpOptions }).options);
  parentPort!.postMessage({ address: fake.address, assets: fake.store.size() });
  parentPort!.on('message', (req: Request) => {
    const reply = async (): Promise<unknown> => {
      if (req.op === 'counters') return fake.counters.snapshot();
      if (req.op === 'reset') return fake.counters.reset();
      return fake.stop();
    };
    reply().then(
      (value) => parentPort!.postMessage({ id: req.id, value } satisfies Reply),
      (err: unknown) => parentPort!.postMessage({ id: req.id, error: String(err) } satisfies Reply),
    );
  });
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | undefined)?.[MARK] === true) void serve();
