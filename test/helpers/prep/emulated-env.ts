import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHash, randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startS3 } from '../../../local/emulators/s3';
import { startSqs } from '../../../local/emulators/sqs';
import { startDynamo } from '../../../local/emulators/dynamodb';
import { makeDocumentClient } from '../../../shared/aws/clients';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import { toS3Notification } from '../../../local/stack/s3-notifications';

/**
 * The emulators and resources data preparation needs, with the functions' environment set on this process, so the
 * exported handlers run as Lambda would run them. One place to swap for the lead's startStack later.
 */
export interface PrepEnv {
  s3: S3Client;
  sqs: SQSClient;
  runs: DynamoRunStore;
  buckets: { datasets: string; artifacts: string };
  queues: { transform: string; split: string; submit: string; dlq: string };
  put(key: string, body: Buffer | string): Promise<{ eTag: string; size: number }>;
  text(bucket: string, key: string): Promise<string>;
  /** Receives and deletes every message on a queue (SQS returns at most 10 per call). */
  drain(queueUrl: string): Promise<Array<{ body: string; receiveCount: number }>>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startPrepEnv(): Promise<PrepEnv> {
  const [s3e, sqse, ddbe] = await Promise.all([startS3(), startSqs(), startDynamo()]);
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3e.endpoint,
    AWS_ENDPOINT_URL_SQS: sqse.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: ddbe.endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const common = { region: REGION, credentials: CREDENTIALS };
  const s3 = new S3Client({
    ...common,
    endpoint: s3e.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sqs = new SQSClient({ ...common, endpoint: sqse.endpoint });
  const ddb = new DynamoDBClient({ ...common, endpoint: ddbe.endpoint });

  const buckets = { datasets: 'btp-test-datasets', artifacts: 'btp-test-artifacts' };
  for (const b of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }));
  const queues = {
    transform: 'btp-test-transform',
    split: 'btp-test-split',
    submit: 'btp-test-submit',
    dlq: 'btp-test-dlq',
  };
  for (const q of Object.values(queues)) await sqs.send(new CreateQueueCommand({ QueueName: q }));
  const urls = Object.fromEntries(Object.entries(queues).map(([k, q]) => [k, sqse.queueUrl(q)])) as PrepEnv['queues'];
  const table = 'btp-test-runs';
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S' as const,
      })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  Object.assign(process.env, {
    BTP_RUNS_TABLE: table,
    BTP_DATASETS_BUCKET: buckets.datasets,
    BTP_ARTIFACTS_BUCKET: buckets.artifacts,
    BTP_TRANSFORM_QUEUE_URL: urls.transform,
    BTP_SPLIT_QUEUE_URL: urls.split,
    BTP_SUBMIT_QUEUE_URL: urls.submit,
    BTP_DLQ_URL: urls.dlq,
  });

  return {
    s3,
    sqs,
    runs: new DynamoRunStore(makeDocumentClient(ddb), table),
    buckets,
    queues: urls,
    put: async (key, body) => {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      const out = await s3.send(new PutObjectCommand({ Bucket: buckets.datasets, Key: key, Body: buf }));
      return { eTag: (out.ETag ?? '').replace(/"/g, ''), size: buf.length };
    },
    text: async (bucket, key) =>
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8'),
    drain: async (queueUrl) => {
      const out: Array<{ body: string; receiveCount: number }> = [];
      for (;;) {
        const got = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (!got.Messages?.length) return out;
        for (const m of got.Messages) {
          out.push({ body: m.Body!, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) });
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
    },
    stop: async () => {
      s3.destroy();
      sqs.destroy();
      ddb.destroy();
      await Promise.all([s3e.close(), sqse.close(), ddbe.close()]);
      process.env = saved;
    },
  };
}

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(body: string, opts: { queue?: string; receiveCount?: number } = {}): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:000000000000:${opts.queue ?? 'queue'}`,
    awsRegion: REGION,
  };
}

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

export const lambdaContext = (name: string): Context =>
  ({
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 300_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

/** The notification S3 sends to SQS for an upload: keys URL-encoded, spaces as '+'. */
/**
 * The notification S3 sends for an upload, made by the local stack's writer of S3's shape
 * (local/stack/s3-notifications.ts).
 */
export function s3Notification(bucket: string, key: string, size: number, eTag: string): string {
  const event = {
    eventName: 'ObjectCreated:Put',
    eventTime: new Date().toISOString(),
    s3: { bucket: { name: bucket }, object: { key, size, eTag, sequencer: '0' } },
  };
  return JSON.stringify(toS3Notification(event, 'datasets', REGION));
}

export type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
