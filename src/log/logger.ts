import { escapeTerminal, truncateForLog } from '../text/escape-terminal.js';
import { redactText } from '../text/redact-secrets.js';

/** Structured fields on a log line. Never put a credential or a token in them. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Readable text on stderr for people; the Cloud Run format lives in its own module. */
export function textLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    write(`cronwarden ${lvl}: ${terminalText(`${message}${extra}`)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const push = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(fields ? { level, message, fields } : { level, message });
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/**
 * Text from the inventory made fit for a terminal line: credentials redacted, control and bidi
 * characters escaped (a newline cannot forge a line, ESC cannot clear the screen), and cut to a
 * readable length.
 */
export function terminalText(text: string, max = 2000): string {
  return escapeTerminal(truncateForLog(redactText(text), max));
}
