import { isUtf8 } from 'node:buffer';
import { makeSplitter, type RawRecord, type TextFormat } from '../../../shared/prep/scan';
import { parseDelimited } from '../../../shared/prep/csv';
import { Utf8Validator } from '../../../shared/prep/utf8';
import { InputError } from '../../../shared/prep/errors';
import iconv from 'iconv-lite';
import { parse as parseCsv } from 'csv-parse';
import { toDelimited, type Row } from '../../helpers/prep/fixtures';

/** Splits `input` fed in pieces of `step` bytes, so every record boundary falls at every place in a buffer. */
function split(format: TextFormat, input: string | Buffer, step: number, opts = {}) {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const s = makeSplitter(format, opts);
  const out: Array<Omit<RawRecord, 'bytes'> & { text: string }> = [];
  const on = (r: RawRecord) => out.push({ text: r.bytes.toString('utf8'), pos: r.pos, line: r.line, index: r.index });
  for (let i = 0; i < bytes.length; i += step) s.push(bytes.subarray(i, i + step), on);
  s.end(on);
  return out;
}

describe('record splitters find the same records however the bytes arrive', () => {
  const steps = [1, 2, 3, 7, 64, 100_000];

  it('JSON Lines: LF or CRLF, with a BOM, blank lines skipped, positions and lines exact', () => {
    const input = '\uFEFF{"a":1}\r\n\r\n{"b":"あ"}\n{"c":3}';
    for (const step of steps) {
      expect(split('jsonl', input, step)).toEqual([
        { text: '{"a":1}', pos: 0, line: 1, index: 0 },
        { text: '{"b":"あ"}', pos: 14, line: 3, index: 0 },
        { text: `{"c":3}`, pos: 26, line: 4, index: 0 },
      ]);
    }
  });

  it('a JSON array: elements with nested arrays, escaped quotes and brackets in strings', () => {
    const input = '\uFEFF [ {"a":"x\\"],{"}, [1,[2]] ,\n"s", 3 ]\n';
    for (const step of steps) {
      expect(split('json', input, step).map((r) => [r.text, r.index])).toEqual([
        ['{"a":"x\\"],{"}', 0],
        ['[1,[2]]', 1],
        ['"s"', 2],
        ['3', 3],
      ]);
    }
  });

  it('CSV: quoted fields hold commas, doubled quotes and newlines; lines count physical lines', () => {
    const input = 'a,b\r\n1,"x, ""y""\r\nz"\r\n2,w\r\n';
    for (const step of steps) {
      const recs = split('csv', input, step);
      expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
      expect(parseDelimited(recs[1]!.text, ',')).toEqual(['1', 'x, "y"\r\nz']);
    }
  });

  it.each([
    ['CSV', 'csv', ','],
    ['TSV', 'tsv', '\t'],
  ] as const)(
    '%s a writer makes is read field for field as csv-parse reads it, however the bytes arrive',
    async (_, format, delimiter) => {
      // Generated rows whose fields hold the delimiter, quotes, LF, CRLF, a lone CR, spaces, astral characters or
      // nothing.
      let s = 7;
      const rand = (k: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), (s >>> 8) % k);
      const bits = ['a', 'あ', '𠮷', ',', '\t', '"', '""', '\n', '\r\n', '\r', ' ', '　', 'x y'];
      const field = () => Array.from({ length: rand(6) }, () => bits[rand(bits.length)]!).join('');
      const rows: Row[] = Array.from({ length: 300 }, (_, i) => ({
        index: String(i),
        instruction: field(),
        input: field(),
        output: field(),
        category: field(),
      }));
      for (const eol of ['\n', '\r\n']) {
        const input = Buffer.from(toDelimited(rows, delimiter, eol));
        const expected = await new Promise<string[][]>((resolve, reject) =>
          parseCsv(input, { delimiter }, (err, records: string[][]) => (err ? reject(err) : resolve(records))),
        );
        expect(expected).toHaveLength(rows.length + 1);
        for (const step of [1, 5, 64, 1 << 20]) {
          const fields = split(format, input, step).map((r) => parseDelimited(r.text, delimiter));
          expect(fields).toEqual(expected);
        }
      }
    },
  );

  it('a fragment of a JSON array (a later chunk) starts after a comma and may end without the bracket', () => {
    expect(
      split('json', '{"a":2}, {"a":3},', 5, { mode: 'fragment', offset: 100, index: 7, last: false }).map((r) => [
        r.text,
        r.index,
        r.pos,
      ]),
    ).toEqual([
      ['{"a":2}', 7, 100],
      ['{"a":3}', 8, 109],
    ]);
  });
});

describe('a broken file is an InputError that says what and where', () => {
  const fails = (format: TextFormat, input: string) => {
    try {
      split(format, input, 4);
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return (err as Error).message;
    }
    throw new Error('expected an InputError');
  };
  it('an unclosed JSON array', () =>
    expect(fails('json', '[{"a":1},\n{"a":2')).toMatch(/not closed.*element 1 \(from line 2\)/));
  it('an unclosed string in a JSON array', () =>
    expect(fails('json', '[{"a":"x}]')).toMatch(/string in element 0.*never closed/));
  it('not a JSON array', () => expect(fails('json', '{"a":1}')).toMatch(/expected a JSON array/));
  it('content after the array', () =>
    expect(fails('json', '[1]\n[2]')).toMatch(/after the end of the JSON array at line 2/));
  it('a trailing comma', () => expect(fails('json', '[1,]')).toMatch(/comma before '\]'/));
  it('an unclosed quoted CSV field', () =>
    expect(fails('csv', 'a,b\n1,"x\n2,y\n')).toMatch(/quoted field opened on line 2 is never closed/));
});

describe('UTF-8 validation', () => {
  const check = (b: Buffer, step: number) => {
    const v = new Utf8Validator('s3://b/k');
    for (let i = 0; i < b.length; i += step) v.push(b.subarray(i, i + step));
    v.end();
  };
  it('accepts multi-byte characters split across buffers', () => {
    for (const step of [1, 2, 3, 5]) expect(() => check(Buffer.from('あ𠮷\nい'), step)).not.toThrow();
  });
  it('names Shift_JIS and the line of the first bad byte', () => {
    const b = Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"ok"}\n'), iconv.encode('{"a":"日本語"}\n', 'shift_jis')]);
    expect(() => check(b, 7)).toThrow(/not valid UTF-8.*line 3, byte offset 28; it looks like Shift_JIS/);
  });
  it('rejects a truncated character at the end', () =>
    expect(() => check(Buffer.from([0x61, 0xe3, 0x81]), 1)).toThrow(/line 1/));
  it('given bytes cut into buffers anywhere, accepts exactly what isUtf8 accepts whole, failing at the line and offset one whole buffer fails at', () => {
    // Text with 1- to 4-byte characters, some with one byte changed, cut at every step up to 6 bytes.
    const text = Buffer.from('aé\nあ𠮷z\nいう😀'.repeat(3));
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let trial = 0; trial < 300; trial++) {
      const b = Buffer.from(text);
      if (trial % 3) b[rand(b.length)] = rand(256);
      const failure = (step: number) => {
        try {
          check(b, step);
          return undefined;
        } catch (e) {
          return /line \d+, byte offset \d+/.exec((e as Error).message)?.[0] ?? (e as Error).message;
        }
      };
      const once = failure(b.length);
      expect(once === undefined).toBe(isUtf8(b));
      for (const step of [1, 2, 3, 4, 5, 6]) expect(failure(step)).toBe(once);
    }
  });
});
