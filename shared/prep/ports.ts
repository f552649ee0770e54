import type { Readable, Writable } from 'node:stream';
import type { AsyncBuffer } from 'hyparquet';
import type { S3ObjectRef } from '../messages/pipeline';

/**
 * The storage ports of data preparation. Domain code takes them as arguments; shared/aws/s3-io.ts adapts them to S3,
 * and tests and the benchmark adapt them to memory or to local files.
 */
export interface ObjectInfo {
  size: number;
  etag?: string;
  versionId?: string;
}

export interface DatasetStore {
  /** Size and identity of the object, or undefined when it does not exist. */
  head(ref: S3ObjectRef): Promise<ObjectInfo | undefined>;
  /** The stored bytes, or bytes [start, end) of them. */
  open(ref: S3ObjectRef, range?: { start: number; end: number }): Promise<Readable>;
  /** A small text object (a sidecar configuration), or undefined when it does not exist. */
  readText(bucket: string, key: string): Promise<string | undefined>;
  /** Random access for Parquet: ranged reads of the object. */
  parquet(ref: S3ObjectRef, size: number): AsyncBuffer;
}

export interface WriteTarget {
  stream: Writable;
  /** Settles when the object is stored. */
  done: Promise<void>;
}

export interface ArtifactStore {
  /**
   * A streamed write. `partBytes`: how much is gathered before it is sent (an S3 multipart part: 5 MiB at least);
   * smaller parts leave less to send when the writer closes. `size`: the exact length that will be written, known
   * beforehand; the store may then send the bytes as they come, in one request, and fails the write (`done`) when
   * a different length is written.
   */
  write(key: string, contentType: string, opts?: { partBytes?: number; size?: number }): WriteTarget;
  read(key: string): Promise<Readable>;
  put(key: string, body: string, contentType: string): Promise<void>;
}
