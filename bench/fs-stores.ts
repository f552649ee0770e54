import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import type { ArtifactStore, DatasetStore } from '../shared/prep/ports';

/** The storage ports on local files, so the benchmark measures the data preparation, not an S3 emulator. */
export function fileDatasets(root: string): DatasetStore {
  const file = (bucket: string, key: string) => path.join(root, bucket, key);
  return {
    head: async (ref) => {
      const p = file(ref.bucket, ref.key);
      if (!existsSync(p)) return undefined;
      const st = statSync(p);
      return { size: st.size, etag: `${st.size}-${st.mtimeMs}` };
    },
    open: async (ref, range) =>
      createReadStream(file(ref.bucket, ref.key), {
        highWaterMark: 1024 * 1024,
        ...(range ? { start: range.start, end: range.end - 1 } : {}),
      }),
    readText: async (bucket, key) =>
      existsSync(file(bucket, key)) ? readFileSync(file(bucket, key), 'utf8') : undefined,
    parquet: (ref, size) => ({
      byteLength: size,
      slice: (start: number, end?: number) => {
        const fd = openSync(file(ref.bucket, ref.key), 'r');
        const buf = Buffer.alloc((end ?? size) - start);
        readSync(fd, buf, 0, buf.length, start);
        closeSync(fd);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
      },
    }),
  };
}

export function fileArtifacts(root: string): ArtifactStore {
  const file = (key: string) => {
    const p = path.join(root, key);
    mkdirSync(path.dirname(p), { recursive: true });
    return p;
  };
  return {
    write: (key) => {
      const stream = createWriteStream(file(key), { highWaterMark: 1024 * 1024 });
      return { stream, done: finished(stream) };
    },
    read: async (key) => createReadStream(file(key), { highWaterMark: 1024 * 1024 }),
    put: async (key, body) => writeFileSync(file(key), body),
  };
}
