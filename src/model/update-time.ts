/**
 * Orders two RFC 3339 timestamps (`update_time` of CAI records), fractions of any length and
 * offsets included: negative when a is earlier, 0 when equal, undefined when either is not a
 * timestamp (an unreadable time orders nothing).
 */
export function compareUpdateTimes(a: string, b: string): number | undefined {
  const ta = instant(a);
  const tb = instant(b);
  if (!ta || !tb) return undefined;
  return ta.ms !== tb.ms ? Math.sign(ta.ms - tb.ms) : Math.sign(ta.nanos - tb.nanos);
}

const RFC3339 = /^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$/;

function instant(s: string): { ms: number; nanos: number } | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]!.replace(/[t ]/, 'T')}${m[3]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  // Whole seconds from Date; the fraction compared as nanoseconds, so .1 and .100000001 differ.
  return { ms, nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}
