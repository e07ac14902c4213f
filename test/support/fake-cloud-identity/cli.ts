import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeCloudIdentity, type FakeCloudIdentity, type FakeGroup } from './index.js';

const USAGE = `usage: npm run fake-cloud-identity -- --groups FILE [--edition premium|standard] [--port N] [--latency-ms N]

Serves the Cloud Identity groups:lookup, memberships:checkTransitiveMembership (premium only) and
memberships.list endpoints over plain HTTP from a groups file such as
examples/sample-org/evidence/cloud-identity-groups.json ({"customer": "...", "groups": [...]}), until
interrupted. Point cronwarden at it with CRONWARDEN_CLOUD_IDENTITY_ENDPOINT=http://HOST:PORT.
`;

/** Starts the fake from command-line arguments; resolves with it once it listens. */
export async function runFakeCloudIdentityCli(argv: string[], print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<FakeCloudIdentity> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      groups: { type: 'string' },
      edition: { type: 'string', default: 'standard' },
      port: { type: 'string', default: '0' },
      'latency-ms': { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.groups) throw new Error(USAGE);
  if (values.edition !== 'premium' && values.edition !== 'standard') throw new Error(`--edition ${values.edition}: premium or standard\n\n${USAGE}`);
  const { customer, groups } = JSON.parse(await readFile(values.groups, 'utf8')) as { customer?: string; groups: FakeGroup[] };
  const fake = await startFakeCloudIdentity({
    groups,
    edition: values.edition,
    ...(customer ? { customer } : {}),
    port: Number(values.port),
    latencyMs: Number(values['latency-ms']),
  });
  print(`fake Cloud Identity (${values.edition}) listening on ${fake.url}, ${groups.length} groups from ${values.groups}`);
  print(`CRONWARDEN_CLOUD_IDENTITY_ENDPOINT=${fake.url}`);
  return fake;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runFakeCloudIdentityCli(process.argv.slice(2)).then(
    (fake) => {
      const stop = (): void => {
        process.stderr.write(`calls served: ${JSON.stringify(fake.calls)}\n`);
        void fake.stop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
