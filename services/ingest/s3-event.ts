import type { S3Notification } from '../../shared/messages/aws-events';
import type { S3ObjectRef } from '../../shared/messages/pipeline';

export type IngestInput =
  | { kind: 'upload'; source: S3ObjectRef }
  | {
      kind: 'request';
      source: S3ObjectRef;
      config?: Record<string, unknown>;
      /** The request's envelope ids, kept on the run, its first event and its notifications. */
      request: { runId: string; correlationId: string };
    }
  /** The next stage of a chained run (from monitor). */
  | { kind: 'stage'; runId: string; stage: number; correlationId: string };

/** The objects an S3 notification says were created (keys URL-encoded, spaces as '+'); other events start nothing. */
export function uploadsOf(notification: S3Notification): Array<Extract<IngestInput, { kind: 'upload' }>> {
  return notification.Records.filter((r) => r.eventName.startsWith('ObjectCreated')).map((r) => ({
    kind: 'upload' as const,
    source: {
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
      size: r.s3.object.size,
      etag: r.s3.object.eTag,
      versionId: r.s3.object.versionId,
    },
  }));
}
