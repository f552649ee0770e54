import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ObjectStore } from './ports';

const isMissing = (err: unknown) =>
  err instanceof NoSuchKey || (err as { name?: string })?.name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404;

/** The ObjectStore port over S3. */
export function buildObjectStore(s3: S3Client): ObjectStore {
  return {
    async getText(bucket, key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToString('utf-8');
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async listKeys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async *lines(bucket, key) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const lines = createInterface({ input: out.Body as Readable, crlfDelay: Infinity });
      for await (const line of lines) yield line;
    },
    async putText(bucket, key, text, contentType = 'text/plain; charset=utf-8') {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
    },
  };
}
