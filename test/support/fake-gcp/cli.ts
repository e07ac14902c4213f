import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startFakeGcp, type FakeGcp, type FaultRule } from './index.js';
import type { StatusName } from './faults.js';

const USAGE = `usage: npm run fake-gcp -- --seed DIR [--port N] [--host H] [--latency-ms N] [--fault METHOD=CODE[@RATE][#SCOPE]]...

Serves Cloud Asset, Scheduler, Run v2, Functions v1/v2, Logging and Resource Manager v3 over plain gRPC, seeded from
an export directory, until interrupted. Point cronwarden at it with
CRONWARDEN_GOOGLE_API_ENDPOINT=HOST:PORT.

  --seed DIR          export files (*.ndjson, *.json, gzipped or not; log-entries* for Logging)
  --port N            port to listen on (default 0: any free port, printed on start)
  --host H            address to bind (default 127.0.0.1)
  --latency-ms N      delay added to every call
  --fault SPEC        METHOD=CODE[@RATE][#SCOPE], e.g. ListAssets=UNAVAILABLE@0.2 or
                      ListAssets=PERMISSION_DENIED#projects/acme-data (repeatable)
  --seed-random N     seed of the fault generator (default 1)
  --log-entries FILE  also serve these LogEntry JSON lines (e.g. examples/sample-org/evidence/*.ndjson)
  --log-view NAME     serve a log view projects/P/locations/L/buckets/B/views/V showing every
                      project's entries, as an aggregated sink would fill it (repeatable)
`;

/** Parses `ListAssets=UNAVAILABLE@0.2` or `asset.ListAssets=PERMISSION_DENIED#folders/2` into a fault rule. */
export function parseFault(spec: string): FaultRule {
  const m = /^([\w.*]+)=([A-Z_]+)(?:@([\d.]+))?(?:#(\S+))?$/.exec(spec);
  if (!m) throw new Error(`--fault "${spec}" is not METHOD=CODE[@RATE][#SCOPE]`);
  const rule: FaultRule = { method: m[1]!, code: m[2] as StatusName };
  if (m[3] !== undefined) rule.rate = Number(m[3]);
  if (m[4] !== undefined) rule.scope = m[4];
  return rule;
}

/** Starts the fake from command-line arguments; resolves with it once it listens. */
export async function runFakeGcpCli(argv: string[], print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<FakeGcp> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '0' },
      fault: { type: 'string', multiple: true, default: [] },
      'seed-random': { type: 'string', default: '1' },
      'log-entries': { type: 'string', multiple: true, default: [] },
      'log-view': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.seed) throw new Error(USAGE);
  const port = Number(values.port);
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port number\n\n${USAGE}`);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency-ms ${values['latency-ms']} is not a number of milliseconds`);
  const logEntries: Record<string, unknown>[] = [];
  for (const file of values['log-entries']) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) if (line.trim()) logEntries.push(JSON.parse(line) as Record<string, unknown>);
  }
  const fake = await startFakeGcp({
    seedDir: values.seed,
    logEntries,
    port,
    host: values.host,
    latencyMs,
    faults: values.fault.map(parseFault),
    randomSeed: Number(values['seed-random']),
    logRequests: false,
  });
  for (const name of values['log-view']) fake.logging.addView({ name, projects: 'all' });
  print(`fake Google APIs listening on ${fake.address}, seeded with ${fake.store.size()} assets from ${values.seed}`);
  print(`CRONWARDEN_GOOGLE_API_ENDPOINT=${fake.address}`);
  return fake;
}

async function main(): Promise<void> {
  let fake: FakeGcp;
  try {
    fake = await runFakeGcpCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const stop = (): void => {
    process.stderr.write(`calls served: ${JSON.stringify(fake.counters.snapshot())}\n`);
    void fake.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
