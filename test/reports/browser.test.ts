/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/schema.js';
import { runCli, sampleInputs } from '../support/cli-harness.js';

/**
 * The HTML report of the sample organization in a real headless Chromium (Debian's `chromium`;
 * CHROMIUM_PATH overrides where it is): counts, the severity filter, hostile text shown as text,
 * and the page with JavaScript off. UPDATE_SCREENSHOT=1 also writes docs/report-screenshot.png.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const HOSTILE_JOB = `evil"'<b>bold\u202eevil-rtl`;
const HOSTILE_MESSAGE = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> "quoted" 'single'`;

let dir: string;
let page: string;
let findings: Finding[];
let browser: Browser;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('the browser test needs Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  dir = await mkdtemp(join(tmpdir(), 'cronwarden-browser-'));
  const scan = join(dir, 'scan.json');
  expect((await runCli(['scan', ...sampleInputs(), '--format', 'json', '--output', scan])).code).toBe(0);
  const sample = JSON.parse(await readFile(scan, 'utf8')) as { findings: Finding[] };
  const base = sample.findings[0]!;
  const hostile: Finding = {
    ...base,
    findingId: 'f'.repeat(32),
    message: HOSTILE_MESSAGE,
    job: { ...base.job, name: `projects/${base.job.project}/locations/${base.job.location}/jobs/${HOSTILE_JOB}` },
  };
  const extra = join(dir, 'hostile.jsonl');
  await writeFile(extra, `${JSON.stringify(hostile)}\n`);
  findings = [...sample.findings, hostile];
  page = join(dir, 'report.html');
  const run = await runCli(['report', '--findings', scan, '--findings', extra, '--format', 'html', '--output', page]);
  expect(run.code, run.stderr).toBe(0);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(javaScript = true): Promise<{ p: Page; dialogs: string[]; requests: string[] }> {
  const p = await browser.newPage();
  await p.setViewport({ width: 1280, height: 900 });
  await p.setJavaScriptEnabled(javaScript);
  const dialogs: string[] = [];
  const requests: string[] = [];
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  p.on('request', (r) => requests.push(r.url()));
  await p.goto(pathToFileURL(page).href, { waitUntil: 'load' });
  return { p, dialogs, requests };
}

const visibleRows = (p: Page): Promise<{ severity: string }[]> =>
  p.$$eval('tbody tr.finding', (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => ({ severity: (r as HTMLElement).dataset.severity! })));

describe('HTML report in Chromium', () => {
  it('shows counts that match the findings, filters by severity, and makes no request', { timeout: 60_000 }, async () => {
    const { p, requests } = await open();
    expect(await p.$eval('#count-total', (e) => e.textContent)).toBe(String(findings.length));
    for (const status of ['fail', 'unverifiable', 'pass']) {
      expect(await p.$eval(`#count-${status}`, (e) => e.textContent)).toBe(String(findings.filter((f) => f.status === status).length));
    }
    expect(await visibleRows(p)).toHaveLength(findings.length);
    expect(await p.$eval('#filters', (e) => (e as HTMLElement).hidden)).toBe(false);

    await p.select('#f-severity', 'high');
    const high = await visibleRows(p);
    expect(high).toHaveLength(findings.filter((f) => f.severity === 'high').length);
    expect(high.every((r) => r.severity === 'high')).toBe(true);
    expect(await p.$eval('#shown', (e) => e.textContent)).toBe(String(high.length));

    await p.select('#f-severity', 'low');
    expect(await visibleRows(p)).toHaveLength(findings.filter((f) => f.severity === 'low').length);
    await p.select('#f-severity', '');
    await p.type('#q', 'ghost@acme-prod');
    expect(await visibleRows(p)).toHaveLength(findings.filter((f) => JSON.stringify(f).includes('ghost@acme-prod') && f.message.includes('ghost@acme-prod')).length);

    // Sorting by severity puts the rows in rank order, either way round.
    await p.$eval('#q', (e) => ((e as HTMLInputElement).value = ''));
    await p.evaluate(() => document.getElementById('q')!.dispatchEvent(new Event('input')));
    await p.click('th button[data-sort="rank"]');
    const ranks = await p.$$eval('tbody tr.finding', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.rank)));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    await p.click('th button[data-sort="rank"]');
    const reversed = await p.$$eval('tbody tr.finding', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.rank)));
    expect(reversed).toEqual([...ranks].sort((a, b) => b - a));

    // Only the page itself was loaded: no font, script, style or image from anywhere.
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    const shot = await p.screenshot({ type: 'png' });
    expect(Buffer.from(shot).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(shot.length).toBeGreaterThan(20_000);
    await p.close();
    if (process.env.UPDATE_SCREENSHOT === '1') {
      // The picture in the docs is of the sample organization alone, one finding opened.
      const samplePage = join(dir, 'sample.html');
      expect((await runCli(['report', '--findings', join(dir, 'scan.json'), '--format', 'html', '--output', samplePage])).code).toBe(0);
      const s = await browser.newPage();
      await s.setViewport({ width: 1280, height: 1000 });
      await s.goto(pathToFileURL(samplePage).href, { waitUntil: 'load' });
      await s.$eval('tbody tr.finding details', (d) => ((d as HTMLDetailsElement).open = true));
      await s.screenshot({ path: 'docs/report-screenshot.png', type: 'png', fullPage: false });
      await s.close();
    }
  });

  it('shows a hostile job name and message as text: no script runs, no markup, the RTL override visible', { timeout: 60_000 }, async () => {
    const { p, dialogs } = await open();
    const row = await p.$('tr.finding[data-job^="evil"]');
    expect(row).not.toBeNull();
    const cells = await row!.$$eval('td', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(cells[4]).toContain(`evil"'<b>bold\\u202eevil-rtl`);
    expect(cells[5]).toContain('<script>window.__pwned = 1</script>');
    expect(await row!.$$('b, img, script')).toHaveLength(0);
    expect(await p.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await p.evaluate(() => document.body.innerText.includes('\u202e'))).toBe(false);
    expect(dialogs).toEqual([]);
    await p.close();
  });

  it('reads fully with JavaScript off: every finding, its evidence and fix commands', { timeout: 60_000 }, async () => {
    const { p } = await open(false);
    expect(await p.$$eval('tbody tr.finding', (rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).length)).toBe(findings.length);
    const details = await p.$$eval('tbody tr.finding details', (d) => d.map((x) => x.textContent ?? ''));
    const withCommands = findings.filter((f) => (f.remediation.commands ?? []).length > 0);
    expect(details.filter((t) => t.includes('gcloud ')).length).toBe(withCommands.length);
    // The filters need JavaScript: without it they stay hidden rather than doing nothing.
    expect(await p.$eval('#filters', (e) => (e as HTMLElement).hidden)).toBe(true);
    await p.close();
  });
});
