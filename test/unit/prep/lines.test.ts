import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { eachLineBytes, HashingLineWriter, LineWriter, readLines } from '../../../shared/prep/lines';

// A read buffer may end inside a multi-byte character; every line must come out whole, however the stream is cut.
const text = 'あいう\r\nえお𠮷\n\nlast';
const cuts = (b: Buffer) => Array.from({ length: b.length - 1 }, (_, i) => [b.subarray(0, i + 1), b.subarray(i + 1)]);

describe('reading lines across read buffers', () => {
  it('given a character cut by a buffer boundary, readLines decodes it whole', async () => {
    for (const parts of cuts(Buffer.from(text))) {
      const lines: string[] = [];
      for await (const l of readLines(Readable.from(parts))) lines.push(l);
      expect(lines).toEqual(['あいう', 'えお𠮷', 'last']);
    }
  });

  it('given any cut, eachLineBytes hands out the same line bytes', async () => {
    for (const parts of cuts(Buffer.from(text))) {
      const lines: string[] = [];
      await eachLineBytes(Readable.from(parts), (l) => void lines.push(l.toString('utf8')));
      expect(lines).toEqual(['あいう', 'えお𠮷', 'last']);
    }
  });
});

describe('writing lines', () => {
  const target = () => {
    const stream = new PassThrough();
    const parts: Buffer[] = [];
    stream.on('data', (b: Buffer) => parts.push(b));
    const done = new Promise<void>((resolve) => stream.on('end', resolve));
    return { stream, done, text: () => Buffer.concat(parts).toString('utf8') };
  };
  const writeAll = async (w: LineWriter) => {
    w.write('{"a":"あ"}');
    w.writeBytes(Buffer.from('{"b":"𠮷"}'));
    w.writeJoined('{"c":', Buffer.from('1}'));
    w.writeHeadInt(Buffer.from('{"g":"あ","n":'), 1234567, 0x7d);
    w.writeHeadInt(Buffer.from('{"h":'), 0, 0x7d);
    // A line longer than the writer's buffer, then lines copied from another writer's output.
    w.write(`{"d":"${'い'.repeat(200_000)}"}`);
    await w.copyFrom(Readable.from([Buffer.from('{"e":1}\n{"f":'), Buffer.from('2}\n')]));
  };

  it('a hashing writer gives the SHA-256, length and line count of exactly what it wrote', async () => {
    const t = target();
    const w = new HashingLineWriter('k', t.stream, t.done);
    await writeAll(w);
    const file = await w.close();
    const bytes = Buffer.from(t.text());
    expect(file).toEqual({
      key: 'k',
      bytes: bytes.length,
      records: 8,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(t.text().split('\n').slice(0, 5)).toEqual([
      '{"a":"あ"}',
      '{"b":"𠮷"}',
      '{"c":1}',
      '{"g":"あ","n":1234567}',
      '{"h":0}',
    ]);
  });

  it("a plain writer (a chunk's files, whose hashes no one reads) writes the same and hashes nothing", async () => {
    const [a, b] = [target(), target()];
    const plain = new LineWriter('k', a.stream, a.done);
    const hashing = new HashingLineWriter('k', b.stream, b.done);
    await writeAll(plain);
    await writeAll(hashing);
    const file = await plain.close();
    await hashing.close();
    expect(a.text()).toBe(b.text());
    expect(file).toEqual({ key: 'k', bytes: Buffer.byteLength(a.text()), records: 8 });
  });
});
