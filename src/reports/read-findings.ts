import { readFile } from 'node:fs/promises';
import { ConfigurationError } from '../errors.js';
import { FindingSchema, type Finding } from '../findings/schema.js';
import type { ScanSummary } from '../scan/summary.js';
import { escapeTerminal } from '../text/escape-terminal.js';

/** Findings written by a later release may carry fields this one does not know (lifecycle): kept. */
const ReadableFinding = FindingSchema.loose();

export interface ReadFindings {
  findings: Finding[];
  summary?: ScanSummary;
  /** `FILE:LINE: what is wrong` (JSONL), or `FILE: findings[N]: ...` (JSON). */
  problems: string[];
}

function describe(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || 'finding'}: ${i.message}`)
    .join('; ');
}

/**
 * Reads `scan --format json` output (findings and summary) or `--format jsonl` (one finding a
 * line, no summary). A file that cannot be opened, or is neither, is a usage error; a finding that
 * does not match the schema is named and skipped, and the rest are read.
 */
export async function readFindingsFile(path: string): Promise<ReadFindings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigurationError('BAD_FINDINGS_FILE', `--findings ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const problems: string[] = [];
  const findings: Finding[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{"findings"') || /^\{\s*"findings"\s*:/.test(trimmed)) {
    let doc: { findings?: unknown; summary?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch (err) {
      throw new ConfigurationError('BAD_FINDINGS_FILE', `--findings ${path}: not valid JSON (${escapeTerminal((err as Error).message)})`);
    }
    if (!Array.isArray(doc.findings)) throw new ConfigurationError('BAD_FINDINGS_FILE', `--findings ${path}: "findings" is not an array`);
    doc.findings.forEach((raw, i) => {
      const parsed = ReadableFinding.safeParse(raw);
      if (parsed.success) findings.push(parsed.data as Finding);
      else problems.push(`${path}: findings[${i}]: ${escapeTerminal(describe(parsed.error.issues))}`);
    });
    const summary = isSummary(doc.summary) ? doc.summary : undefined;
    if (!summary) problems.push(`${path}: the summary is missing or unreadable`);
    return { findings, ...(summary ? { summary } : {}), problems };
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      problems.push(`${path}:${i + 1}: not a JSON object`);
      continue;
    }
    const parsed = ReadableFinding.safeParse(raw);
    if (parsed.success) findings.push(parsed.data as Finding);
    else problems.push(`${path}:${i + 1}: ${escapeTerminal(describe(parsed.error.issues))}`);
  }
  if (findings.length === 0 && problems.length > 0) {
    throw new ConfigurationError('BAD_FINDINGS_FILE', `--findings ${path}: no finding could be read (${problems.slice(0, 3).join('; ')})`);
  }
  return { findings, problems };
}

function isSummary(v: unknown): v is ScanSummary {
  if (!v || typeof v !== 'object') return false;
  const s = v as Partial<ScanSummary>;
  return typeof s.scanId === 'string' && typeof s.jobsScanned === 'number' && Array.isArray(s.coverageGaps) && typeof s.partial === 'boolean';
}
