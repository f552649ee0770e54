import * as z from 'zod';

/**
 * Events AWS services put on the pipeline's queues, beside the pipeline's own messages (queues.ts says which queue
 * takes which). Their shapes are AWS's, so the schemas are Powertools' (`@aws-lambda-powertools/parser`), extended
 * where a step reads more than the envelope. Each is built when first used, and Powertools' schema modules (S3's and
 * EventBridge's, not the parser's barrel, which builds its ~25 event schemas) are imported then too, since they build
 * their schemas when they load: every function imports the queues' table (queues.ts), while only ingest and monitor
 * read these events, and building zod schemas costs a cold start.
 */

/** A schema built on its first use, then kept. */
const builtOnce = <S>(build: () => Promise<S>): (() => Promise<S>) => {
  let schema: Promise<S> | undefined;
  return () => (schema ??= build());
};

/**
 * The notification S3 sends to SQS for an ObjectCreated event (event version 2.x; keys URL-encoded, spaces as '+').
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
export const S3Notification = builtOnce(async () => {
  const { S3Schema } = await import('@aws-lambda-powertools/parser/schemas/s3');
  return S3Schema.extend({
    // Powertools takes an IPv4 address (or S3 itself) only; a request through S3's dual-stack endpoints comes over
    // IPv6. https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html
    Records: z
      .array(S3Schema.shape.Records.element.extend({ requestParameters: z.object({ sourceIPAddress: z.string() }) }))
      .min(1),
  });
});
export type S3Notification = z.infer<Awaited<ReturnType<typeof S3Notification>>>;

/** The test event S3 sends once when a notification configuration is put on a bucket; it starts nothing. */
export const S3TestEvent = builtOnce(async () =>
  z.object({ Service: z.literal('Amazon S3'), Event: z.literal('s3:TestEvent'), Bucket: z.string() }).loose(),
);
export type S3TestEvent = z.infer<Awaited<ReturnType<typeof S3TestEvent>>>;

/**
 * Bedrock's EventBridge event as the rule delivers it to the monitor queue (docs/bedrock-api.md §10); the status is
 * `detail.jobStatus`.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge.html
 */
export const JobStateChange = builtOnce(async () => {
  const { EventBridgeSchema } = await import('@aws-lambda-powertools/parser/schemas/eventbridge');
  return EventBridgeSchema.extend({
    'detail-type': z.literal('Model Customization Job State Change'),
    source: z.literal('aws.bedrock'),
    detail: z.object({ jobArn: z.string().min(1), jobName: z.string().min(1), jobStatus: z.string() }).loose(),
  });
});
export type JobStateChange = z.infer<Awaited<ReturnType<typeof JobStateChange>>>;
