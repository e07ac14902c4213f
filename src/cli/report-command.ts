import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { allRules } from '../../rules/index.js';
import { envList } from '../config/config.js';
import { loadRulePacks } from '../engine/rule-packs.js';
import { ConfigurationError } from '../errors.js';
import { readFindingsFile } from '../reports/read-findings.js';
import { REPORT_FORMATS, isReportFormat, ruleInfos, type ReportInput } from '../reports/report-input.js';
import { writeReport } from '../reports/write-report.js';
import { escapeTerminal } from '../text/escape-terminal.js';
import { VERSION } from '../version.js';
import { REPORT_HELP } from './help.js';
import type { CliIo } from './main.js';

/** `cronwarden report`: html, markdown, sarif or csv from the findings of one or more scans. */
export async function reportCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        findings: { type: 'string', multiple: true },
        format: { type: 'string' },
        output: { type: 'string' },
        'rule-pack': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigurationError('BAD_FLAGS', `${(err as Error).message}\nRun 'cronwarden report --help'.`);
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(REPORT_HELP);
    return 0;
  }
  const files = v.findings ?? [];
  if (files.length === 0) throw new ConfigurationError('BAD_FLAGS', `report: give --findings FILE (scan --format json or jsonl output)\nRun 'cronwarden report --help'.`);
  if (!v.format || !isReportFormat(v.format)) {
    throw new ConfigurationError('BAD_FLAGS', `report: --format must be one of ${REPORT_FORMATS.join(', ')}${v.format ? ` (got "${escapeTerminal(v.format)}")` : ''}`);
  }
  if (!v.output) throw new ConfigurationError('BAD_FLAGS', `report: give --output FILE ('-' for stdout)`);
  const rules = await loadRulePacks(v['rule-pack'] ?? envList(io.env, 'rulePacks'), allRules);

  const input: ReportInput = {
    findings: [],
    summaries: [],
    withoutSummary: [],
    problems: [],
    rules: ruleInfos(rules),
    generatedAt: new Date().toISOString(),
    version: VERSION,
  };
  for (const file of files) {
    const read = await readFindingsFile(file);
    for (const f of read.findings) input.findings.push(f);
    if (read.summary) input.summaries.push(read.summary);
    else input.withoutSummary.push(file);
    for (const p of read.problems) input.problems.push(p);
  }
  for (const p of input.problems.slice(0, 20)) io.stderr.write(`cronwarden: ${p}\n`);
  if (input.problems.length > 20) io.stderr.write(`cronwarden: … ${input.problems.length - 20} more unreadable findings\n`);

  // The output is opened before anything is written: one that cannot be opened is a usage error.
  let out: Writable = io.stdout;
  let file: Writable | undefined;
  if (v.output !== '-') {
    try {
      const handle = await open(v.output, 'w');
      file = createWriteStream('', { fd: handle });
    } catch (err) {
      throw new ConfigurationError('BAD_OUTPUT', `--output ${v.output}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    out = file;
  }
  await writeReport(out, v.format, input);
  if (file) await new Promise<void>((resolve, reject) => file!.end((err?: Error | null) => (err ? reject(err) : resolve())));
  io.stderr.write(
    `cronwarden: wrote ${v.format} report of ${input.findings.length} findings to ${v.output === '-' ? 'stdout' : v.output}` +
      `${input.withoutSummary.length > 0 ? ' (coverage information not available for the JSONL input)' : ''}\n`,
  );
  return input.problems.length > 0 ? 3 : 0;
}
