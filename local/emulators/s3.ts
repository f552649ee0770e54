import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, ReadStream, rmSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
// s3rver has no type declarations; the little we use is typed below.
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const S3Object = require('s3rver/lib/models/object');

/** What s3rver emits for each object write: its own, not quite S3's, notification shape. */
export interface S3rverEvent {
  Records: Array<{
    eventName: string;
    eventTime: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } };
  }>;
}

export interface S3Emulator {
  endpoint: string;
  port: number;
  /** Called for every ObjectCreated/ObjectRemoved event, in s3rver's shape (see notifications.ts for S3's). */
  onEvent(listener: (event: S3rverEvent) => void): void;
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * S3 on 127.0.0.1 backed by s3rver. State lives in `dataDir` when given (kept across restarts),
 * otherwise in a temporary folder removed on close.
 * Needs `--openssl-legacy-provider` for ListObjectsV2 continuation tokens (s3rver encrypts them with DES).
 */
export async function startS3(opts: { dataDir?: string; port?: number } = {}): Promise<S3Emulator> {
  const directory = opts.dataDir ? path.join(opts.dataDir, 's3') : mkdtempSync(path.join(tmpdir(), 'btp-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: opts.port ?? 0, silent: true, directory });
  tuneStore(server.store);
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    port: address.port,
    onEvent: (listener) => server.on('event', listener),
    createBucket: async (name) => {
      await server.store.putBucket(name);
    },
    close: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The part of s3rver's FilesystemStore (3.7) that `tuneStore` replaces or calls. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<{ content?: unknown } | null>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<{ md5: string; size: number }>;
}

const READ_BYTES = 1024 * 1024;

/**
 * Two changes to s3rver's file store, both about the data path's cost (every byte of a run passes through here):
 * - GetObject streams the file in 1 MB reads instead of 64 KB ones.
 * - CompleteMultipartUpload checks each part's ETag against the part stored (S3 answers InvalidPart otherwise),
 *   joins the parts with whole-file reads and writes instead of streaming them through MD5 again, and gives the
 *   object S3's multipart ETag: the MD5 of the parts' MD5s, a dash and the number of parts.
 */
function tuneStore(store: FilesystemStore) {
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    const content = object?.content;
    if (content instanceof ReadStream) {
      const { path: file, start, end } = content as ReadStream & { start?: number; end?: number };
      content.destroy();
      object!.content = createReadStream(file, { start, end, highWaterMark: READ_BYTES });
    }
    return object;
  };

  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, stored] = await Promise.all([readFile(path.join(uploadDir, 'key'), 'utf8'), readFile(path.join(uploadDir, 'metadata'), 'utf8').then(JSON.parse)]);
    const { metadata } = new S3Object(bucket, key, null, stored) as { metadata: Record<string, string> }; // s3rver's defaults
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const digests: Buffer[] = [];
    for (const part of sorted) {
      const stored = await readFile(path.join(uploadDir, `${part.number}.md5`), 'utf8').catch(() => undefined);
      if (stored !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part\'s entity tag.', { PartNumber: part.number, ETag: part.etag });
      }
      digests.push(Buffer.from(stored, 'hex'));
    }
    const objectPath = store.getResourcePath(bucket, key, 'object');
    await mkdir(path.dirname(objectPath), { recursive: true });
    const out = await open(objectPath, 'w');
    let size = 0;
    try {
      for (const part of sorted) {
        const data = await readFile(path.join(uploadDir, String(part.number)));
        await out.write(data);
        size += data.length;
      }
    } finally {
      await out.close();
    }
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${sorted.length}`;
    await store.putMetadata(bucket, key, metadata, etag);
    await rm(uploadDir, { recursive: true, force: true });
    return { md5: etag, size };
  };
}
