/**
 * A small Dockerfile reader for the image-recipe test: enough of the syntax to replay this
 * repository's Dockerfile without a Docker engine, and strict about everything else, so a
 * Dockerfile the test cannot follow fails the test instead of being half-replayed.
 */

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  /** The base image with global ARG defaults substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

const KNOWN = new Set(['FROM', 'ARG', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'ENTRYPOINT', 'CMD', 'LABEL']);

export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!pending && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending && trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${piece}`, line: pending.line } : { text: piece, line: i + 1 };
    if (!continued) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending) throw new Error(`line ${pending.line}: continuation at end of file`);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const { text: lineText, line } of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(lineText)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    if (!KNOWN.has(keyword)) throw new Error(`line ${line}: ${keyword} is not an instruction the recipe test replays`);
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`line ${line}: cannot read FROM ${args}`);
      const base = from[1]!.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
        const value = globalArgs[name];
        if (value === undefined) throw new Error(`line ${line}: ARG ${name} has no default`);
        return value;
      });
      stages.push({ name: from[2] ?? String(stages.length), base, instructions: [] });
      continue;
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const arg = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args);
      if (!arg) throw new Error(`line ${line}: cannot read ARG ${args}`);
      if (arg[2] !== undefined) globalArgs[arg[1]!] = unquote(arg[2]);
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${line}: ${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args, line });
  }
  return { globalArgs, stages };
}

/** Splits leading `--flag=value` options from the rest of an instruction's arguments. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** COPY [--from=stage] SRC... DEST, shell or JSON form. */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const { flags, rest } = splitFlags(args);
  const unknown = Object.keys(flags).filter((f) => f !== 'from');
  if (unknown.length > 0) throw new Error(`COPY ${args}: flags ${unknown.join(', ')} are not replayed`);
  const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  if (words.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  const dest = words.at(-1)!;
  const out: { from?: string; sources: string[]; dest: string } = { sources: words.slice(0, -1), dest };
  if (flags.from) out.from = flags.from;
  return out;
}

/** ENV k=v [k=v...] (values may be double-quoted). */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let consumed = '';
  for (let m = re.exec(args); m; m = re.exec(args)) {
    out[m[1]!] = unquote(m[2]!);
    consumed += m[0];
  }
  if (consumed.replace(/\s/g, '') !== args.replace(/\s/g, '')) throw new Error(`ENV ${args}: only the key=value form is replayed`);
  return out;
}

/** The exec (JSON array) form of ENTRYPOINT and CMD; the shell form is refused. */
export function parseExecForm(keyword: string, args: string): string[] {
  if (!args.startsWith('[')) throw new Error(`${keyword} ${args}: use the exec form, or sh becomes PID 1 and swallows SIGTERM`);
  const value = JSON.parse(args) as unknown;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${keyword}: not an array of strings`);
  return value as string[];
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') ? (JSON.parse(value) as string) : value;
}

/** `.dockerignore` as written here: `*` then `!name` exceptions for top-level entries. */
export function allowedByDockerignore(text: string, path: string): boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let allowed = true;
  const top = path.replace(/^\.\//, '').split('/')[0]!;
  for (const rule of rules) {
    const negate = rule.startsWith('!');
    const pattern = (negate ? rule.slice(1) : rule).replace(/\/$/, '');
    if (pattern === '*' || pattern === '**' || pattern === top || pattern === path) allowed = negate;
  }
  return allowed;
}
