import { access, constants, open, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigurationError } from '../errors.js';
import { FindingSchema, type Finding } from '../findings/schema.js';
import { PlanSchema, type Plan } from './plan-schema.js';
import { ChangeRecordSchema, type ChangeRecord } from './record.js';

/** The files remediation reads: plans, change records and findings. Each problem names the file and line. */

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigurationError('BAD_INPUT', `cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

export async function readPlan(file: string): Promise<Plan> {
  const text = await readText(file, 'plan');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError('BAD_PLAN', `${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = PlanSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.') || '(plan)'}: ${i.message}`);
    throw new ConfigurationError('BAD_PLAN', `${file} is not a cronwarden remediation plan (version 1):\n${issues.join('\n')}`);
  }
  return parsed.data;
}

export async function readRecords(file: string): Promise<ChangeRecord[]> {
  const text = await readText(file, 'records file');
  const records: ChangeRecord[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new ConfigurationError('BAD_RECORDS', `${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    const parsed = ChangeRecordSchema.safeParse(json);
    if (!parsed.success) throw new ConfigurationError('BAD_RECORDS', `${file}:${i + 1}: not a remediation record: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    records.push(parsed.data);
  }
  return records;
}

/** A findings file as a scan writes it (JSON lines, or one JSON array); unreadable lines are named and skipped. */
export async function readFindings(file: string): Promise<{ findings: Finding[]; problems: string[] }> {
  const text = await readText(file, 'findings file');
  const problems: string[] = [];
  const findings: Finding[] = [];
  const take = (value: unknown, where: string) => {
    const parsed = FindingSchema.safeParse(value);
    if (parsed.success) findings.push(parsed.data);
    else problems.push(`${where}: not a finding: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (err) {
      throw new ConfigurationError('BAD_FINDINGS', `${file} is not JSON: ${(err as Error).message}`);
    }
    (list as unknown[]).forEach((v, i) => take(v, `${file}[${i}]`));
  } else {
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        const value = JSON.parse(line) as Record<string, unknown>;
        // Findings written as Cloud Logging entries carry the finding under `finding`.
        take(value.event === 'finding' && value.finding ? value.finding : value, `${file}:${i + 1}`);
      } catch (err) {
        problems.push(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
      }
    }
  }
  return { findings, problems };
}


/** Fails early, naming the setting, when a file cannot be written there: before a scan, not after it. */
export async function checkWritable(path: string, what: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch (err) {
    throw new ConfigurationError('BAD_OUTPUT', `cannot write the ${what} to ${path}: ${(err as Error).message}`);
  }
}

export async function writeJsonFile(path: string, value: unknown, what: string): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  } catch (err) {
    throw new ConfigurationError('BAD_OUTPUT', `cannot write the ${what} to ${path}: ${(err as Error).message}`);
  }
}

/** A file opened for writing now, so that a bad path is a clear error and not a stream error later. */
export async function openOutput(path: string, what: string): Promise<Writable> {
  try {
    const handle = await open(path, 'w');
    return handle.createWriteStream();
  } catch (err) {
    throw new ConfigurationError('BAD_OUTPUT', `cannot open the ${what} ${path}: ${(err as Error).message}`);
  }
}
