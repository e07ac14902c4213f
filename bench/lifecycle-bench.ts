/**
 * The lifecycle state in Firestore, against the emulator: what a nightly scan costs in document
 * reads and writes when 100k findings are open and 1% of them change between two scans (half
 * fixed, half newly raised), and when nothing changes. Firestore bills per document read and
 * write; the goal is at most 2× the churn in writes. Wall time is the emulator's, on this machine.
 *
 *   npm run bench -- --only lifecycle [--sizes 100000]
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import type { Finding, Severity } from '../src/findings/schema.js';
import { FirestoreStateStore } from '../src/lifecycle/firestore-store.js';
import { LifecycleTracker } from '../src/lifecycle/tracker.js';
import { startFirestoreEmulator } from '../test/support/firestore-emulator.js';

const RULES = ['http-target-uses-oidc', 'oidc-audience-matches-target', 'oidc-sa-can-invoke-target', 'token-sa-exists-and-enabled'];
const SEVERITIES: Severity[] = ['high', 'medium', 'low'];

/** Finding `i` of a synthetic organization: 2 findings per job, 100 jobs per project. */
function finding(i: number, scanId: string, observedAt: string): Finding {
  const job = Math.floor(i / 2);
  const name = `projects/bench-project-${Math.floor(job / 100)}/locations/us-central1/jobs/job-${job}`;
  const ruleId = RULES[i % RULES.length]!;
  return {
    findingId: createHash('sha256').update(`${ruleId}\n${name}\n${i}`).digest('hex').slice(0, 32),
    scanId,
    ruleId,
    status: 'fail',
    severity: SEVERITIES[i % SEVERITIES.length]!,
    job: { name, project: `bench-project-${Math.floor(job / 100)}`, location: 'us-central1', state: 'ENABLED', uri: null },
    observedAt,
  } as unknown as Finding;
}

interface Measured {
  label: string;
  reads: number;
  writes: number;
  newCount: number;
  resolved: number;
  wallMs: number;
}

/** One scan against the store: read the state, judge `indexes`, resolve, save. */
async function scan(store: FirestoreStateStore, indexes: Iterable<number>, label: string, day: number): Promise<Measured> {
  const started = performance.now();
  const loaded = await store.load();
  const observedAt = new Date(Date.UTC(2026, 10, day)).toISOString();
  const tracker = new LifecycleTracker(loaded);
  tracker.startScan({ scanId: `bench-${day}`, observedAt });
  for (const i of indexes) {
    const f = finding(i, `bench-${day}`, observedAt);
    tracker.jobJudged(f.job.name);
    tracker.annotate(f);
  }
  const resolved = tracker.resolve({ interrupted: false, rulesRun: new Set(RULES), gapCovers: () => false, listedCompletely: () => true });
  const saved = await store.save(tracker.changes(new Set()));
  return {
    label,
    reads: loaded.stats.documentsRead + saved.documentsRead,
    writes: saved.documentsWritten,
    newCount: tracker.counts.new,
    resolved: resolved.length,
    wallMs: performance.now() - started,
  };
}

export async function benchLifecycle(opts: { sizes?: number[]; log?: (line: string) => void } = {}): Promise<Measured[]> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const open = opts.sizes?.[0] ?? 100_000;
  const churn = Math.round(open / 100);
  const emulator = await startFirestoreEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const rows: Measured[] = [];
  try {
    const store = new FirestoreStateStore({ project: 'cronwarden-bench', database: '(default)', collection: `bench-${process.pid}` });
    const range = (from: number, to: number) => ({ *[Symbol.iterator]() { for (let i = from; i < to; i++) yield i; } });
    rows.push(await scan(store, range(0, open), `first scan: ${open.toLocaleString('en')} new findings`, 1));
    rows.push(await scan(store, range(0, open), 'second scan, nothing changed', 2));
    // 1% churn: the first half-percent is fixed, as many new findings appear.
    rows.push(await scan(store, range(churn / 2, open + churn / 2), `third scan, 1% churn (${(churn / 2).toLocaleString('en')} fixed, ${(churn / 2).toLocaleString('en')} new)`, 3));
    await store.close();
  } finally {
    await emulator.close();
  }
  log(`Firestore emulator, ${open.toLocaleString('en')} open findings, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})\n`);
  log('| scan | document reads | document writes | new | resolved | wall s |');
  log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) log(`| ${r.label} | ${r.reads} | ${r.writes} | ${r.newCount} | ${r.resolved} | ${(r.wallMs / 1000).toFixed(2)} |`);
  const churnRow = rows[2]!;
  log(`\nwrites for 1% churn: ${churnRow.writes} documents for ${churn} changed findings = ${(churnRow.writes / churn).toFixed(2)}× the churn (goal ≤ 2×: ${churnRow.writes <= 2 * churn ? 'met' : 'NOT met'})`);
  return rows;
}
