import { z } from 'zod';
import { InvalidMessageError, parseJson, parseMessage } from '../../shared/messages/envelope';
import { RunRequested, type S3ObjectRef } from '../../shared/messages/pipeline';
import type { MessageOf } from '../../shared/messages/envelope';
import { StageRequested } from '../../shared/orchestration/messages';

/** The notification S3 sends to SQS for ObjectCreated events (keys URL-encoded, spaces as '+'). */
const S3Notification = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), size: z.number().optional(), eTag: z.string().optional(), versionId: z.string().optional() }),
      }),
    }),
  ),
});

export type IngestInput =
  | { kind: 'upload'; source: S3ObjectRef }
  | { kind: 'request'; source: S3ObjectRef; config?: Record<string, unknown>; correlationId: string }
  /** The next stage of a chained run (from monitor). */
  | { kind: 'stage'; runId: string; stage: number; correlationId: string };

/**
 * An ingest queue record is an S3 notification (possibly S3's setup `s3:TestEvent`, which starts nothing) or a
 * `run.requested` message from another team, or monitor's `stage.requested` for a chained run. Anything else is invalid and goes to the dead-letter queue.
 */
export function parseIngestRecord(body: string): IngestInput[] {
  const value = parseJson(body) as Record<string, unknown>;
  if (value && typeof value === 'object' && value.Event === 's3:TestEvent') return [];
  if (value && typeof value === 'object' && value.type === StageRequested.type) {
    const msg = parseMessage(StageRequested, value);
    return [{ kind: 'stage', runId: msg.runId, stage: msg.payload.stage, correlationId: msg.correlationId }];
  }
  if (value && typeof value === 'object' && 'type' in value) {
    const msg: MessageOf<typeof RunRequested> = parseMessage(RunRequested, value);
    return [{ kind: 'request', source: msg.payload.source, config: msg.payload.config, correlationId: msg.correlationId }];
  }
  const parsed = S3Notification.safeParse(value);
  if (!parsed.success) {
    throw new InvalidMessageError(`neither an S3 notification nor a run.requested message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated')).map((r) => ({
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
