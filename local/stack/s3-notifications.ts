import { randomBytes } from 'node:crypto';
import type { S3rverEvent } from '../emulators/s3';
import type { BucketSpec } from './topology';

/**
 * Turns s3rver's event into the JSON S3 itself sends to an SQS queue (event version 2.1), so the ingest handler sees
 * in the local stack what it will see in AWS. s3rver's own shape differs: raw keys, a malformed bucket ARN, and
 * `ObjectCreated:Post` after a multipart upload where S3 says `ObjectCreated:CompleteMultipartUpload`.
 */
export function toS3Notification(
  event: S3rverEvent['Records'][number],
  configurationId: string,
  region: string,
): { Records: unknown[] } {
  const eventName =
    event.eventName === 'ObjectCreated:Post' ? 'ObjectCreated:CompleteMultipartUpload' : event.eventName;
  const object: Record<string, unknown> = { key: encodeS3EventKey(event.s3.object.key) };
  if (event.s3.object.size !== undefined) object.size = event.s3.object.size;
  if (event.s3.object.eTag !== undefined) object.eTag = event.s3.object.eTag;
  object.sequencer = event.s3.object.sequencer.padStart(16, '0');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: event.eventTime,
        eventName,
        userIdentity: { principalId: 'AWS:LOCALSTACKUSER' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': hex(8), 'x-amz-id-2': randomBytes(48).toString('base64') },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: {
            name: event.s3.bucket.name,
            ownerIdentity: { principalId: 'LOCALOWNER' },
            arn: `arn:aws:s3:::${event.s3.bucket.name}`,
          },
          object,
        },
      },
    ],
  };
}

/** The test event S3 sends to a queue when a notification configuration is put on a bucket. */
export function s3TestEvent(bucket: string): Record<string, string> {
  return {
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: hex(8),
    HostId: randomBytes(48).toString('base64'),
  };
}

/**
 * S3 URL-encodes object keys in notifications the way HTML forms do: a space becomes `+`, and every byte outside
 * the unreserved set is percent-encoded as UTF-8, except `/`, which separates the key's folders. So
 * `datasets/日本 a+b.jsonl` arrives as `datasets/%E6%97%A5%E6%9C%AC+a%2Bb.jsonl`; decode with
 * `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((part) =>
      encodeURIComponent(part)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

/** Which of a bucket's queue configurations an event matches (event type wildcard, key prefix and suffix). */
export function matchingNotifications(bucket: BucketSpec, eventName: string, key: string) {
  return bucket.notifications.filter((n) => {
    const wanted = n.event.replace(/^s3:/, '');
    const matchesEvent = wanted.endsWith(':*') ? eventName.startsWith(wanted.slice(0, -1)) : eventName === wanted;
    return matchesEvent && (!n.prefix || key.startsWith(n.prefix)) && (!n.suffix || key.endsWith(n.suffix));
  });
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
