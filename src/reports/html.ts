import { createHash } from 'node:crypto';
import type { Finding, Severity } from '../findings/schema.js';
import { SEVERITIES, STATUSES } from '../findings/schema.js';
import { escapeTerminal } from '../text/escape-terminal.js';
import { compareFindings, countFindings, ruleInfoOf, scanWarnings, type ReportInput } from './report-input.js';

/**
 * One self-contained HTML file (mailed, archived, opened offline): no request leaves it, which its
 * Content-Security-Policy enforces. Everything is rendered on the server side, so the page reads
 * fully with JavaScript off; the one inline script adds filtering, sorting and copy buttons.
 * Every value from the inventory goes through `html()`: markup is shown as text, and control and
 * bidi characters as visible escapes.
 */

export function html(text: string): string {
  return escapeTerminal(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Multi-line text (evidence, Terraform): line breaks kept, everything else as in `html()`. */
export function htmlBlock(text: string): string {
  return text.split('\n').map(html).join('\n');
}

const SEVERITY_COLOUR: Record<Severity, string> = { critical: '#7b1fa2', high: '#c62828', medium: '#ef6c00', low: '#1565c0', info: '#607d8b' };

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}
header,main{max-width:1400px;margin:0 auto;padding:12px 20px}
header{background:#24292e;color:#fff;max-width:none}
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#d1d5da}
.warnings{background:#fff8e1;border:1px solid #f9a825;border-radius:6px;padding:8px 16px;margin:12px 0}
.warnings li{margin:2px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}
.charts{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px;margin:0}
.chart h2{font-size:14px;margin:0 0 6px}
#filters{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:12px 0}
#filters input,#filters select{font:inherit;padding:4px 6px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid #eaecef;overflow-wrap:break-word}
th,td:nth-child(-n+2){white-space:nowrap}
td:nth-child(3),td:nth-child(5){max-width:260px}
th button{font:inherit;font-weight:600;border:0;background:none;cursor:pointer;padding:0}
.sev{font-weight:600;color:#fff;border-radius:4px;padding:0 6px;white-space:nowrap}
${SEVERITIES.map((s) => `.sev-${s}{background:${SEVERITY_COLOUR[s]}}`).join('\n')}
.st-fail{color:#c62828;font-weight:600}.st-unverifiable{color:#ef6c00}.st-pass{color:#2e7d32}
details summary{cursor:pointer}
pre{background:#f6f8fa;border:1px solid #eaecef;border-radius:4px;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0;max-width:900px}
.cmd{display:flex;gap:6px;align-items:flex-start}.cmd pre{flex:1}
.muted{color:#57606a}
`;

const SCRIPT = `
(function(){
  var rows=[].slice.call(document.querySelectorAll('tbody tr.finding'));
  var f=document.getElementById('filters');f.hidden=false;
  var q=document.getElementById('q'),sev=document.getElementById('f-severity'),st=document.getElementById('f-status'),
      ru=document.getElementById('f-rule'),pr=document.getElementById('f-project'),shown=document.getElementById('shown');
  function apply(){
    var text=q.value.toLowerCase(),n=0;
    rows.forEach(function(r){
      var ok=(!sev.value||r.dataset.severity===sev.value)&&(!st.value||r.dataset.status===st.value)&&
        (!ru.value||r.dataset.rule===ru.value)&&(!pr.value||r.dataset.project===pr.value)&&
        (!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.hidden=!ok;if(ok)n++;
    });
    shown.textContent=String(n);
  }
  [q,sev,st,ru,pr].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply);});
  var body=document.querySelector('tbody'),dir={};
  [].slice.call(document.querySelectorAll('th button[data-sort]')).forEach(function(b){
    b.addEventListener('click',function(){
      var k=b.dataset.sort;dir[k]=-(dir[k]||-1);
      rows.sort(function(x,y){
        var a=x.dataset[k],c=y.dataset[k];
        if(k==='rank'){a=+a;c=+c;}
        return (a<c?-1:a>c?1:0)*dir[k];
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  [].slice.call(document.querySelectorAll('button.copy')).forEach(function(b){
    b.hidden=false;
    b.addEventListener('click',function(){
      var code=b.parentNode.querySelector('code').textContent;
      if(navigator.clipboard){navigator.clipboard.writeText(code).then(function(){b.textContent='Copied';},function(){b.textContent='Copy failed';});}
    });
  });
  apply();
})();
`;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** A horizontal bar chart as inline SVG; the largest `max` entries, the rest summed as "others". */
export function barChart(title: string, entries: [string, number, string?][], max = 12): string {
  const sorted = entries.filter(([, n]) => n > 0);
  const shown = sorted.slice(0, max);
  if (sorted.length > max) shown.push([`${sorted.length - max} others`, sorted.slice(max).reduce((a, [, n]) => a + n, 0), '#9e9e9e']);
  let top = 0;
  for (const [, n] of shown) if (n > top) top = n;
  const rowH = 20;
  const labelW = 190;
  const barW = 200;
  const h = Math.max(1, shown.length) * rowH + 4;
  const bars = shown
    .map(([label, n, colour], i) => {
      const y = i * rowH + 2;
      const w = top > 0 ? Math.max(2, Math.round((n / top) * barW)) : 0;
      const short = label.length > 28 ? `${label.slice(0, 27)}…` : label;
      return (
        `<g><title>${html(label)}: ${n}</title>` +
        `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end" font-size="12">${html(short)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 6}" fill="${colour ?? '#0969da'}"></rect>` +
        `<text x="${labelW + w + 4}" y="${y + 14}" font-size="12">${n}</text></g>`
      );
    })
    .join('');
  const body = shown.length > 0 ? bars : `<text x="4" y="16" font-size="12">none</text>`;
  return `<figure class="chart"><h2>${html(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 50}" height="${h}" role="img" aria-label="${html(title)}">${body}</svg></figure>`;
}

function option(value: string, label = value): string {
  return `<option value="${html(value)}">${html(label)}</option>`;
}

function safeLink(url: string | undefined): string {
  return url && /^https:\/\/[^\s"'<>]+$/.test(url) ? `<a href="${html(url)}" rel="noreferrer">${html(url)}</a>` : '';
}

function findingRow(f: Finding, input: ReportInput): string {
  const jobId = f.job.name.slice(f.job.name.lastIndexOf('/') + 1);
  const info = ruleInfoOf(input, f);
  const commands = (f.remediation.commands ?? [])
    .map((c) => `<div class="cmd"><pre><code>${html(c)}</code></pre><button type="button" class="copy" hidden>Copy</button></div>`)
    .join('');
  const evidence = Object.keys(f.evidence).length > 0 ? `<h4>Evidence</h4><pre>${htmlBlock(JSON.stringify(f.evidence, null, 2))}</pre>` : '';
  const details =
    `<p class="muted">Job <code>${html(f.job.name)}</code> (${html(f.job.state)})${f.job.uri ? ` calls <code>${html(f.job.uri)}</code>` : ''}; target ${html(f.target.kind)}${f.target.resource ? ` <code>${html(f.target.resource)}</code>` : ''}. Finding <code>${html(f.findingId)}</code>.</p>` +
    evidence +
    `<h4>Fix</h4><p>${html(f.remediation.summary)}</p>${commands}` +
    (f.remediation.terraform ? `<h4>Terraform</h4><div class="cmd"><pre><code>${htmlBlock(f.remediation.terraform)}</code></pre><button type="button" class="copy" hidden>Copy</button></div>` : '') +
    (f.remediation.docsUrl || info.docsUrl ? `<p>Documentation: ${safeLink(f.remediation.docsUrl ?? info.docsUrl)}</p>` : '');
  return (
    `<tr class="finding" data-severity="${f.severity}" data-status="${f.status}" data-rule="${html(f.ruleId)}" data-project="${html(f.job.project)}" ` +
    `data-job="${html(jobId)}" data-rank="${SEVERITIES.indexOf(f.severity)}">` +
    `<td><span class="sev sev-${f.severity}">${f.severity}</span></td>` +
    `<td class="st-${f.status}">${f.status}</td>` +
    `<td>${html(f.ruleId)}</td><td>${html(f.job.project)}</td><td>${html(f.job.location)}/${html(jobId)}</td>` +
    `<td><details><summary>${html(f.message)}</summary>${details}</details></td></tr>\n`
  );
}

/** The HTML report in pieces, so that a large report is never one string. */
export function* renderHtml(input: ReportInput): Generator<string> {
  const findings = [...input.findings].sort(compareFindings);
  const counts = countFindings(findings);
  const warnings = scanWarnings(input);
  const csp = `default-src 'none'; style-src 'sha256-${sha256(STYLE)}'; script-src 'sha256-${sha256(SCRIPT)}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const scans = input.summaries.map((s) => `scan ${html(s.scanId)}: ${s.jobsScanned} jobs from ${s.assetsRead} assets, started ${html(s.startedAt)}`);
  yield `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>cronwarden report</title><style>${STYLE}</style></head><body>\n`;
  yield `<header><h1>cronwarden report</h1><p>cronwarden ${html(input.version)}, generated ${html(input.generatedAt)}${scans.length > 0 ? `; ${scans.join('; ')}` : ''}</p></header><main>\n`;
  if (warnings.length > 0) {
    yield `<section class="warnings" id="warnings"><h2>Coverage and partial-scan warnings</h2><ul>${warnings.map((w) => `<li>${html(w)}</li>`).join('')}</ul></section>\n`;
  }
  yield `<section class="cards" id="counts">` +
    `<div class="card">findings<b id="count-total">${counts.total}</b></div>` +
    STATUSES.map((s) => `<div class="card">${s}<b id="count-${s}">${counts.byStatus[s]}</b></div>`).join('') +
    `</section>\n`;
  yield `<section class="charts">` +
    barChart('By severity', SEVERITIES.map((s) => [s, counts.bySeverity[s], SEVERITY_COLOUR[s]]), 5) +
    barChart('By rule', [...counts.byRule].sort((a, b) => b[1] - a[1])) +
    barChart('By project', [...counts.byProject].sort((a, b) => b[1] - a[1])) +
    `</section>\n`;
  const rules = [...counts.byRule.keys()].sort();
  const projects = [...counts.byProject.keys()].sort();
  yield `<div id="filters" hidden><input id="q" type="search" placeholder="Search findings" aria-label="Search">` +
    `<select id="f-severity" aria-label="Severity">${option('', 'any severity')}${SEVERITIES.map((s) => option(s)).join('')}</select>` +
    `<select id="f-status" aria-label="Status">${option('', 'any status')}${STATUSES.map((s) => option(s)).join('')}</select>` +
    `<select id="f-rule" aria-label="Rule">${option('', 'any rule')}${rules.map((r) => option(r)).join('')}</select>` +
    `<select id="f-project" aria-label="Project">${option('', 'any project')}${projects.map((p) => option(p)).join('')}</select>` +
    `<span><b id="shown">${counts.total}</b> of ${counts.total} shown</span></div>\n`;
  yield `<table id="findings"><thead><tr>` +
    `<th><button type="button" data-sort="rank">Severity</button></th><th><button type="button" data-sort="status">Status</button></th>` +
    `<th><button type="button" data-sort="rule">Rule</button></th><th><button type="button" data-sort="project">Project</button></th>` +
    `<th><button type="button" data-sort="job">Job</button></th><th>Message (click for evidence and fix)</th></tr></thead><tbody>\n`;
  for (const f of findings) yield findingRow(f, input);
  yield `</tbody></table>${findings.length === 0 ? '<p>No findings.</p>' : ''}</main><script>${SCRIPT}</script></body></html>\n`;
}
