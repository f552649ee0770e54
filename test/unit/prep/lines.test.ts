import { Readable } from 'node:stream';
import { eachLineBytes, readLines } from '../../../shared/prep/lines';

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
