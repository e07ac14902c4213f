/**
 * Incremental splitters for the two inventory file shapes. They find record boundaries in a
 * character stream without building anything but the current record's text, so memory stays
 * bounded by the largest record, and hand each record's text to JSON.parse, the fastest parser
 * Node has. Both report the 1-based line on which a record starts.
 */

export type RawRecordHandler = (text: string, line: number) => void;

/**
 * Newline-delimited JSON: one value a line; blank lines are skipped. Only the new chunk is
 * searched for a newline, and a line longer than a chunk is kept in pieces until it ends, so
 * a very long line costs its length once.
 */
export class NdjsonSplitter {
  private pieces: string[] = [];
  private piecesLength = 0;
  private line: number;

  /**
   * `firstLine`: the line number of the first text pushed, when it does not start the file.
   * `maxRecordLength`: longer lines throw RecordTooLongError (counted in UTF-16 units here).
   */
  constructor(
    private readonly onRecord: RawRecordHandler,
    firstLine = 1,
    private readonly maxRecordLength = UNLIMITED,
  ) {
    this.line = firstLine;
  }

  push(chunk: string): void {
    let nl = chunk.indexOf('\n');
    if (nl === -1) {
      if (chunk !== '') {
        this.pieces.push(chunk);
        this.piecesLength += chunk.length;
        if (this.piecesLength > this.maxRecordLength) throw new RecordTooLongError(this.line, this.maxRecordLength);
      }
      return;
    }
    if (this.pieces.length > 0) {
      if (this.piecesLength + nl > this.maxRecordLength) throw new RecordTooLongError(this.line, this.maxRecordLength);
      this.pieces.push(chunk.slice(0, nl));
      const text = this.pieces.join('');
      this.pieces = [];
      this.piecesLength = 0;
      this.emit(text, 0, text.length);
    } else this.emit(chunk, 0, nl);
    let start = nl + 1;
    nl = chunk.indexOf('\n', start);
    while (nl !== -1) {
      this.emit(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) {
      this.pieces.push(start === 0 ? chunk : chunk.slice(start));
      this.piecesLength = chunk.length - start;
      if (this.piecesLength > this.maxRecordLength) throw new RecordTooLongError(this.line, this.maxRecordLength);
    }
  }

  end(): void {
    if (this.pieces.length > 0) {
      const text = this.pieces.join('');
      this.pieces = [];
      this.piecesLength = 0;
      this.emit(text, 0, text.length);
    }
  }

  private emit(text: string, start: number, end: number): void {
    if (end - start > this.maxRecordLength) throw new RecordTooLongError(this.line, this.maxRecordLength);
    const line = this.line++;
    let s = start;
    let e = end;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    if (s < e) this.onRecord(text.slice(s, e), line);
  }
}

const QUOTE = 34;
const COMMA = 44;
const NEWLINE = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

export function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * Thrown when one record is longer than the reader allows: a single line or array element of
 * hundreds of megabytes is a damaged or hostile file (a decompression bomb), not an export, and
 * holding it would exhaust memory. The reader fails that file with its line.
 */
export class RecordTooLongError extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`record at line ${line} is longer than ${limit} bytes`);
    this.name = 'RecordTooLongError';
  }
}

/** No limit: the default of the splitters used on their own. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

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
 * Whether a file's first bytes are a `gcloud asset list` array (`[`, then `{` or `]`, after any
 * blanks) or NDJSON; undefined while there are too few bytes to tell. An NDJSON file whose first
 * line is damaged into `[1,…` or `[null…` stays NDJSON.
 */
export function fileShape(head: Uint8Array): 'ndjson' | 'array' | undefined {
  let i = 0;
  while (i < head.length && isSpace(head[i]!)) i++;
  if (i === head.length) return undefined;
  if (head[i] !== OPEN_BRACKET) return 'ndjson';
  for (i++; i < head.length; i++) {
    const c = head[i]!;
    if (!isSpace(c)) return c === OPEN_BRACE || c === CLOSE_BRACKET ? 'array' : 'ndjson';
  }
  return undefined;
}

/**
 * A top-level JSON array (`gcloud asset list --format=json`, pretty-printed or not): emits the
 * text of each element. An array that fits on its first line and is followed by more lines was
 * the first line of an NDJSON file: its elements have been emitted, and the lines after it are
 * read as NDJSON. Strings are skipped with indexOf, the hot path; the positions of the
 * next quote and backslash are remembered per chunk, so neither a chunk of many short strings
 * nor a long string of many escapes is searched more than once.
 */
export class JsonArraySplitter {
  private state: 'before' | 'between' | 'element' | 'done' = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: string[] = [];
  private line = 1;
  private elementLine = 1;
  private openLine = 0;
  private closeLine = 0;
  private rest: NdjsonSplitter | undefined;
  private piecesLength = 0;

  /** `maxRecordLength`: a longer element throws RecordTooLongError (counted in UTF-16 units). */
  /** `firstLine`: the line of the first text pushed, when blank lines before it were not. */
  constructor(
    private readonly onRecord: RawRecordHandler,
    private readonly maxRecordLength = UNLIMITED,
    firstLine = 1,
  ) {
    this.line = firstLine;
    this.elementLine = firstLine;
  }

  push(text: string): void {
    if (this.rest) {
      this.rest.push(text);
      return;
    }
    let i = 0;
    const n = text.length;
    let elementStart = this.state === 'element' ? 0 : -1;
    // Next quote and backslash at or after i (n when there is none left in this chunk).
    let quote = -1;
    let backslash = -1;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        if (quote < i) {
          quote = text.indexOf('"', i);
          if (quote === -1) quote = n;
        }
        const q = quote === n ? -1 : quote;
        if (backslash < i) {
          backslash = text.indexOf('\\', i);
          if (backslash === -1) backslash = n;
        }
        if (backslash < n && (q === -1 || backslash < q)) {
          // Skip the escaped character; it may be the last of this chunk.
          if (backslash + 1 < n) i = backslash + 2;
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
      if (this.state === 'element') {
        // The tight loop: structure characters of one element, outside strings.
        let depth = this.depth;
        let c = 0;
        for (; i < n; i++) {
          c = text.charCodeAt(i);
          if (c === QUOTE || c === OPEN_BRACE || c === OPEN_BRACKET || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COMMA) {
            if (c === QUOTE) {
              this.inString = true;
              i++;
              break;
            }
            if (c === OPEN_BRACE || c === OPEN_BRACKET) {
              depth++;
              continue;
            }
            if (c === COMMA) {
              if (depth !== 0) continue;
              this.finish(text, elementStart, i);
              elementStart = -1;
              this.state = 'between';
              i++;
              break;
            }
            if (depth === 0) {
              // the array's own closing bracket right after a scalar element
              this.finish(text, elementStart, i);
              elementStart = -1;
              this.state = 'done';
              this.closeLine = this.line;
              i++;
              break;
            }
            depth--;
            if (depth === 0) {
              this.finish(text, elementStart, i + 1);
              elementStart = -1;
              this.state = 'between';
              i++;
              break;
            }
          } else if (c === NEWLINE) this.line++;
        }
        this.depth = depth;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === NEWLINE) this.line++;
      switch (this.state) {
        case 'before':
          if (c === OPEN_BRACKET) {
            this.state = 'between';
            this.openLine = this.line;
          } else if (!isSpace(c)) throw new JsonShapeError('expected a JSON array', this.line);
          break;
        case 'between':
          if (c === CLOSE_BRACKET) {
            this.state = 'done';
            this.closeLine = this.line;
          } else if (c !== COMMA && !isSpace(c)) {
            this.state = 'element';
            this.elementLine = this.line;
            elementStart = i;
            this.depth = 0;
            continue; // re-read this character as part of the element
          }
          break;
        case 'done':
          if (isSpace(c)) break;
          if (this.openLine === this.closeLine && this.line > this.closeLine) {
            this.rest = new NdjsonSplitter(this.onRecord, this.line, this.maxRecordLength);
            this.rest.push(text.slice(i));
            return;
          }
          throw new JsonShapeError('text after the end of the JSON array', this.line);
      }
      i++;
    }
    if (this.state === 'element' && elementStart !== -1) {
      this.pieces.push(text.slice(elementStart));
      this.piecesLength += n - elementStart;
      if (this.piecesLength > this.maxRecordLength) throw new RecordTooLongError(this.elementLine, this.maxRecordLength);
    }
  }

  end(): void {
    if (this.rest) {
      this.rest.end();
      return;
    }
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
    const from = start === -1 ? 0 : start;
    if (this.piecesLength + end - from > this.maxRecordLength) throw new RecordTooLongError(this.elementLine, this.maxRecordLength);
    if (this.pieces.length > 0) {
      this.pieces.push(text.slice(from, end));
      body = this.pieces.join('');
      this.pieces = [];
      this.piecesLength = 0;
    } else {
      body = text.slice(start, end);
    }
    const trimmed = body.trim();
    if (trimmed !== '') this.onRecord(trimmed, this.elementLine);
  }
}

/** A record's bytes: `buf[start, end)`, blanks around it already trimmed. */
export type ByteRecordHandler = (buf: Buffer, start: number, end: number, line: number) => void;

const NEWLINE_BYTE = 10;

/**
 * Newline-delimited JSON as bytes: finds line ends with `Buffer.indexOf` (memchr) and hands on
 * byte ranges, undecoded. The reader decodes only the records it wants, so records it skips cost
 * neither UTF-8 decoding nor a string. A newline byte never occurs inside a UTF-8 multi-byte
 * sequence, so splitting before decoding is exact.
 */
export class NdjsonByteSplitter {
  private pieces: Buffer[] = [];
  private piecesLength = 0;
  private line = 1;

  /**
   * `maxRecordBytes`: a longer line throws RecordTooLongError before it is held whole.
   * `firstLine`: the line of the first bytes pushed, when blank lines before them were not.
   */
  constructor(
    private readonly onRecord: ByteRecordHandler,
    private readonly maxRecordBytes = UNLIMITED,
    firstLine = 1,
  ) {
    this.line = firstLine;
  }

  push(chunk: Buffer): void {
    let nl = chunk.indexOf(NEWLINE_BYTE);
    if (nl === -1) {
      if (chunk.length > 0) {
        this.pieces.push(chunk);
        this.piecesLength += chunk.length;
        if (this.piecesLength > this.maxRecordBytes) throw new RecordTooLongError(this.line, this.maxRecordBytes);
      }
      return;
    }
    if (this.pieces.length > 0) {
      if (this.piecesLength + nl > this.maxRecordBytes) throw new RecordTooLongError(this.line, this.maxRecordBytes);
      this.pieces.push(chunk.subarray(0, nl));
      const whole = Buffer.concat(this.pieces);
      this.pieces = [];
      this.piecesLength = 0;
      this.emit(whole, 0, whole.length);
    } else this.emit(chunk, 0, nl);
    let start = nl + 1;
    nl = chunk.indexOf(NEWLINE_BYTE, start);
    while (nl !== -1) {
      this.emit(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE_BYTE, start);
    }
    if (start < chunk.length) {
      this.pieces.push(chunk.subarray(start));
      this.piecesLength = chunk.length - start;
      if (this.piecesLength > this.maxRecordBytes) throw new RecordTooLongError(this.line, this.maxRecordBytes);
    }
  }

  end(): void {
    if (this.pieces.length > 0) {
      const whole = Buffer.concat(this.pieces);
      this.pieces = [];
      this.piecesLength = 0;
      this.emit(whole, 0, whole.length);
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end - start > this.maxRecordBytes) throw new RecordTooLongError(this.line, this.maxRecordBytes);
    const line = this.line++;
    let s = start;
    let e = end;
    while (s < e && isSpace(buf[s]!)) s++;
    while (e > s && isSpace(buf[e - 1]!)) e--;
    if (s < e) this.onRecord(buf, s, e, line);
  }
}
