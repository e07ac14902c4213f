import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import AjvDraft04Module from 'ajv-draft-04';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { SEVERITIES, type Finding } from '../../src/findings/schema.js';
import { CSV_COLUMNS } from '../../src/reports/csv.js';
import { uriReference } from '../../src/reports/sarif.js';
import { MARKDOWN_LIMIT, renderMarkdown } from '../../src/reports/markdown.js';
import { ruleInfos, type ReportInput } from '../../src/reports/report-input.js';
import { writeReport } from '../../src/reports/write-report.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';
import { aFinding, aSummary } from '../sinks/finding-builder.js';

// ajv-draft-04 is CommonJS: its class is the module's `default`.
const AjvDraft04 = AjvDraft04Module.default;

// The SARIF 2.1.0 schema (rtm.5, the revision OASIS approved as 2.1.0), as @microsoft/jest-sarif ships it.
const SARIF_SCHEMA = JSON.parse(readFileSync(new URL('../support/sarif/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8')) as object;

let dir: string;
let jsonFile: string;
let jsonlFile: string;
let sample: { findings: Finding[]; summary: { coverageGaps: unknown[]; partial: boolean } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-reports-'));
  jsonFile = join(dir, 'scan.json');
  jsonlFile = join(dir, 'scan.jsonl');
  expect((await runCli(['scan', ...sampleInputs(), '--format', 'json', '--output', jsonFile])).code).toBe(0);
  expect((await runCli(['scan', ...sampleInputs(), '--format', 'jsonl', '--output', jsonlFile])).code).toBe(0);
  sample = JSON.parse(await readFile(jsonFile, 'utf8')) as typeof sample;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(format: string, files = [jsonFile]): Promise<{ code: number; text: string; stderr: string }> {
  const output = join(dir, `report-${format}-${files.length}`);
  const run = await runCli(['report', ...files.flatMap((f) => ['--findings', f]), '--format', format, '--output', output]);
  return { code: run.code, text: run.code === 0 || run.code === 3 ? await readFile(output, 'utf8') : '', stderr: run.stderr };
}

describe('SARIF', () => {
  it('validates against the SARIF 2.1.0 schema and carries what code scanning reads', async () => {
    const { code, text } = await report('sarif');
    expect(code).toBe(0);
    const log = JSON.parse(text);
    const ajv = new AjvDraft04({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false });
    const validate = ajv.compile(SARIF_SCHEMA);
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toBe(true);
    const run = log.runs[0];
    const rules = run.tool.driver.rules as { id: string; help: { text: string }; helpUri?: string; defaultConfiguration: { level: string }; properties: Record<string, string> }[];
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(allRules.map((r) => r.meta.id)));
    for (const r of rules) {
      expect(r.help.text.length).toBeGreaterThan(20);
      expect(r.helpUri).toMatch(/^https:\/\//);
      expect(['error', 'warning', 'note']).toContain(r.defaultConfiguration.level);
      expect(Number(r.properties['security-severity'])).toBeGreaterThanOrEqual(0);
    }
    const nonPassing = sample.findings.filter((f) => f.status !== 'pass');
    expect(run.results).toHaveLength(nonPassing.length);
    for (const [i, r] of (run.results as Record<string, any>[]).entries()) {
      const f = nonPassing[i]!;
      expect(r.ruleId).toBe(f.ruleId);
      expect(rules[r.ruleIndex]!.id).toBe(f.ruleId);
      expect(r.partialFingerprints['findingId/v1']).toBe(f.findingId);
      const uri = `//cloudscheduler.googleapis.com/${f.job.name}`;
      expect(r.locations[0].physicalLocation.artifactLocation.uri).toBe(uri);
      expect(r.locations[0].logicalLocations[0].fullyQualifiedName).toBe(uri);
      expect(['error', 'warning', 'note']).toContain(r.level);
    }
  });

  // The schema gives artifactLocation.uri the format uri-reference, which the validator above does
  // not check: a job name from a forged inventory went in raw (spaces, quotes, ESC, a newline).
  it('writes a URI reference for any job name: RFC 3986 characters only, decoding back to the name', async () => {
    const hostile = 'projects/acme-prod/locations/us-central1/jobs/a b\u001b[31m\n"x"%\u202e\u{1F600}';
    const file = join(dir, 'hostile-name.jsonl');
    await writeFile(file, `${JSON.stringify({ ...sample.findings.find((f) => f.status === 'fail')!, job: { ...sample.findings[0]!.job, name: hostile } })}\n`);
    const { code, text } = await report('sarif', [file]);
    expect(code).toBe(0);
    const location = JSON.parse(text).runs[0].results[0].locations[0];
    const uri = location.physicalLocation.artifactLocation.uri as string;
    expect(uri).toMatch(/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]+$/);
    expect(decodeURIComponent(uri)).toBe(`//cloudscheduler.googleapis.com/${hostile}`);
    expect(location.logicalLocations[0].fullyQualifiedName).toBe(`//cloudscheduler.googleapis.com/${hostile}`);
    expect(uriReference('//cloudscheduler.googleapis.com/projects/p-1/locations/us-east1/jobs/Nightly_job-2')).toBe('//cloudscheduler.googleapis.com/projects/p-1/locations/us-east1/jobs/Nightly_job-2');
  });

  it('the validator refuses a broken log (the check can fail)', () => {
    const ajv = new AjvDraft04({ strict: false, validateFormats: false, unicodeRegExp: false });
    const validate = ajv.compile(SARIF_SCHEMA);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} }, results: [{ level: 'fatal' }] }] })).toBe(false);
  });
});

describe('CSV', () => {
  it('is RFC 4180: one row per finding, CRLF, quoted fields with commas, quotes and line breaks', async () => {
    const { text } = await report('csv');
    expect(text).toContain('\r\n');
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(sample.findings.length);
    expect(rows.map((r) => r.findingId).sort()).toEqual(sample.findings.map((f) => f.findingId).sort());
    const withCommands = rows.find((r) => r.commands!.includes('\n'))!;
    expect(withCommands.commands!.split('\n').every((c) => c.startsWith('gcloud '))).toBe(true);
  });

  it("keeps a spreadsheet from reading inventory text as a formula", async () => {
    const f = aFinding(1, 'scan-x', { message: '=HYPERLINK("http://evil.example","x"), "quoted"' });
    const out: string[] = [];
    await writeReport(collect(out), 'csv', input([f]));
    const [row] = parseCsv(out.join(''), { columns: true }) as Record<string, string>[];
    expect(row!.message).toBe(`'=HYPERLINK("http://evil.example","x"), "quoted"`);
  });
});

describe('Markdown', () => {
  it('shows the summary and every sample finding grouped by rule, fixes in code blocks', async () => {
    const { text } = await report('markdown');
    expect(text.length).toBeLessThan(MARKDOWN_LIMIT);
    expect(text).toContain('| severity | fail | unverifiable |');
    for (const rule of new Set(sample.findings.filter((f) => f.status !== 'pass').map((f) => f.ruleId))) expect(text).toContain(`## \`${rule}\``);
    expect(text).toContain('```sh\n    gcloud ');
    expect(text).not.toContain('not shown');
  });

  it('stays under 65,536 characters by cutting, and says how many findings were left out', () => {
    const many = Array.from({ length: 3000 }, (_, i) => aFinding(i));
    const text = renderMarkdown(input(many));
    expect(text.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const m = /\*\*(\d+) of 3000 findings not shown\*\*/.exec(text);
    expect(m).not.toBeNull();
    const shown = (text.match(/^- \*\*/gm) ?? []).length;
    expect(shown + Number(m![1])).toBe(3000);
  });

  it('takes inventory text literally: no markup, links or code fences from a job', () => {
    const f = aFinding(2, 's', { message: '<img src=x onerror=alert(1)> [x](http://evil) ``` `' });
    const text = renderMarkdown(input([{ ...f, remediation: { ...f.remediation, commands: ['gcloud x ```\n# injected'] } }]));
    expect(text).not.toMatch(/(^|[^\\])<img/m);
    expect(text).not.toMatch(/(^|[^\\])\[x\]\(http/m);
    expect(text).toContain('\\<img');
    expect(text).toContain('````sh');
  });
});

describe('HTML', () => {
  it('is one self-contained file: a CSP that allows no request, every value escaped', async () => {
    const { text } = await report('html');
    expect(text).toContain("default-src 'none'");
    expect(text).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(text).not.toMatch(/url\(/);
    expect(text.match(/<tr class="finding"/g)).toHaveLength(sample.findings.length);
    expect(text).toContain('<svg');
    const hostile = aFinding(3, 's', { message: '<script>alert(1)</script> "q" \'s\' \u202eevil' });
    const out: string[] = [];
    await writeReport(collect(out), 'html', input([hostile]));
    const page = out.join('');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).not.toContain('\u202e');
    expect(page).toContain('\\u202eevil');
  });
});

describe('report inputs', () => {
  it('from JSONL says that coverage and partial-scan information was not available', async () => {
    for (const format of ['html', 'markdown', 'sarif']) {
      const { code, text } = await report(format, [jsonlFile]);
      expect(code).toBe(0);
      expect(text).toMatch(/coverage and partial-scan information was not available/);
    }
  });

  it('from scan JSON shows coverage gaps and partial-scan warnings at the top', async () => {
    const partial = { findings: sample.findings.slice(0, 3), summary: { ...aSummary(sample.findings.slice(0, 3)), partial: true, coverageGaps: [{ scope: 'organizations/42', reason: 'PERMISSION_DENIED' }] } };
    const file = join(dir, 'partial.json');
    await writeFile(file, JSON.stringify(partial));
    const { text } = await report('html', [file]);
    const warningsAt = text.indexOf('id="warnings"');
    expect(warningsAt).toBeGreaterThan(0);
    expect(warningsAt).toBeLessThan(text.indexOf('<table'));
    expect(text).toContain('organizations/42: PERMISSION_DENIED');
  });

  it('names unreadable lines, keeps the rest, and exits 3; a missing file is a usage error', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, `${JSON.stringify(sample.findings[0])}\nnot json\n{"ruleId":"x"}\n`);
    const { code, text, stderr } = await report('csv', [file]);
    expect(code).toBe(3);
    expect(stderr).toContain(`${file}:2: not a JSON object`);
    expect(stderr).toContain(`${file}:3:`);
    expect((parseCsv(text, { columns: true }) as unknown[]).length).toBe(1);
    const missing = await runCli(['report', '--findings', join(dir, 'nope.json'), '--format', 'csv', '--output', join(dir, 'x.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
    expect(missing.stderr).not.toContain('    at ');
  });

  it('scan --format writes the same reports directly, with the summary', async () => {
    for (const format of ['html', 'markdown', 'sarif', 'csv']) {
      const run = await runCli(['scan', ...sampleInputs(), '--format', format]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.length).toBeGreaterThan(100);
      if (format !== 'csv') expect(run.stdout).not.toMatch(/not available/);
    }
  });
});

describe('every format at scale', () => {
  it('writes 150,000 findings (past the 128k that overflowed argument lists) in every format', { timeout: 300_000 }, async () => {
    const base = aFinding(5);
    const findings: Finding[] = [];
    for (let i = 0; i < 150_000; i++) {
      findings.push({ ...base, findingId: i.toString(16).padStart(32, '0'), severity: SEVERITIES[i % 5]!, job: { ...base.job, name: `projects/p${i % 40}/locations/l/jobs/j${i}`, project: `p${i % 40}` } });
    }
    for (const format of ['html', 'markdown', 'sarif', 'csv'] as const) {
      let bytes = 0;
      const sink = new Writable({ write: (c: Buffer, _e, done) => ((bytes += c.length), done()) });
      await writeReport(sink, format, input(findings));
      expect(bytes, format).toBeGreaterThan(format === 'markdown' ? 10_000 : 10_000_000);
    }
  });
});

function collect(out: string[]): Writable {
  return new Writable({ write: (c: Buffer, _e, done) => (out.push(c.toString('utf8')), done()) });
}

function input(findings: Finding[]): ReportInput {
  return { findings, summaries: [aSummary(findings)], withoutSummary: [], problems: [], rules: ruleInfos(allRules), generatedAt: '2026-03-01T06:00:00.000Z', version: '0.0.0-test' };
}
