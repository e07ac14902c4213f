/**
 * Untrusted text (job names, URIs, audiences, messages quoted from the inventory, JSON parse
 * errors that quote raw input) on its way to a terminal. Control characters move the cursor,
 * clear the screen or forge a line; bidirectional controls reorder what is shown; both are
 * replaced by a visible escape (`\x1b`, `\n`, `\u202e`), so what a person reads is what is there.
 */

/**
 * C0 controls (newline and tab included: one record is one line), DEL, C1 controls, and the
 * Unicode format characters that reorder or hide text: ALM, LRM/RLM, zero-width characters,
 * LS/PS, bidi embeddings, overrides and isolates, word joiner and invisible operators, BOM.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control and bidi character shown as an escape; unchanged text is returned as is. */
export function escapeTerminal(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, visible) : text;
}

/** Whether `text` holds a character {@link escapeTerminal} would replace. */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * The same characters written as JSON `\u` escapes in JSON text that is already serialized:
 * lossless (a JSON reader gets the same string back), and safe to `cat`. `JSON.stringify`
 * escapes C0 controls itself, but not DEL, C1, or the bidi and line-separator characters.
 */
export function escapeJsonText(json: string): string {
  // Nearly all output is ASCII, told by its UTF-8 length (a native, vectorised count: a quarter
  // of a regular expression's scan), DEL being the one ASCII character to escape.
  if (Buffer.byteLength(json, 'utf8') === json.length && !json.includes('\x7f')) return json;
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** {@link UNSAFE} less the C0 controls: serialized JSON has none but the newlines between records. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const JSON_UNSAFE_ALL = new RegExp(JSON_UNSAFE.source, 'g');

/** Cuts text to `max` characters for a log line, saying how much was left out. */
export function truncateForLog(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
