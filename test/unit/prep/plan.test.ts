import { PrepConfig } from '../../../shared/config/run-config';
import { chunkTarget } from '../../../shared/prep/plan';

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
