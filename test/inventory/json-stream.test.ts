import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter, JsonShapeError, NdjsonByteSplitter, NdjsonSplitter, fileShape } from '../../src/inventory/json-stream.js';

interface Emitted {
  text: string;
  line: number;
}

type Outcome = { records: Emitted[]; error?: { message: string; line: number } };

function run(kind: 'ndjson' | 'array', chunks: readonly string[]): Outcome {
  const records: Emitted[] = [];
  const onRecord = (text: string, line: number): void => {
    records.push({ text, line });
  };
  const splitter = kind === 'ndjson' ? new NdjsonSplitter(onRecord) : new JsonArraySplitter(onRecord);
  try {
    for (const c of chunks) splitter.push(c);
    splitter.end();
  } catch (err) {
    if (!(err instanceof JsonShapeError)) throw err;
    return { records, error: { message: err.message, line: err.line } };
  }
  return { records };
}

/**
 * Characters that `String.prototype.indexOf` looked at while `fn` ran: the splitters' searches,
 * counted instead of timed, so that a search repeated over the same text shows as a number.
 */
function scanned(fn: () => void): number {
  const original = String.prototype.indexOf;
  let total = 0;
  String.prototype.indexOf = function (this: string, search: string, from = 0): number {
    const at = original.call(this, search, from);
    total += (at === -1 ? this.length : at + search.length) - Math.max(0, from);
    return at;
  };
  try {
    fn();
  } finally {
    String.prototype.indexOf = original;
  }
  return total;
}

/** Every way of cutting `text` into two chunks, plus a few three-way cuts and one char a chunk. */
function cuts(text: string): string[][] {
  const out: string[][] = [[text]];
  for (let i = 0; i <= text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  for (let i = 0; i <= text.length; i += 3) {
    const j = Math.min(text.length, i + 2);
    out.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  out.push([...text]);
  return out;
}

function expectSameAtEveryCut(kind: 'ndjson' | 'array', text: string): Outcome {
  const whole = run(kind, [text]);
  for (const chunks of cuts(text)) {
    expect(run(kind, chunks), `cut ${JSON.stringify(chunks.map((c) => c.length))}`).toEqual(whole);
  }
  return whole;
}

describe('JsonArraySplitter', () => {
  it('splits a compact array of objects', () => {
    const out = run('array', ['[{"a":1},{"b":[2,3]},{"c":{"d":"}"}}]']);
    expect(out.error).toBeUndefined();
    expect(out.records.map((r) => r.text)).toEqual(['{"a":1}', '{"b":[2,3]}', '{"c":{"d":"}"}}']);
  });

  it('gives the same records at every chunk boundary, inside strings and escapes too', () => {
    const text =
      '[\n  {"name": "a\\"b", "x": "\\\\", "y": "[{,}]"},\n  {"u": "\\u0041\\n\\\\\\"", "z": [1, {"q": "]"}]},\n  "s\\\\",\n  7\n]\n';
    const out = expectSameAtEveryCut('array', text);
    expect(out.error).toBeUndefined();
    expect(out.records.map((r) => JSON.parse(r.text))).toEqual([
      { name: 'a"b', x: '\\', y: '[{,}]' },
      { u: 'A\n\\"', z: [1, { q: ']' }] },
      's\\',
      7,
    ]);
    expect(out.records.map((r) => r.line)).toEqual([2, 3, 4, 5]);
  });

  it('reads a pretty-printed array and names the line each element starts on', () => {
    const elements = [
      { name: '//run.googleapis.com/projects/p/locations/r/services/s', assetType: 'run.googleapis.com/Service' },
      { name: '//iam.googleapis.com/projects/p/serviceAccounts/1', resource: { data: { email: 'a@p.iam.gserviceaccount.com' } } },
      { name: 'x', list: [1, [2, [3]]] },
    ];
    const text = JSON.stringify(elements, null, 2);
    const out = expectSameAtEveryCut('array', text);
    expect(out.error).toBeUndefined();
    expect(out.records.map((r) => JSON.parse(r.text))).toEqual(elements);
    const lines = text.split('\n');
    const starts = lines.flatMap((l, i) => (l === '  {' ? [i + 1] : []));
    expect(out.records.map((r) => r.line)).toEqual(starts);
  });

  it('emits scalars and nested arrays as elements', () => {
    const out = expectSameAtEveryCut('array', '[1, "two", true, null, -3.5e2, [4, [5]], [], {}]');
    expect(out.error).toBeUndefined();
    expect(out.records.map((r) => r.text)).toEqual(['1', '"two"', 'true', 'null', '-3.5e2', '[4, [5]]', '[]', '{}']);
  });

  it('takes an empty array, and an array with only whitespace, as no records', () => {
    expect(run('array', ['[]'])).toEqual({ records: [] });
    expect(run('array', ['  \n[ \n\t ]\n\n'])).toEqual({ records: [] });
  });

  it('handles CRLF line ends and counts lines by LF', () => {
    const text = '[\r\n  {"a": 1},\r\n\r\n  {"b": 2}\r\n]\r\n';
    const out = expectSameAtEveryCut('array', text);
    expect(out).toEqual({ records: [{ text: '{"a": 1}', line: 2 }, { text: '{"b": 2}', line: 4 }] });
  });

  it('reports an unterminated array after handing over the records it saw, the partial one included', () => {
    const out = expectSameAtEveryCut('array', '[\n{"a":1},\n{"b":"x\\"');
    expect(out.records).toEqual([
      { text: '{"a":1}', line: 2 },
      { text: '{"b":"x\\"', line: 3 },
    ]);
    expect(out.error).toEqual({ message: expect.stringMatching(/not closed/), line: 3 });
  });

  it('reports an array cut right after a comma', () => {
    const out = run('array', ['[{"a":1},\n']);
    expect(out.records).toEqual([{ text: '{"a":1}', line: 1 }]);
    expect(out.error?.message).toMatch(/not closed/);
  });

  it('reports text after the end of a multi-line array with its line', () => {
    const out = expectSameAtEveryCut('array', '[\n{"a":1}\n]\n\n{"b":2}\n');
    expect(out.records).toEqual([{ text: '{"a":1}', line: 2 }]);
    expect(out.error).toEqual({ message: 'text after the end of the JSON array', line: 5 });
    expect(run('array', ['[{"a":1}] {"b":2}\n']).error).toEqual({ message: 'text after the end of the JSON array', line: 1 });
  });

  it('reads the lines after a one-line array as NDJSON: the array was a damaged first line', () => {
    const out = expectSameAtEveryCut('array', '[{"x":1}, 2]\n{"a":1}\n\n{"b":\n[3]\n');
    expect(out).toEqual({
      records: [
        { text: '{"x":1}', line: 1 },
        { text: '2', line: 1 },
        { text: '{"a":1}', line: 2 },
        { text: '{"b":', line: 4 },
        { text: '[3]', line: 5 },
      ],
    });
    expect(run('array', ['[]\r\n{"a":1}'])).toEqual({ records: [{ text: '{"a":1}', line: 2 }] });
  });

  it('refuses text that is not an array, and an empty file', () => {
    expect(run('array', ['\n {"a":1}']).error).toEqual({ message: 'expected a JSON array', line: 2 });
    expect(run('array', ['  \n']).error?.message).toMatch(/empty file/);
    expect(run('array', []).error?.message).toMatch(/empty file/);
  });

  it('keeps at most one record in memory: pieces are dropped once a record is emitted', () => {
    const big = JSON.stringify({ pad: 'x'.repeat(10_000) });
    const records: string[] = [];
    const splitter = new JsonArraySplitter((t) => records.push(t));
    splitter.push('[');
    for (let i = 0; i < big.length; i += 100) splitter.push(big.slice(i, i + 100));
    splitter.push(',' + big + ']');
    splitter.end();
    expect(records).toEqual([big, big]);
    expect((splitter as unknown as { pieces: string[] }).pieces).toEqual([]);
  });

  it('searches each character of long strings full of escapes, and of many short strings, a bounded number of times', () => {
    const escaped = `[${JSON.stringify({ s: '\\'.repeat(300_000), t: '\\"'.repeat(100_000) })}]`;
    const many = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ k: `v${i}` })));
    // A search per string or per escape from there to the chunk's end would scan billions of characters.
    const a = scanned(() => expect(run('array', [escaped]).records).toHaveLength(1));
    // At least the strings themselves were searched (the count is not vacuous), at most a few times over.
    expect(a).toBeGreaterThan(escaped.length / 2);
    expect(a).toBeLessThan(3 * escaped.length);
    const b = scanned(() => expect(run('array', [many]).records).toHaveLength(100_000));
    expect(b).toBeGreaterThan(many.length / 4);
    expect(b).toBeLessThan(3 * many.length);
  });
});

describe('fileShape', () => {
  it('takes `[` then `{` or `]` for an array, and anything else for NDJSON', () => {
    expect(fileShape(Buffer.from('[\n  {'))).toBe('array');
    expect(fileShape(Buffer.from('[{"name":'))).toBe('array');
    expect(fileShape(Buffer.from('[ ]'))).toBe('array');
    expect(fileShape(Buffer.from('{"name":1}'))).toBe('ndjson');
    expect(fileShape(Buffer.from('[null,{"a":1}]'))).toBe('ndjson');
    expect(fileShape(Buffer.from('[1,'))).toBe('ndjson');
    expect(fileShape(Buffer.from('[['))).toBe('ndjson');
    expect(fileShape(Buffer.from('["x"]'))).toBe('ndjson');
    expect(fileShape(Buffer.from('['))).toBeUndefined();
    expect(fileShape(Buffer.from('[ \r\n '))).toBeUndefined();
    expect(fileShape(Buffer.from(''))).toBeUndefined();
    expect(fileShape(Buffer.from(' \n\n\t[ {'))).toBe('array');
    expect(fileShape(Buffer.from('\r\n{'))).toBe('ndjson');
  });
});

describe('NdjsonSplitter', () => {
  it('emits one record a line with 1-based line numbers, skipping blank lines', () => {
    const text = '{"a":1}\n\n  \n{"b":"x\\ny"}\n\t{"c":3}  \n';
    const out = expectSameAtEveryCut('ndjson', text);
    expect(out).toEqual({
      records: [
        { text: '{"a":1}', line: 1 },
        { text: '{"b":"x\\ny"}', line: 4 },
        { text: '{"c":3}', line: 5 },
      ],
    });
  });

  it('takes CRLF line ends and a last line without a newline', () => {
    const out = expectSameAtEveryCut('ndjson', '{"a":1}\r\n\r\n{"b":2}');
    expect(out).toEqual({ records: [{ text: '{"a":1}', line: 1 }, { text: '{"b":2}', line: 3 }] });
  });

  it('hands over broken lines as they are, for the reader to report', () => {
    const out = run('ndjson', ['{"a":1}\n{"trunc\n[1,2]\n"str"\n']);
    expect(out.records.map((r) => [r.text, r.line])).toEqual([
      ['{"a":1}', 1],
      ['{"trunc', 2],
      ['[1,2]', 3],
      ['"str"', 4],
    ]);
  });

  it('emits nothing for an empty or blank input', () => {
    expect(run('ndjson', [])).toEqual({ records: [] });
    expect(run('ndjson', ['\n\n', '  \r\n'])).toEqual({ records: [] });
  });

  it('does not grow with the number of lines', () => {
    const splitter = new NdjsonSplitter(() => {});
    for (let i = 0; i < 1000; i++) splitter.push('{"a":1}\n{"b":');
    splitter.push('2}\n');
    expect((splitter as unknown as { pieces: string[] }).pieces).toEqual([]);
    splitter.end();
  });

  it('takes a line longer than many chunks by searching each chunk once and joining once', () => {
    const records: string[] = [];
    const splitter = new NdjsonSplitter((t) => records.push(t));
    const piece = 'x'.repeat(64 * 1024);
    const total = scanned(() => {
      splitter.push('{"pad":"');
      for (let i = 0; i < 1600; i++) splitter.push(piece);
      // Kept as pieces until the line ends, not concatenated chunk by chunk.
      expect((splitter as unknown as { pieces: string[] }).pieces).toHaveLength(1601);
      splitter.push('"}\n{"b":2}');
      splitter.end();
    });
    expect(records.map((r) => r.length)).toEqual([1600 * piece.length + 10, 7]);
    expect(total).toBeGreaterThanOrEqual(1600 * piece.length);
    expect(total).toBeLessThan(2 * 1600 * piece.length);
  });
});

/** The byte splitter's records, decoded, for `bytes` pushed in the given pieces. */
function runBytes(bytes: Buffer, cutsAt: readonly number[]): Emitted[] {
  const records: Emitted[] = [];
  const splitter = new NdjsonByteSplitter((buf, start, end, line) => records.push({ text: buf.toString('utf8', start, end), line }));
  let from = 0;
  for (const at of [...cutsAt].sort((a, b) => a - b)) {
    splitter.push(bytes.subarray(from, at));
    from = at;
  }
  splitter.push(bytes.subarray(from));
  splitter.end();
  return records;
}

describe('NdjsonByteSplitter', () => {
  it('emits the same records and lines as the text splitter, however the bytes are cut', () => {
    const line = fc.oneof(
      fc.constant(''),
      fc.constant('  \r'),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => JSON.stringify({ s })),
      fc.constantFrom('{"name":"é—😀"}', '{"a":"\\u00e9\\n"}', ' {"pad":1}\t', '{"trunc'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (lines, trailingNewline, rawCuts) => {
        const text = lines.join('\n') + (trailingNewline ? '\n' : '');
        const bytes = Buffer.from(text, 'utf8');
        // Cuts anywhere, inside multi-byte characters too: the splitter never decodes a piece.
        const cutsAt = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1)));
        expect(runBytes(bytes, cutsAt)).toEqual(run('ndjson', [text]).records);
      }),
      { numRuns: 500 },
    );
  });

  it('trims blanks and CRLF ends and numbers lines from 1', () => {
    expect(runBytes(Buffer.from('\r\n {"a":1} \r\n\n{"b":2}'), [3, 9])).toEqual([
      { text: '{"a":1}', line: 2 },
      { text: '{"b":2}', line: 4 },
    ]);
  });

  it('keeps no pieces once a line has ended', () => {
    const splitter = new NdjsonByteSplitter(() => {});
    for (let i = 0; i < 1000; i++) splitter.push(Buffer.from('{"a":1}\n{"b":'));
    splitter.push(Buffer.from('2}\n'));
    expect((splitter as unknown as { pieces: Buffer[] }).pieces).toEqual([]);
  });
});
