import { PassThrough, Readable } from 'node:stream';
import type { Envelope } from '../../../shared/messages/envelope';
import type { S3ObjectRef } from '../../../shared/messages/pipeline';
import type { Publish, QueueUrls } from '../../../shared/messages/send';
import { MemoryRunStore } from '../memory-run-store';
import { bufferAsAsync } from '../../../shared/prep/chunk';
import type { ArtifactStore, DatasetStore } from '../../../shared/prep/ports';

/** In-memory fakes of the ports, for unit tests of the domain functions. */
export class MemoryObjects {
  readonly objects = new Map<string, Buffer>();
  put(bucket: string, key: string, body: Buffer | string) {
    this.objects.set(`${bucket}/${key}`, typeof body === 'string' ? Buffer.from(body) : body);
  }
  get(bucket: string, key: string): Buffer | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }
  text(bucket: string, key: string): string {
    const b = this.get(bucket, key);
    if (!b) throw new Error(`no object ${bucket}/${key}`);
    return b.toString('utf8');
  }
  keys(bucket: string): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1));
  }

  datasets(): DatasetStore & { ranges: Array<{ start: number; end: number }> } {
    const ranges: Array<{ start: number; end: number }> = [];
    const body = (ref: S3ObjectRef) => {
      const b = this.get(ref.bucket, ref.key);
      if (!b) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
      return b;
    };
    return {
      ranges,
      head: async (ref) => {
        const b = this.get(ref.bucket, ref.key);
        return b ? { size: b.length, etag: `etag-${b.length}` } : undefined;
      },
      open: async (ref, range) => {
        const b = body(ref);
        if (range) ranges.push(range);
        const slice = range ? b.subarray(range.start, range.end) : b;
        // Deliver in 64 KB pieces, as a network stream would.
        const pieces: Buffer[] = [];
        for (let i = 0; i < slice.length; i += 65536) pieces.push(slice.subarray(i, i + 65536));
        return Readable.from(pieces);
      },
      readText: async (bucket, key) => this.get(bucket, key)?.toString('utf8'),
      parquet: (ref) => bufferAsAsync(body(ref)),
    };
  }

  artifacts(bucket: string): ArtifactStore {
    return {
      write: (key, _type, opts) => {
        const stream = new PassThrough();
        const parts: Buffer[] = [];
        stream.on('data', (b: Buffer) => parts.push(b));
        const done = new Promise<void>((resolve, reject) => {
          stream.on('end', () => {
            const body = Buffer.concat(parts);
            // A length announced beforehand must be the length written, as for S3's PUT of that length.
            if (opts?.size !== undefined && body.length !== opts.size)
              return reject(new Error(`${key}: ${body.length} bytes written, where ${opts.size} were announced`));
            this.put(bucket, key, body);
            resolve();
          });
          stream.on('error', reject);
        });
        return { stream, done };
      },
      read: async (key) => Readable.from([this.get(bucket, key) ?? Buffer.alloc(0)]),
      put: async (key, body) => this.put(bucket, key, body),
    };
  }
}

export { MemoryRunStore };

/** Queue URLs for in-memory runs: `send` puts each message type on its queue's URL, so tests can look there. */
export const QUEUE_URLS = {
  ingest: 'q://ingest',
  transform: 'q://transform',
  split: 'q://split',
  submit: 'q://submit',
  monitor: 'q://monitor',
  provision: 'q://provision',
  evaluate: 'q://evaluate',
} as const satisfies QueueUrls;

export function memoryPublish(): Publish & { sent: Array<{ queueUrl: string; message: Envelope }> } {
  const sent: Array<{ queueUrl: string; message: Envelope }> = [];
  const publish = (async (queueUrl: string, message: Envelope) => {
    sent.push({ queueUrl, message: JSON.parse(JSON.stringify(message)) as Envelope });
  }) as Publish & { sent: typeof sent };
  publish.sent = sent;
  return publish;
}
