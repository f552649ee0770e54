import { PassThrough } from 'node:stream';
import { LineWriter } from '../../../shared/prep/lines';
import { LINE, mergeRejects, placeOf, type ChunkDuplicates } from '../../../shared/prep/reject-order';

const pieces = async function* (text: string, size: number) {
  const b = Buffer.from(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
};

/** A chunk's reject lines merged with split's duplicates (kept lines at `dups`' places), read `size` bytes a time. */
async function merged(
  lines: string[],
  dups: Array<{ line: number; skip?: number }>,
  size: number,
  staysAt?: ChunkDuplicates['staysAt'],
) {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve) => stream.on('end', resolve));
  const out = new LineWriter('rejects.jsonl', stream, done);
  const renamed = await mergeRejects(pieces(lines.map((l) => `${l}\n`).join(''), size), out, {
    next: (from) => (from < dups.length ? from : -1),
    place: (i) => dups[i]!.line,
    skip: (i) => dups[i]!.skip ?? 0,
    write: (i) => out.write(`{"reason":"filtered:duplicate","detail":"same text as line 1","line":${dups[i]!.line}}`),
    staysAt,
  });
  const written = await out.close();
  const text = Buffer.concat(parts).toString('utf8');
  expect(written.records).toBe(text.split('\n').length - 1);
  return { lines: text.split('\n').slice(0, -1), renamed };
}

const dup = (n: number, line: number, piece?: number) =>
  `{"reason":"filtered:duplicate","detail":"same text as line ${n}${piece === undefined ? '' : ` piece ${piece}`}","line":${line}}`;
const long = (line: number) =>
  `{"reason":"filtered:sentence_too_long","detail":"one sentence of 13 characters","record":"長長長","line":${line}}`;
const missing = (line: number) =>
  `{"reason":"rejected:missing_field","detail":"field \\"output\\" is missing","record":"{\\"a\\":\\",\\\\\\"line\\\\\\":9\\"}","line":${line},"field":"output"}`;

describe("split writes a chunk's reject lines with the duplicates it found, in source order", () => {
  it('reads the line or row of a reject line, a field after it or look-alike text in the record', () => {
    for (const [l, n] of [
      [dup(3, 12), 12],
      [missing(41), 41],
      ['{"reason":"rejected:not_json","detail":"x","record":"{","row":7}', 7],
      ['{"reason":"rejected:not_json","detail":"x","record":"{"}', -1],
    ] as const) {
      const b = Buffer.from(l);
      expect(placeOf(b, 0, b.length)).toBe(n);
    }
  });

  it.each([3, 7, 1000])('in their places whatever the pieces read (%i bytes)', async (size) => {
    const chunk = [dup(1, 4), missing(6), long(9), dup(2, 9), dup(2, 12)];
    // Kept lines split drops: line 5, two pieces of line 9 (one after a piece transform rejected), line 20.
    const r = await merged(chunk, [{ line: 5 }, { line: 9 }, { line: 9, skip: 1 }, { line: 20 }], size);
    expect(r.lines.map((l) => (JSON.parse(l) as { line: number }).line)).toEqual([4, 5, 6, 9, 9, 9, 9, 12, 20]);
    expect(r.lines[3]).toBe(long(9));
    expect(r.lines.slice(4, 7)).toEqual([
      '{"reason":"filtered:duplicate","detail":"same text as line 1","line":9}',
      dup(2, 9),
      '{"reason":"filtered:duplicate","detail":"same text as line 1","line":9}',
    ]);
    expect(r.lines[2]).toBe(missing(6));
  });

  it('copies long runs of lines as they are (blocks of 64 KB and more go to the stream uncopied)', async () => {
    const chunk = Array.from({ length: 3000 }, (_, i) => missing(2 * i + 1));
    const r = await merged(chunk, [{ line: 3000 }], 100_000);
    expect(r.lines).toEqual([
      ...chunk.slice(0, 1500),
      '{"reason":"filtered:duplicate","detail":"same text as line 1","line":3000}',
      ...chunk.slice(1500),
    ]);
  });

  it('renames a duplicate naming a record split dropped, and leaves out the piece transform named', async () => {
    const chunk = [dup(3, 4), dup(5, 6, 1), dup(5, 7, 0), dup(8, 9)];
    // The record at line 5, piece 1, was dropped for line 2's; line 3 and line 5 piece 0 stay; line 8 is in this chunk
    // and was dropped for line 1's.
    const staysAt = (kind: number, n: number, piece: number) =>
      kind !== LINE
        ? undefined
        : n === 5 && piece === 1
          ? { place: 2, inChunk: false }
          : n === 8
            ? { place: 1, inChunk: true }
            : undefined;
    const r = await merged(chunk, [], 5, staysAt);
    expect(r.lines).toEqual([dup(3, 4), dup(2, 6), dup(5, 7), dup(1, 9)]);
    expect(r.renamed).toBe(1);
  });
});
