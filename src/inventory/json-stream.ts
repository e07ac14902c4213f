/**
 * Incremental splitters for the two inventory file shapes. They find record boundaries in a
 * character stream without building anything but the current record's text, so memory stays
 * bounded by the largest record, and hand each record's text to JSON.parse, the fastest parser
 * Node has. Both report the 1-based line on which a record starts.
 */

export type RawRecordHandler = (text: string, line: number) => void;

/** Newline-delimited JSON: one value a line; blank lines are skipped. */
export class NdjsonSplitter {
  private carry = '';
  private line = 1;

  constructor(private readonly onRecord: RawRecordHandler) {}

  push(chunk: string): void {
    let text = this.carry === '' ? chunk : this.carry + chunk;
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      this.emit(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = start === 0 ? text : text.slice(start);
    text = '';
  }

  end(): void {
    if (this.carry !== '') this.emit(this.carry, 0, this.carry.length);
    this.carry = '';
  }

  private emit(text: string, start: number, end: number): void {
    const line = this.line++;
    let s = start;
    let e = end;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    if (s < e) this.onRecord(text.slice(s, e), line);
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const NEWLINE = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Thrown for text that cannot be a JSON array at all; the reader reports it with its line. */
export class JsonShapeError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/**
 * A top-level JSON array (`gcloud asset list --format=json`, pretty-printed or not): emits the
 * text of each element. Strings are skipped with indexOf, the hot path.
 */
export class JsonArraySplitter {
  private state: 'before' | 'between' | 'element' | 'done' = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: string[] = [];
  private line = 1;
  private elementLine = 1;

  constructor(private readonly onRecord: RawRecordHandler) {}

  push(text: string): void {
    let i = 0;
    const n = text.length;
    let elementStart = this.state === 'element' ? 0 : -1;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const q = text.indexOf('"', i);
        const b = text.indexOf('\\', i);
        if (b !== -1 && (q === -1 || b < q)) {
          // Skip the escaped character; it may be the last of this chunk.
          if (b + 1 < n) i = b + 2;
          else {
            this.escaped = true;
            i = n;
          }
          continue;
        }
        if (q === -1) {
          i = n;
          continue;
        }
        this.inString = false;
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === NEWLINE) this.line++;
      switch (this.state) {
        case 'before':
          if (c === OPEN_BRACKET) this.state = 'between';
          else if (!isSpace(c)) throw new JsonShapeError('expected a JSON array', this.line);
          break;
        case 'between':
          if (c === CLOSE_BRACKET) this.state = 'done';
          else if (c !== COMMA && !isSpace(c)) {
            this.state = 'element';
            this.elementLine = this.line;
            elementStart = i;
            this.depth = 0;
            continue; // re-read this character as part of the element
          }
          break;
        case 'element':
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (this.depth === 0) {
              // the array's own closing bracket right after a scalar element
              this.finish(text, elementStart, i);
              elementStart = -1;
              this.state = 'done';
              break;
            }
            this.depth--;
            if (this.depth === 0) {
              this.finish(text, elementStart, i + 1);
              elementStart = -1;
              this.state = 'between';
            }
          } else if (c === COMMA && this.depth === 0) {
            this.finish(text, elementStart, i);
            elementStart = -1;
            this.state = 'between';
          }
          break;
        case 'done':
          if (!isSpace(c)) throw new JsonShapeError('text after the end of the JSON array', this.line);
          break;
      }
      i++;
    }
    if (this.state === 'element' && elementStart !== -1) this.pieces.push(text.slice(elementStart));
  }

  end(): void {
    if (this.state === 'element' || this.state === 'between') {
      const partial = this.pieces.join('');
      this.pieces = [];
      if (this.state === 'element' && partial.trim() !== '') this.onRecord(partial, this.elementLine);
      throw new JsonShapeError('the JSON array is not closed (truncated file?)', this.line);
    }
    if (this.state === 'before') throw new JsonShapeError('empty file: expected a JSON array', this.line);
  }

  private finish(text: string, start: number, end: number): void {
    let body: string;
    if (this.pieces.length > 0) {
      this.pieces.push(text.slice(start === -1 ? 0 : start, end));
      body = this.pieces.join('');
      this.pieces = [];
    } else {
      body = text.slice(start, end);
    }
    const trimmed = body.trim();
    if (trimmed !== '') this.onRecord(trimmed, this.elementLine);
  }
}
