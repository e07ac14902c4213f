import { styleText } from 'node:util';
import sliceAnsi from 'slice-ansi';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';

/** The width to lay text out in: the terminal's, 80 when it is not known (a pipe, a file). */
export function terminalWidth(stream: { columns?: number } | undefined): number {
  const columns = stream?.columns;
  return typeof columns === 'number' && columns > 0 ? columns : 80;
}

/**
 * Whether to colour: FORCE_COLOR (any value but `0` or `false`) forces it, NO_COLOR (any
 * non-empty value) forbids it, and otherwise only a terminal gets colour, never a pipe or file.
 */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' ) return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true;
}

export type Style = Parameters<typeof styleText>[0];

/** A painter: applies styles when colour is on, returns the text unchanged otherwise. */
export function painter(colour: boolean): (style: Style, text: string) => string {
  return colour ? (style, text) => styleText(style, text, { validateStream: false }) : (_style, text) => text;
}

/** Printable ASCII: one column a character, no measuring needed (most names and messages). */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;
/**
 * Printable characters that are one column each, with no combining marks, wide or zero-width
 * characters: ASCII, Latin-1, Latin Extended, spacing modifiers and general punctuation (dashes,
 * quotes). Measuring with string-width costs far more than counting: most text takes this path.
 */
const ONE_COLUMN = /^[\x20-\x7e\xa0-\u02ff\u2010-\u2027\u2030-\u205e]*$/;

/** Display width: East Asian wide characters count two, ANSI styles none. */
export function displayWidth(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  if (ONE_COLUMN.test(text)) return text.length;
  return stringWidth(text);
}

/** Cuts text to at most `width` columns, ending with `…` when it was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  if (width === 1) return '…';
  // Every character of these is one UTF-16 unit and one column.
  if (ONE_COLUMN.test(text)) return `${text.slice(0, width - 1)}…`;
  // slice-ansi and string-width may disagree on a wide or combining character at the cut:
  // the measure decides, one column less at a time.
  let end = width - 1;
  let cut = sliceAnsi(text, 0, end);
  while (end > 0 && displayWidth(cut) > width - 1) cut = sliceAnsi(text, 0, --end);
  return `${cut}…`;
}

/** Pads text with spaces to `width` columns (by display width). */
export function padEnd(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

/** Wraps text at `width` columns, breaking words longer than a line. */
export function wrap(text: string, width: number): string[] {
  return wrapAnsi(text, Math.max(1, width), { hard: true, trim: true }).split('\n');
}

/** Every line of `text` wrapped to `width`: its indentation kept, continuation lines indented `indent` more. */
export function fitLines(text: string, width: number, indent = 2): string {
  const out: string[] = [];
  const trailing = text.endsWith('\n');
  for (const line of (trailing ? text.slice(0, -1) : text).split('\n')) {
    if (displayWidth(line) <= width) {
      out.push(line);
      continue;
    }
    const lead = Math.min(/^ */.exec(line)![0].length, Math.floor(width / 2));
    const more = Math.min(lead + indent, Math.floor(width / 2));
    const body = line.trimStart();
    const [first, ...rest] = wrap(body, width - lead);
    out.push(' '.repeat(lead) + first!);
    if (rest.length > 0) for (const r of wrap(rest.join(' '), width - more)) out.push(' '.repeat(more) + r);
  }
  return out.join('\n') + (trailing ? '\n' : '');
}
