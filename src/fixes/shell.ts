/**
 * Commands as people paste them into a POSIX shell. Every value comes from the inventory, which
 * is not trusted: a value with anything but plain characters is single-quoted, so a job name or
 * URL can never end the command, start another, or expand a variable.
 */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(value: string): string {
  if (value !== '' && PLAIN.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const FLAG = /^(--[a-z][a-z0-9-]*=)(.*)$/s;

/** A command line from its words; in `--flag=value` only the value is quoted, as people write it. */
export function commandLine(words: readonly string[]): string {
  return words
    .map((w) => {
      const flag = FLAG.exec(w);
      return flag ? flag[1]! + shellQuote(flag[2]!) : shellQuote(w);
    })
    .join(' ');
}

/**
 * `gcloud` with its words and flags; flags whose value is undefined are left out. The same line
 * {@link commandLine} makes of the words and `--name=value` flags, without taking them apart
 * again: a scan builds one for every finding it writes.
 */
export function gcloud(words: readonly string[], flags: Record<string, string | true | undefined> = {}): string {
  let line = 'gcloud';
  for (const w of words) line += ` ${shellQuote(w)}`;
  for (const name in flags) {
    const value = flags[name];
    if (value === undefined) continue;
    line += value === true ? ` --${name}` : ` --${name}=${shellQuote(value)}`;
  }
  return line;
}
