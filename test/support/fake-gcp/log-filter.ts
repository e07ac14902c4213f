/**
 * A subset of the Cloud Logging query language, enough for the filters a scanner writes:
 * comparisons (`=`, `!=`, `<`, `<=`, `>`, `>=`, `:` for "has", `=~`/`!~` for a regular
 * expression), `AND` (also implicit), `OR` (binding tighter than AND, as in Logging), `NOT`/`-`,
 * parentheses, value-level OR (`field=("a" OR "b")`), quoted path segments
 * (`jsonPayload."@type"`) and `log_id("…")`. String comparisons ignore case, as Logging's do;
 * regular expressions do not, unless they start with `(?i)`. Anything else (another function,
 * an operator it does not know) throws, so a test finds out instead of matching nothing.
 */

type Json = Record<string, unknown>;
export type EntryPredicate = (entry: Json) => boolean;

const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];

type Token = { kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'dot' | 'comma'; text: string };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(")((?:[^"\\]|\\.)*)"|(=~|!~|<=|>=|!=|=|<|>|:)|(\()|(\))|(\.)|(,)|([^\s()"=<>!:.,]+))/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < filter.length && (m = re.exec(filter)) !== null) {
    pos = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'string', text: m[2]!.replace(/\\(.)/g, '$1') });
    else if (m[3]) tokens.push({ kind: 'op', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'lparen', text: '(' });
    else if (m[5]) tokens.push({ kind: 'rparen', text: ')' });
    else if (m[6]) tokens.push({ kind: 'dot', text: '.' });
    else if (m[7]) tokens.push({ kind: 'comma', text: ',' });
    else if (m[8]) tokens.push({ kind: 'word', text: m[8] });
  }
  if (filter.slice(pos).trim() !== '') throw new Error(`cannot read the filter at "${filter.slice(pos)}"`);
  return tokens;
}

function lookup(entry: Json, path: string[]): unknown {
  let cur: unknown = entry;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[p];
  }
  return cur;
}

/** RE2 as Logging uses it, as far as JavaScript can follow: a leading `(?i)` is the only flag read. */
export function logRegex(pattern: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? pattern.slice(4) : pattern, insensitive ? 'iu' : 'u');
  } catch (err) {
    throw new Error(`invalid regular expression "${pattern}": ${(err as Error).message}`);
  }
}

function compare(actual: unknown, op: string, expected: string, path: string[], regex?: RegExp): boolean {
  if (actual === undefined || actual === null) return op === '!=' || op === '!~';
  if (Array.isArray(actual)) return actual.some((a) => compare(a, op, expected, path, regex));
  if (regex) {
    const text = typeof actual === 'object' ? JSON.stringify(actual) : String(actual);
    return regex.test(text) === (op === '=~');
  }
  if (typeof actual === 'object') return op === ':' ? JSON.stringify(actual).toLowerCase().includes(expected.toLowerCase()) : false;
  const text = String(actual);
  if (op === ':') return text.toLowerCase().includes(expected.toLowerCase());
  let a: number | string = text;
  let b: number | string = expected;
  if (path.join('.') === 'severity') {
    a = SEVERITIES.indexOf(text.toUpperCase());
    b = SEVERITIES.indexOf(expected.toUpperCase());
  } else if (typeof actual === 'number' && !Number.isNaN(Number(expected))) {
    a = actual;
    b = Number(expected);
  } else if (/^\d{4}-\d\d-\d\dT/.test(text) && /^\d{4}-\d\d-\d\dT/.test(expected)) {
    a = Date.parse(text);
    b = Date.parse(expected);
  } else {
    // Logging compares strings without regard to case.
    a = text.toLowerCase();
    b = expected.toLowerCase();
  }
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

export function parseLogFilter(filter: string): EntryPredicate {
  const tokens = tokenize(filter);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text === w;

  const andExpr = (): EntryPredicate => {
    const parts: EntryPredicate[] = [];
    while (i < tokens.length && peek()!.kind !== 'rparen') {
      if (isWord(peek(), 'AND')) {
        i++;
        continue;
      }
      parts.push(orExpr());
    }
    return (e) => parts.every((p) => p(e));
  };
  const orExpr = (): EntryPredicate => {
    const parts = [unary()];
    while (isWord(peek(), 'OR')) {
      i++;
      parts.push(unary());
    }
    return (e) => parts.some((p) => p(e));
  };
  const unary = (): EntryPredicate => {
    const t = peek();
    if (isWord(t, 'NOT') || (t?.kind === 'word' && t.text === '-')) {
      i++;
      const inner = unary();
      return (e) => !inner(e);
    }
    if (t?.kind === 'lparen') {
      i++;
      const inner = andExpr();
      if (peek()?.kind !== 'rparen') throw new Error('missing ")"');
      i++;
      return inner;
    }
    return comparison();
  };
  const comparison = (): EntryPredicate => {
    const first = tokens[i++];
    if (!first || (first.kind !== 'word' && first.kind !== 'string')) throw new Error(`unexpected "${first?.text ?? 'end of filter'}"`);
    if (first.kind === 'word' && first.text !== 'log_id' && peek()?.kind === 'lparen') {
      throw new Error(`the function ${first.text}() is not implemented by this fake`);
    }
    if (first.kind === 'word' && first.text === 'log_id' && peek()?.kind === 'lparen') {
      i++;
      const arg = tokens[i++];
      if (arg?.kind !== 'string' || tokens[i++]?.kind !== 'rparen') throw new Error('log_id takes one quoted string');
      const id = encodeURIComponent(arg.text);
      return (e) => typeof e.logName === 'string' && (e.logName.endsWith(`/logs/${id}`) || e.logName.endsWith(`/logs/${arg.text}`));
    }
    const path = [first.text];
    while (peek()?.kind === 'dot') {
      i++;
      const seg = tokens[i++];
      if (!seg || (seg.kind !== 'word' && seg.kind !== 'string')) throw new Error('a "." must be followed by a field name');
      path.push(seg.text);
    }
    const op = peek();
    if (op?.kind !== 'op') {
      // A bare value: Logging searches every field for it.
      const needle = path.join('.').toLowerCase();
      return (e) => JSON.stringify(e).toLowerCase().includes(needle);
    }
    i++;
    const values = valueList(op.text);
    const regexes = op.text === '=~' || op.text === '!~' ? values.map(logRegex) : undefined;
    const negated = op.text === '!=' || op.text === '!~';
    // `f!=("a" OR "b")` is NOT (f="a" OR f="b"), as in Logging.
    if (negated && values.length > 1) {
      const positive = op.text === '!=' ? '=' : '=~';
      return (e) => !values.some((v, k) => compare(lookup(e, path), positive, v, path, regexes?.[k]));
    }
    return (e) => values.some((v, k) => compare(lookup(e, path), op.text, v, path, regexes?.[k]));
  };
  /** One value, or a parenthesised list of values joined by OR (value-level OR). */
  const valueList = (op: string): string[] => {
    const isValue = (t: Token | undefined): t is Token => t !== undefined && (t.kind === 'word' || t.kind === 'string') && !(t.kind === 'word' && (t.text === 'OR' || t.text === 'AND' || t.text === 'NOT'));
    if (peek()?.kind !== 'lparen') {
      const value = tokens[i++];
      if (!isValue(value)) throw new Error(`a value must follow "${op}"`);
      return [value.text];
    }
    i++;
    const values: string[] = [];
    for (;;) {
      const value = tokens[i++];
      if (!isValue(value)) throw new Error(`a value must follow "${op}(" or "OR"`);
      values.push(value.text);
      const next = tokens[i++];
      if (next?.kind === 'rparen') return values;
      if (!isWord(next, 'OR')) throw new Error(`only OR may join values inside "${op}(…)"; got "${next?.text ?? 'end of filter'}"`);
    }
  };

  const predicate = andExpr();
  if (i < tokens.length) throw new Error(`unexpected "${tokens[i]!.text}"`);
  return predicate;
}
