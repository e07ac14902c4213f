/**
 * Text from the inventory (names, URIs, audiences, messages that quote them) is not trusted. On a
 * terminal an ESC sequence moves the cursor or recolours the screen, a newline forges a table
 * row, and a bidirectional override (U+202E) reorders what is shown. `escapeControl` makes all
 * of them visible as escapes: C0 and C1 controls, DEL, and Unicode's bidi controls and line and
 * paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeControl(text: string): string {
  // Most text has nothing to escape: test before replacing.
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
