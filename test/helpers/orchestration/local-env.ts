import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  startBedrockEmulator,
  type BedrockEmulator,
  type BedrockEmulatorOptions,
  type ModelCustomizationJobStateChange,
} from '../../../local/bedrock';
import { startDynamo, type DynamoEmulator } from '../../../local/emulators/dynamodb';
import { startS3, type S3Emulator } from '../../../local/emulators/s3';
import { startSqs, type SqsEmulator } from '../../../local/emulators/sqs';
import { makeDocumentClient } from '../../../shared/aws/clients';
import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { buildMessage } from '../../../shared/messages/envelope';
import { DatasetPrepared } from '../../../shared/messages/pipeline';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { stageKeys } from '../../../shared/runs/keys';
import { preparedSets } from '../prep/prepared-sets';
import { preparedStage } from './fakes';

/**
 * The embedded stack for the orchestration's integration tests, in one place so it can later be swapped for the
 * lead's `startStack` (local/stack.ts): S3, SQS and DynamoDB emulators, the Bedrock emulator on a fast clock whose
 * job events go to the monitor queue (as the EventBridge rule does), the queues and the runs table as serverless.yml
 * declares them, and the environment the handlers read.
 */
export const BUCKET = 'btp-artifacts';
export const TABLE = 'btp-runs';
const QUEUES = ['submit', 'monitor', 'provision', 'evaluate', 'dlq'] as const;
type QueueName = (typeof QUEUES)[number];

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LocalEnv {
  s3: S3Client;
  sqs: SQSClient;
  runs: DynamoRunStore;
  bedrock: BedrockEmulator;
  queueUrl: Record<QueueName, string>;
  /** Bedrock's job events as the emulator sent them; set `dropEvents` to lose them, as best-effort delivery may. */
  events: ModelCustomizationJobStateChange[];
  options: { dropEvents: boolean };
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalEnv(
  opts: {
    bedrock?: Partial<Omit<BedrockEmulatorOptions, 's3'>>;
    env?: Record<string, string>;
    /** Plays Bedrock's model lifecycle as of this day, in the emulator and in the steps' preflight (StackOptions). */
    catalogDate?: string;
  } = {},
): Promise<LocalEnv> {
  const [s3e, sqse, dynamo]: [S3Emulator, SqsEmulator, DynamoEmulator] = await Promise.all([
    startS3(),
    startSqs(),
    startDynamo(),
  ]);
  const previous = { ...process.env };
  const base: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ENDPOINT_URL_S3: s3e.endpoint,
    AWS_ENDPOINT_URL_SQS: sqse.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  Object.assign(process.env, base);
  const s3 = new S3Client({ forcePathStyle: true });
  const sqs = new SQSClient({});
  await s3e.createBucket(BUCKET);
  const queueUrl = {} as Record<QueueName, string>;
  for (const q of QUEUES) {
    // A short visibility timeout, so a record a handler failed comes back within the test.
    await sqs.send(new CreateQueueCommand({ QueueName: `btp-${q}`, Attributes: { VisibilityTimeout: '2' } }));
    queueUrl[q] = sqse.queueUrl(`btp-${q}`);
  }
  const ddb = new DynamoDBClient({});
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((n) => ({
        AttributeName: n,
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
  const events: ModelCustomizationJobStateChange[] = [];
  const options = { dropEvents: false };
  const bedrock = await startBedrockEmulator({
    s3,
    simulatedHoursPerSecond: 3600,
    ...(opts.catalogDate ? { catalogDate: opts.catalogDate } : {}),
    onEvent: async (event) => {
      events.push(event);
      if (!options.dropEvents)
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl.monitor, MessageBody: JSON.stringify(event) }));
    },
    ...opts.bedrock,
  });
  const env: Record<string, string> = {
    ...base,
    AWS_ENDPOINT_URL_BEDROCK: bedrock.endpoint,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
    BTP_RUNS_TABLE: TABLE,
    BTP_ARTIFACTS_BUCKET: BUCKET,
    BTP_SUBMIT_QUEUE_URL: queueUrl.submit,
    BTP_MONITOR_QUEUE_URL: queueUrl.monitor,
    BTP_PROVISION_QUEUE_URL: queueUrl.provision,
    BTP_EVALUATE_QUEUE_URL: queueUrl.evaluate,
    BTP_DLQ_URL: queueUrl.dlq,
    BTP_BEDROCK_ROLE_ARN: 'arn:aws:iam::000000000000:role/btp-bedrock',
    // The emulator runs a simulated hour in a second: poll every second.
    BTP_POLL_SECONDS: '1',
    BTP_MAX_POLL_SECONDS: '2',
    BTP_THROUGHPUT_POLL_SECONDS: '1',
    BTP_QUEUED_RETRY_SECONDS: '1',
    BTP_MAX_QUEUED_RETRY_SECONDS: '4',
    BTP_THROTTLE_RETRY_SECONDS: '1',
    BTP_MAX_RETRY_SECONDS: '4',
    BTP_STALE_AFTER_SECONDS: '60',
    BTP_TIME_SCALE: '3600',
    BTP_MIN_TTL_SECONDS: '10',
    ...(opts.catalogDate ? { BTP_CATALOG_DATE: opts.catalogDate } : {}),
    ...opts.env,
  };
  Object.assign(process.env, env);
  return {
    s3,
    sqs,
    runs: new DynamoRunStore(makeDocumentClient(ddb), TABLE),
    bedrock,
    queueUrl,
    events,
    options,
    env,
    close: async () => {
      await bedrock.close();
      s3.destroy();
      sqs.destroy();
      ddb.destroy();
      await Promise.all([s3e.close(), sqse.close(), dynamo.close()]);
      process.env = previous;
    },
  };
}

/** A Lambda-shaped SQS record for a message received from the emulator (or built for a body). */
export function sqsRecord(body: string, queueArn: string, message?: Message): SQSRecord {
  const messageId = message?.MessageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: message?.ReceiptHandle ?? `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: message?.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message?.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message?.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { dataType: v.DataType ?? 'String', stringValue: v.StringValue },
      ]),
    ),
    md5OfBody: message?.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

export const context = (name: string) =>
  ({
    functionName: name,
    awsRequestId: randomUUID(),
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

/**
 * Drives messages from the queues to the handlers as Lambda's SQS event source mapping would: receive, invoke with a
 * batch, delete the records the handler did not report as failed. Stops when `until` holds or at the timeout.
 */
export async function drive(
  env: LocalEnv,
  handlers: Partial<Record<'submit' | 'monitor' | 'provision' | 'evaluate', Handler>>,
  until: () => Promise<boolean>,
  opts: { timeoutMs?: number; beforeInvoke?: (queue: string, body: string) => 'deliver' | 'drop' | 'duplicate' } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (await until()) return;
    let received = 0;
    for (const [queue, handler] of Object.entries(handlers) as Array<[QueueName, Handler]>) {
      const out = await env.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: env.queueUrl[queue],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = out.Messages ?? [];
      received += messages.length;
      if (messages.length === 0) continue;
      const records: SQSRecord[] = [];
      const duplicates: SQSRecord[] = [];
      for (const m of messages) {
        const verdict = opts.beforeInvoke?.(queue, m.Body ?? '') ?? 'deliver';
        if (verdict === 'drop') {
          await env.sqs.send(
            new DeleteMessageCommand({ QueueUrl: env.queueUrl[queue], ReceiptHandle: m.ReceiptHandle! }),
          );
          continue;
        }
        const record = sqsRecord(m.Body ?? '', `arn:aws:sqs:us-east-1:000000000000:btp-${queue}`, m);
        records.push(record);
        // The copy arrives in a second invocation, as a redelivery does (at-least-once delivery).
        if (verdict === 'duplicate') duplicates.push({ ...record, messageId: `${record.messageId}-dup` });
      }
      if (records.length === 0) continue;
      const result = await handler({ Records: records }, context(queue));
      if (duplicates.length) await handler({ Records: duplicates }, context(queue));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of messages) {
        if (!failed.has(m.MessageId!))
          await env.sqs
            .send(new DeleteMessageCommand({ QueueUrl: env.queueUrl[queue], ReceiptHandle: m.ReceiptHandle! }))
            .catch(() => undefined);
      }
    }
    if (received === 0) await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('drive: timed out before the condition held');
}

/**
 * Puts a run as data preparation leaves it (status `submitting`, counts set) and its prepared files, and returns the
 * dataset.prepared message body. Without `test` records the run has nothing to evaluate, so it succeeds once its
 * throughput is in service.
 */
export async function givenPreparedRun(
  env: LocalEnv,
  runId: string,
  config: RunConfigInput,
  data: { train: unknown[]; validation?: unknown[]; test?: unknown[] },
): Promise<string> {
  for (const o of preparedSets(runId, resolveRunConfig(config), data)) {
    await env.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: o.key, Body: o.body, ContentLength: Buffer.byteLength(o.body) }),
    );
  }
  const at = new Date().toISOString();
  const run: Run = {
    runId,
    status: 'submitting',
    version: 1,
    createdAt: at,
    updatedAt: at,
    source: { bucket: 'datasets', key: `datasets/${runId}.jsonl` },
    config: resolveRunConfig(config),
    artifactsPrefix: `s3://${BUCKET}/runs/${runId}/`,
    stages: [
      preparedStage(
        runId,
        {
          input: data.train.length,
          kept: data.train.length,
          filtered: 0,
          rejected: 0,
          byReason: {},
          train: data.train.length,
          validation: data.validation?.length ?? 0,
          test: data.test?.length ?? 0,
        },
        at,
      ),
    ],
  };
  await env.runs.create(run, { type: 'run.created' });
  return JSON.stringify(buildMessage(DatasetPrepared, runId, { manifestKey: stageKeys(runId, 0).manifest, stage: 0 }));
}

export async function send(env: LocalEnv, queue: QueueName, body: string, delaySeconds?: number): Promise<void> {
  await env.sqs.send(
    new SendMessageCommand({ QueueUrl: env.queueUrl[queue], MessageBody: body, DelaySeconds: delaySeconds }),
  );
}

/** Small prompt/completion records from dolly-15k-ja's shape. */
export const records = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    prompt: `質問${i + offset}: 日本で一番高い山は？`,
    completion: `答え${i + offset}: 富士山です。`,
  }));
