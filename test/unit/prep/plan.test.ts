import { PrepConfig } from '../../../shared/config/run-config';
import { chunkTarget, planJsonLinesByRanges } from '../../../shared/prep/plan';
import { MemoryObjects } from '../../helpers/prep/memory';

const MiB = 1024 * 1024;
const prep = (p: Record<string, unknown> = {}) => PrepConfig.parse(p);

describe('chunk size: chunkBytes at most, spread over fanOut functions for a mid-sized file', () => {
  it('a small file stays one chunk: no chunk under minChunkBytes (8 MiB)', () => {
    expect(chunkTarget(prep(), 3 * MiB, true)).toBe(8 * MiB);
  });

  it('a mid-sized file is cut into fanOut (8) chunks', () => {
    expect(chunkTarget(prep(), 200 * MiB, true)).toBe(25 * MiB);
  });

  it('a large file is cut by chunkBytes (64 MiB)', () => {
    expect(chunkTarget(prep(), 10_000 * MiB, true)).toBe(64 * MiB);
  });

  it('input a chunk cannot be read from by itself (gzip, another encoding) is cut by chunkBytes only', () => {
    expect(chunkTarget(prep(), 200 * MiB, false)).toBe(64 * MiB);
  });

  it('chunkBytes bounds the fan-out too, and fanOut 1 turns it off', () => {
    expect(chunkTarget(prep({ chunkBytes: 1000 }), 200 * MiB, true)).toBe(1000);
    expect(chunkTarget(prep({ fanOut: 1 }), 40 * MiB, true)).toBe(40 * MiB); // one chunk
    expect(chunkTarget(prep({ fanOut: 1 }), 400 * MiB, true)).toBe(64 * MiB);
  });
});

describe('JSON Lines bigger than a chunk is cut by byte ranges without being read', () => {
  const line = (i: number, pad = 0) =>
    JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${'あ'.repeat(pad)}${i}` });
  const store = (body: Buffer | string, key = 'datasets/a.jsonl') => {
    const objects = new MemoryObjects();
    objects.put('b', key, body);
    const datasets = objects.datasets();
    const size = objects.get('b', key)!.length;
    return { datasets, size, source: { bucket: 'b', key, size }, body: objects.get('b', key)! };
  };
  const plan = (s: ReturnType<typeof store>, p: Record<string, unknown>) =>
    planJsonLinesByRanges(s.datasets, s.source, { file: 's3://b/a.jsonl', prep: prep(p), size: s.size });

  it('cuts just past a line break near each even offset, reading only a little around each cut', async () => {
    const s = store(Array.from({ length: 20_000 }, (_, i) => line(i, i % 7)).join('\n') + '\n');
    const p = (await plan(s, { chunkBytes: 400_000 }))!;
    expect(p.chunks.length).toBe(Math.ceil(s.size / 400_000));
    expect(p.records).toBeUndefined();
    expect(p.chunks[0]!.start).toBe(0);
    expect(p.chunks.at(-1)!.end).toBe(s.size);
    for (const [i, c] of p.chunks.entries()) {
      expect(c).toMatchObject({
        index: i,
        total: p.chunks.length,
        format: 'jsonl',
        compression: 'none',
        firstLine: 1,
        relativeLines: true,
      });
      if (i > 0) expect(c.start).toBe(p.chunks[i - 1]!.end);
      if (i > 0) expect(s.body[c.start! - 1]).toBe(10); // each chunk starts a line
    }
    const read = s.datasets.ranges.reduce((n, r) => n + r.end - r.start, 0);
    expect(read).toBeLessThan(s.size); // the head and a window per cut, not the file
  });

  it('a line longer than the window read at a cut is followed to its end', async () => {
    const long = line(1, 100_000); // ~300 KB of one line
    const s = store([line(0), long, line(2), line(3)].join('\n') + '\n');
    const p = (await plan(s, { chunkBytes: 100_000 }))!;
    const starts = p.chunks.map((c) => c.start);
    expect(starts).toEqual([0, Buffer.byteLength(`${line(0)}\n${long}\n`)]); // every cut inside the long line moved past it
  });

  it('a cut that falls on a line start stays there', async () => {
    const ten = Array.from({ length: 10 }, () => 'x'.repeat(99)).map((x) => `{"a":"${x.slice(8)}"}`); // 100 bytes a line with its break
    const s = store(ten.join('\n') + '\n');
    expect(s.size).toBe(1000);
    const p = (await plan(s, { chunkBytes: 500 }))!;
    expect(p.chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 500],
      [500, 1000],
    ]);
  });

  it('leaves other formats, and a file of one chunk, to be read whole', async () => {
    expect(
      await plan(store('instruction,input,output\n' + 'q,,a\n'.repeat(500), 'datasets/a.csv'), { chunkBytes: 100 }),
    ).toBeUndefined();
    expect(await plan(store(line(1) + '\n'), { chunkBytes: 1000 })).toBeUndefined();
  });

  it('a file whose head is not UTF-8 fails here, before any chunk is queued', async () => {
    const sjis = Buffer.concat([
      Buffer.from('{"instruction":"'),
      Buffer.from([0x8e, 0xbf, 0x96, 0xe2]),
      Buffer.from('","output":"a"}\n'),
    ]);
    const s = store(Buffer.concat(Array.from({ length: 100 }, () => sjis)));
    await expect(plan(s, { chunkBytes: 1000 })).rejects.toThrow(/not valid UTF-8.*line 1.*Shift_JIS/);
  });
});
