import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigurationError } from '../errors.js';
import { ExceptionsFileSchema, type ExceptionEntry } from './schema.js';

export const EXCEPTIONS_MAX_DAYS_DEFAULT = 365;

export interface LoadedExceptions {
  path: string;
  entries: LoadedEntry[];
}

export interface LoadedEntry extends ExceptionEntry {
  /** `id`, or `#N`: its position in the file. */
  label: string;
  line: number;
  rules: string[];
}

/**
 * Reads and validates an exceptions file (YAML, or JSON, which is YAML too). Every problem is a
 * configuration error naming the file, the entry (number, id and line) and the field; checked
 * before anything is scanned. Rule ids must be those of the rules loaded; an `expires` more than
 * `maxDays` after `today` is refused (an exception is a decision with a date, not a mute).
 */
export function loadExceptions(path: string, opts: { knownRules: ReadonlySet<string>; maxDays: number; today: Date }): LoadedExceptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigurationError('EXCEPTIONS_UNREADABLE', `exceptions file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? `line ${e.linePos[0].line}: ` : '';
    throw new ConfigurationError('EXCEPTIONS_INVALID', `exceptions file ${path}: ${at}not valid YAML or JSON: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (node: unknown): number => {
    const range = (node as Node | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 0;
  };
  const seq = isMap(doc.contents) ? doc.contents.get('exceptions', true) : undefined;
  const entryNodes = isSeq(seq) ? seq.items : [];
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // The YAML library refuses a document whose aliases would expand it past its limit (an
    // "alias bomb"): the user's file, not an internal error.
    throw new ConfigurationError('EXCEPTIONS_INVALID', `exceptions file ${path}: cannot be read: ${(err as Error).message}; write the values out instead of using YAML aliases (*name)`);
  }
  const parsed = ExceptionsFileSchema.safeParse(value ?? {});
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [top, index, ...field] = issue.path;
      if (top === 'exceptions' && typeof index === 'number') {
        problems.push(`${where(index, entryNodes[index], lineOf(entryNodes[index]))}: ${field.length > 0 ? field.join('.') : 'entry'}: ${issue.message}`);
      } else problems.push(`${issue.path.length > 0 ? issue.path.join('.') : 'file'}: ${issue.message}${issue.path.length === 0 ? ' (expected a mapping with an "exceptions" list)' : ''}`);
    }
    throw invalid(path, problems);
  }
  const latest = new Date(Date.UTC(opts.today.getUTCFullYear(), opts.today.getUTCMonth(), opts.today.getUTCDate() + opts.maxDays));
  const ids = new Map<string, number>();
  const entries = parsed.data.exceptions.map((e, i): LoadedEntry => {
    const node = entryNodes[i];
    const line = lineOf(node);
    const at = where(i, node, line);
    const rules = typeof e.rule === 'string' ? [e.rule] : e.rule;
    for (const r of rules) if (!opts.knownRules.has(r)) problems.push(`${at}: rule: unknown rule "${r}" (see 'cronwarden rules')`);
    if (new Date(`${e.expires}T00:00:00Z`) > latest) {
      problems.push(`${at}: expires: ${e.expires} is more than ${opts.maxDays} days ahead (--exceptions-max-days); review the exception sooner`);
    }
    if (e.id) {
      if (ids.has(e.id)) problems.push(`${at}: id: "${e.id}" is also the id of entry ${ids.get(e.id)! + 1}`);
      ids.set(e.id, i);
    }
    return { ...e, label: e.id ?? `#${i + 1}`, line, rules };
  });
  if (problems.length > 0) throw invalid(path, problems);
  return { path: basename(path), entries };
}

function where(index: number, node: unknown, line: number): string {
  const id = isMap(node) ? node.get('id') : undefined;
  return `entry ${index + 1}${typeof id === 'string' ? ` (${id})` : ''}${line ? ` at line ${line}` : ''}`;
}

function invalid(path: string, problems: string[]): ConfigurationError {
  return new ConfigurationError('EXCEPTIONS_INVALID', `exceptions file ${path} is invalid:\n  ${problems.join('\n  ')}`);
}
