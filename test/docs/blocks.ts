import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The fenced blocks of the project's Markdown docs, with the `docs-test` markers that say how the
 * docs test treats them. A marker is an HTML comment on the line right before the fence (blank
 * lines between are allowed), invisible on a rendered page:
 *
 *   <!-- docs-test: skip REASON -->   a shell block that cannot run here (needs Google Cloud,
 *                                     Docker, the registry, or is the test suite itself); the
 *                                     reason is required
 *   <!-- docs-test: background -->    a shell block that starts a server: it runs in the
 *                                     background until the file's last block has run
 *   <!-- docs-test: exit N -->        a shell block expected to exit with N (default 0)
 *   <!-- docs-test: output -->        this block is output of the shell block before it: each of
 *                                     its lines must appear in that block's stdout, in order,
 *                                     with `…` standing for any text
 *
 * Every `sh`, `bash` or `shell` block is run unless it is marked `skip`.
 */
export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  marker?: { kind: 'skip' | 'background' | 'exit' | 'output'; arg: string };
}

export const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);
const MARKER = /^<!--\s*docs-test:\s*(skip|background|exit|output)\b\s*(.*?)\s*-->\s*$/;

/** README.md and docs/*.md, the docs a user reads. */
export function docFiles(repo: string): string[] {
  return ['README.md', ...readdirSync(join(repo, 'docs')).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)];
}

export function parseBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let end = i + 1;
    while (end < lines.length && lines[end] !== fence) end++;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const m = before >= 0 ? MARKER.exec(lines[before]!.trim()) : null;
    const block: DocBlock = { file, line: i + 1, lang: open[2]!, text: lines.slice(i + 1, end).join('\n') };
    if (m) block.marker = { kind: m[1] as NonNullable<DocBlock['marker']>['kind'], arg: m[2]! };
    blocks.push(block);
    i = end;
  }
  return blocks;
}

/** An unlabelled block that reads as commands: it should say `sh`, so that it is run. */
export function looksLikeCommands(block: DocBlock): boolean {
  if (block.lang !== '') return false;
  const first = block.text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return first !== undefined && /^(npm|npx|node|cronwarden|gcloud|docker|bq|bash|deploy\/|[A-Z_]+=\S+ (npm|npx|cronwarden|node))\b/.test(first.trim());
}

/** Whether each expected line appears in `actual`, in order; `…` in an expected line matches any text. */
export function missingLines(expected: string, actual: string): string[] {
  const have = actual.split('\n');
  const missing: string[] = [];
  let at = 0;
  for (const want of expected.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const pattern = new RegExp(`^\\s*${want.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}\\s*$`);
    const found = have.findIndex((l, i) => i >= at && pattern.test(l));
    if (found === -1) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

export function readBlocks(repo: string): DocBlock[] {
  return docFiles(repo).flatMap((f) => parseBlocks(f, readFileSync(join(repo, f), 'utf8')));
}
