import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { AsyncBuffer } from 'hyparquet';
import { createInterface } from 'node:readline';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { S3ObjectRef } from '../messages/pipeline';
import type { ObjectStore } from '../orchestration/ports';
import type { ArtifactStore, DatasetStore, ObjectInfo, WriteTarget } from '../prep/ports';

/**
 * The one S3 adapter: ranged reads as Node streams, streamed multipart writes, random access for Parquet, and the
 * small reads and writes of the other steps, behind the narrow ports each step takes (DatasetStore, ArtifactStore,
 * ObjectStore). Reads pin the version when there is one, so a run reads the bytes it was started for.
 */

/** A missing object: GetObject says NoSuchKey, HeadObject (no body) only NotFound / 404. */
export const isMissing = (err: unknown) => {
  const name = (err as { name?: string }).name;
  return (
    name === 'NoSuchKey' ||
    name === 'NotFound' ||
    (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
};

export async function headObject(s3: S3Client, ref: S3ObjectRef): Promise<ObjectInfo | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
    return {
      size: out.ContentLength ?? 0,
      etag: out.ETag?.replace(/^"|"$/g, ''),
      versionId: out.VersionId ?? undefined,
    };
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** The object, or bytes [start, end) of it, as a Node stream. */
export async function openObject(
  s3: S3Client,
  ref: S3ObjectRef,
  range?: { start: number; end: number },
): Promise<Readable> {
  if (range && range.end <= range.start) return Readable.from([]);
  const out = await s3.send(
    new GetObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      VersionId: ref.versionId,
      Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
    }),
  );
  return out.Body as Readable;
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString('utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** A streamed write: what is written to `stream` is uploaded in parts of `partBytes` (8 MiB; one PUT when smaller). */
export function uploadStream(
  s3: S3Client,
  bucket: string,
  key: string,
  contentType: string,
  partBytes = 8 * 1024 * 1024,
): WriteTarget {
  const stream = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: stream, ContentType: contentType },
    partSize: partBytes,
    queueSize: 4,
  });
  let failed = false;
  const done = upload.done().then(() => undefined);
  // A failed upload fails the stream (a writer waiting on it stops); a stream failed by its writer aborts the upload,
  // which removes the parts sent.
  done.catch((err: Error) => {
    failed = true;
    stream.destroy(err);
  });
  stream.once('error', () => {
    if (!failed) void upload.abort().catch(() => undefined);
  });
  return { stream, done };
}

/**
 * A streamed write of a length known beforehand: one PUT whose body is sent as it is written. A different length
 * fails the write, naming the key, before S3 would see a short or long body. A failed request fails the stream, so a
 * writer waiting to write more is not left waiting; a failed stream (the writer gave up) aborts the request.
 */
export function putStream(s3: S3Client, bucket: string, key: string, contentType: string, size: number): WriteTarget {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  let written = 0;
  const body = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, next) {
      written += chunk.length;
      if (written > size) next(lengthError(key, size, written, 'more than'));
      else next(null, chunk);
    },
    flush(next) {
      next(written === size ? null : lengthError(key, size, written, 'only'));
    },
  });
  const abort = new AbortController();
  const failed = new Promise<never>((_, reject) =>
    body.once('error', (err) => {
      abort.abort(err);
      reject(err);
    }),
  );
  stream.once('error', (err) => body.destroy(err));
  stream.pipe(body);
  const sent = s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType }),
    { abortSignal: abort.signal },
  );
  const done = Promise.race([sent, failed]).then(() => undefined);
  done.catch((err: Error) => stream.destroy(err));
  return { stream, done };
}

const lengthError = (key: string, size: number, written: number, how: string) =>
  new Error(`${key}: ${how} ${written} bytes written, where ${size} were announced`);

/** hyparquet reads the footer, then the column chunks it needs, each with a ranged GET. */
export function s3AsyncBuffer(s3: S3Client, ref: S3ObjectRef, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stream = await openObject(s3, ref, { start, end: end ?? size });
      const parts: Buffer[] = [];
      for await (const b of stream) parts.push(b as Buffer);
      const buf = Buffer.concat(parts);
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
    },
  };
}

export const buildDatasetStore = (s3: S3Client): DatasetStore => ({
  head: (ref) => headObject(s3, ref),
  open: (ref, range) => openObject(s3, ref, range),
  readText: (bucket, key) => readText(s3, bucket, key),
  parquet: (ref, size) => s3AsyncBuffer(s3, ref, size),
});

export const buildArtifactStore = (s3: S3Client, bucket: string): ArtifactStore => ({
  write: (key, contentType, opts) =>
    opts?.size !== undefined
      ? putStream(s3, bucket, key, contentType, opts.size)
      : uploadStream(s3, bucket, key, contentType, opts?.partBytes),
  read: (key) => openObject(s3, { bucket, key }),
  put: async (key, body, contentType) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  },
});

/** Every key under a prefix, page by page. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** The orchestration steps' ObjectStore port. */
export const buildObjectStore = (s3: S3Client): ObjectStore => ({
  getText: (bucket, key) => readText(s3, bucket, key),
  listKeys: (bucket, prefix) => listKeys(s3, bucket, prefix),
  async *lines(bucket, key) {
    // A training file may be gigabytes: its lines are streamed.
    yield* createInterface({ input: await openObject(s3, { bucket, key }), crlfDelay: Infinity });
  },
  async putText(bucket, key, text, contentType = 'text/plain; charset=utf-8') {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
  },
});
