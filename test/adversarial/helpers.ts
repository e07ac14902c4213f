import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/findings/schema.js';
import { FileAssetSource } from '../../src/inventory/file-source.js';
import type { AssetSource } from '../../src/inventory/source.js';
import { memoryLogger } from '../../src/log/logger.js';
import { runScan, type ScanResult } from '../../src/scan/run-scan.js';
import type { FindingSink } from '../../src/sinks/sink.js';
import { SAMPLE_FILES } from '../support/cli-harness.js';

/** The sample organization's files: resources (export NDJSON), IAM policies (export NDJSON), serverless (list JSON). */
export const [RESOURCES_FILE, POLICIES_FILE, SERVERLESS_FILE] = SAMPLE_FILES as [string, string, string];

export interface Scanned {
  findings: Finding[];
  result: ScanResult;
  warnings: string[];
}

/** A full scan (passes included) of a source, in-process, with the built-in rules. */
export async function scanSource(source: AssetSource): Promise<Scanned> {
  const findings: Finding[] = [];
  const sink: FindingSink = { name: 'collect', write: (f) => void findings.push(f), close: async () => ({ sink: 'collect', delivered: findings.length, failed: 0 }) };
  const logger = memoryLogger();
  const result = await runScan({ source, rules: allRules, sinks: [sink], logger, includePasses: true });
  return { findings, result, warnings: logger.lines.filter((l) => l.level === 'warn').map((l) => l.message) };
}

export const scanFiles = (files: readonly string[]): Promise<Scanned> => scanSource(new FileAssetSource(files));

/** `job rule` → status, for comparing verdicts. */
export function statusByJobRule(findings: readonly Finding[]): Map<string, string> {
  return new Map(findings.map((f) => [`${f.job.name} ${f.ruleId}`, f.status]));
}

export function tempDir(prefix = 'cw-adv-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The sample's three files, with one file's lines replaced by `edit`, written to a fresh directory. */
export function sampleWith(file: string, edit: (lines: string[]) => string[]): string[] {
  const dir = tempDir();
  return SAMPLE_FILES.map((f) => {
    const out = join(dir, f.split('/').pop()!);
    const text = readFileSync(f, 'utf8');
    writeFileSync(out, f === file ? `${edit(text.split('\n').filter((l) => l.trim() !== '')).join('\n')}\n` : text);
    return out;
  });
}
