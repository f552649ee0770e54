import { shiftLineNumbers, type Renames } from '../../../shared/prep/line-numbers';
import { LINE } from '../../../shared/prep/reject-order';
import { ChunkRejectLine, RejectLine } from '../../../shared/artifacts/line-formats';

const pieces = async function* (text: string, size: number) {
  const b = Buffer.from(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
};
const shifted = async (text: string, chunk: number, offsets: number[], size = 7, renames?: Renames) => {
  const out: Buffer[] = [];
  for await (const b of shiftLineNumbers(pieces(text, size), chunk, offsets, renames)) out.push(b);
  return Buffer.concat(out).toString();
};

describe('reject lines of a chunk numbered from its own start are renumbered as lines of the file', () => {
  const lines = [
    '{"reason":"filtered:too_long_chars","detail":"1501 characters","record":"長い","line":3}',
    '{"reason":"filtered:duplicate","detail":"same text as line 3","line":9}',
    '{"reason":"filtered:duplicate","detail":"same text as line 12 of chunk 0","line":10}',
    '{"reason":"rejected:missing_field","detail":"field \\"output\\" is missing","record":"{\\"a\\":\\"same text as line 4,\\\\\\"line\\\\\\":5\\"","line":11,"field":"output"}',
  ];

  it("adds the lines of the chunks before to every line number, and to a duplicate's first line in this chunk or the one named", async () => {
    const out = (await shifted(lines.join('\n') + '\n', 2, [0, 100, 250])).split('\n');
    expect(out[0]).toBe('{"reason":"filtered:too_long_chars","detail":"1501 characters","record":"長い","line":253}');
    expect(out[1]).toBe('{"reason":"filtered:duplicate","detail":"same text as line 253","line":259}');
    expect(out[2]).toBe('{"reason":"filtered:duplicate","detail":"same text as line 12","line":260}'); // chunk 0 starts at line 1
    // Look-alike text inside the record's string is left as it is; only the key is renumbered.
    expect(JSON.parse(out[3]!)).toEqual({ ...JSON.parse(lines[3]!), line: 261 });
    expect(out[4]).toBe('');
  });

  it('gives the same bytes however the input is cut into pieces, and ends a last line that has no line break', async () => {
    const text = lines.join('\n');
    const whole = await shifted(text + '\n', 1, [0, 7], 1 << 20);
    for (const size of [1, 2, 5, 64, 100]) expect(await shifted(text, 1, [0, 7], size)).toBe(whole);
  });

  it('a line that names a chunk the run does not have is an error, not a wrong number', async () => {
    await expect(
      shifted('{"reason":"filtered:duplicate","detail":"same text as line 1 of chunk 9","line":2}\n', 1, [0, 5]),
    ).rejects.toThrow(/chunk 9/);
  });

  it('an error names the file and the line it was read from, however the input is cut', async () => {
    const text = `${lines.join('\n')}\n[4,7]\n[4,9,8]\n[5,6]\n`;
    const file = 'runs/r/stages/0/chunks/1/rejects.jsonl';
    for (const size of [1, 3, 64, 1 << 20]) {
      const out: Buffer[] = [];
      const run = async () => {
        for await (const b of shiftLineNumbers(pieces(text, size), 1, [0, 5], undefined, file)) out.push(b);
      };
      await expect(run()).rejects.toThrow(`${file} line 6: a reject line names chunk 9, which the run does not have`);
    }
    await expect(shifted('[3,x]\n', 1, [0, 5])).rejects.toThrow("chunk 1's rejects line 1: ");
  });

  it('renames, while renumbering, a duplicate naming a record split dropped, as split would, and counts those of this chunk', async () => {
    // Split dropped the records at lines 253 (kept again at 40, an earlier chunk) and 12 (kept again at 5).
    const moved = new Map([
      [253, { place: 40, inChunk: true }],
      [12, { place: 5, inChunk: false }],
    ]);
    const asked: number[][] = [];
    const renames: Renames = {
      staysAt: (kind, n, piece) => (asked.push([kind, n, piece]), moved.get(n)),
      renamedInChunk: 0,
    };
    const out = (await shifted(lines.join('\n') + '\n', 2, [0, 100, 250], 7, renames)).split('\n');
    expect(out.slice(0, 3)).toEqual([
      '{"reason":"filtered:too_long_chars","detail":"1501 characters","record":"長い","line":253}',
      '{"reason":"filtered:duplicate","detail":"same text as line 40","line":259}',
      '{"reason":"filtered:duplicate","detail":"same text as line 5","line":260}',
    ]);
    expect(JSON.parse(out[3]!)).toEqual({ ...JSON.parse(lines[3]!), line: 261 });
    expect(asked).toEqual([
      [LINE, 253, -1],
      [LINE, 12, -1],
    ]);
    expect(renames.renamedInChunk).toBe(1);
  });

  describe('a duplicate in short (ChunkDuplicateLine), as transform writes it in such a chunk', () => {
    const short = [lines[0], '[3,9]', '[12,0,10]', lines[3], '[0,1]'];

    it('is written out as the RejectLine it stands for, renumbered as the long form is, and valid by both schemas', async () => {
      for (const line of short) expect(ChunkRejectLine.safeParse(JSON.parse(line!)).success).toBe(true);
      const long = [...lines, '{"reason":"filtered:duplicate","detail":"same text as line 0","line":1}'];
      for (const [chunk, offsets] of [
        [2, [0, 100, 250]],
        [0, [0]],
      ] as const) {
        const out = await shifted(short.join('\n') + '\n', chunk, [...offsets]);
        expect(out).toBe(await shifted(long.join('\n') + '\n', chunk, [...offsets]));
        for (const line of out.split('\n').slice(0, -1))
          expect(RejectLine.safeParse(JSON.parse(line)).success).toBe(true);
      }
    });

    it('gives the same bytes however the input is cut, many short lines to a piece', async () => {
      const many = Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? `[${i},${i + 1}]` : `[${i},1,${i + 2}]`));
      const text = many.join('\n') + '\n';
      const whole = await shifted(text, 2, [0, 100, 250], 1 << 20);
      expect(whole.split('\n')[1]).toBe('{"reason":"filtered:duplicate","detail":"same text as line 101","line":253}');
      for (const size of [1, 13, 64 * 1024]) expect(await shifted(text, 2, [0, 100, 250], size)).toBe(whole);
    });

    it('is renamed as the long form is', async () => {
      const moved = new Map([[253, { place: 40, inChunk: true }]]);
      const renames: Renames = { staysAt: (_kind, n) => moved.get(n), renamedInChunk: 0 };
      const out = (await shifted('[3,9]\n[12,0,10]\n', 2, [0, 100, 250], 7, renames)).split('\n');
      expect(out.slice(0, 2)).toEqual([
        '{"reason":"filtered:duplicate","detail":"same text as line 40","line":259}',
        '{"reason":"filtered:duplicate","detail":"same text as line 12","line":260}',
      ]);
      expect(renames.renamedInChunk).toBe(1);
    });

    it('a line of another shape in brackets is an error that quotes it', async () => {
      for (const bad of ['[3]', '[3,4,5,6]', '[3,x]', '[3,4', '["a",1]'])
        await expect(shifted(`${bad}\n`, 1, [0, 5])).rejects.toThrow(bad);
      await expect(shifted('[1,9,2]\n', 1, [0, 5])).rejects.toThrow(/chunk 9/);
    });
  });
});
