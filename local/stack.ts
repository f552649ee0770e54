import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { startS3, type S3Emulator } from './emulators/s3';
import { startSqs, type SqsEmulator } from './emulators/sqs';
import { startDynamo } from './emulators/dynamodb';
import { loadServerlessConfig } from './stack/serverless-config';
import { buildTopology, type Topology } from './stack/topology';
import { matchingNotifications, s3TestEvent, toS3Notification } from './stack/s3-notifications';
import { bundleFunctions } from './stack/bundle';
import {
  startEventSourceMapping,
  startFunction,
  type EventSourceMapping,
  type FaultHook,
  type FunctionRuntime,
} from './stack/lambda-runner';
import { matchesEventPattern } from './stack/event-pattern';
import { startBedrockEmulator, type BedrockEmulator, type FaultInjector } from './bedrock';

export interface StackOptions {
  /** Keep emulator state here across restarts; a temporary folder otherwise. */
  dataDir?: string;
  /** Which functions to run from their queues: all of them (default), some, or none (emulators and resources only). */
  functions?: 'all' | 'none' | string[];
  /** Failed records come back after this many seconds instead of the queue's visibility timeout (a fast clock). */
  retryDelaySeconds?: number;
  /** Long-poll wait of the event source mappings (Lambda uses 20 s; tests use less to stop faster). */
  waitTimeSeconds?: number;
  /**
   * Run scheduled functions (`schedule: rate(...)`) this often. By default their rate runs on the emulator's fast
   * clock, as every time-based setting of the local stage does, but no more often than every 10 s.
   */
  scheduleEverySeconds?: number;
  /**
   * The Bedrock emulator's clock: simulated seconds per real second (default 3600, an hour a second). The functions'
   * BTP_TIME_SCALE follows it, so throughputs' times to live and the overdue check run on the same clock.
   */
  simulatedHoursPerSecond?: number;
  /** Set on every function's environment over serverless.yml's and the stack's own (a bench's settings, endpoints). */
  environment?: Record<string, string>;
  /**
   * The day Bedrock's model lifecycle is played at (`YYYY-MM-DD`); absent: today. Sets the Bedrock emulator's
   * `catalogDate` and `BTP_CATALOG_DATE` for the functions and clients, so preflight reads the catalog on the same day
   * (TITAN_RECIPE_DATE runs the 2024 Titan recipe).
   */
  catalogDate?: string;
  /** Also set the stack's client environment (endpoints, region, credentials) on this process. */
  applyEnv?: boolean;
  /** How many times each SQS batch is delivered to its function (the reliability suite; default once). */
  deliveries?: () => number;
  /** Injected crashes inside the functions (the reliability suite): see FaultHook in local/stack/lambda-runner.ts. */
  faults?: FaultHook;
  onInvoke?: (info: { functionName: string; records: number; failed: number; error?: Error }) => void;
  log?: (line: string) => void;
}

export interface Stack {
  topology: Topology;
  endpoints: { s3: string; sqs: string; dynamodb: string; bedrock: string };
  /** What any AWS client needs to talk to this stack: endpoints, region, credentials. */
  clientEnv: Record<string, string>;
  /** A function's full environment, as its Lambda would have it. */
  functionEnv(key: string): Record<string, string>;
  queueUrl(logicalId: string): string;
  /** A queue of the stack subscribed (raw delivery) to an SNS topic of serverless.yml, to watch what it publishes. */
  topicSubscriberQueueUrl(topicLogicalId: string): string;
  bucketName(logicalId: string): string;
  tableName(logicalId?: string): string;
  clients: { s3: S3Client; sqs: SQSClient; dynamodb: DynamoDBClient };
  /** The Bedrock emulator's fault injection (throttling, failing a job, internal errors, quotas). */
  bedrock: { endpoint: string; faults: FaultInjector };
  /** Invokes a function directly with an event (not through its queue). */
  invoke(functionKey: string, event: unknown): Promise<unknown>;
  /** True when no function is running and every mapping's last poll found its queue empty. */
  idle(): boolean;
  stop(): Promise<void>;
}

/** The shortest interval of a scheduled function on the fast clock: a sweep every 0.25 s would only add load. */
const MIN_SCHEDULE_SECONDS = 10;

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }; // s3rver accepts only these

/**
 * The embedded local stack: S3, SQS and SNS, DynamoDB and the Bedrock emulator on 127.0.0.1, the resources of
 * serverless.yml created in them, S3 -> SQS notifications, and every function run from its queue as Lambda's SQS
 * event source mapping would run it. The handlers get their environment and endpoints, and nothing else.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const tmp = opts.dataDir ? undefined : mkdtempSync(path.join(tmpdir(), 'btp-stack-'));
  const dataDir = opts.dataDir ?? tmp!;
  mkdirSync(dataDir, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const config = await loadServerlessConfig('local');
    const [s3, sqsEmu, dynamo] = await Promise.all([
      startS3({ dataDir: opts.dataDir }),
      startSqs({ dataDir: opts.dataDir }),
      startDynamo({ dataDir: opts.dataDir }),
    ]);
    closers.push(
      () => s3.close(),
      () => sqsEmu.close(),
      () => dynamo.close(),
    );
    const topology = buildTopology(config, { sqsEndpoint: sqsEmu.endpoint });
    const region = topology.region;

    const clientEnv: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsEmu.endpoint,
      AWS_ENDPOINT_URL_SNS: sqsEmu.endpoint, // fauxqs serves SNS on the same port
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      // s3rver stores streamed checksum framing as content; these make the SDK send plain bodies.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    };
    const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
    const clients = {
      s3: new S3Client({
        ...clientConfig,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
      sqs: new SQSClient({ ...clientConfig, endpoint: sqsEmu.endpoint }),
      dynamodb: new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint }),
    };

    // Keep-alive sockets to the emulators would hold their close() for seconds.
    closers.push(async () => {
      clients.s3.destroy();
      clients.sqs.destroy();
      clients.dynamodb.destroy();
    });
    await createResources(topology, clients, sqsEmu, s3);
    const notificationQueues = await subscribeLocalQueues(topology, clientConfig, sqsEmu, clients.sqs);
    wireS3Notifications(topology, s3, clients.sqs, sqsEmu, log);

    const bedrock = await startBedrock(topology, clients, sqsEmu, opts, log);
    closers.push(() => bedrock.close());
    clientEnv.AWS_ENDPOINT_URL_BEDROCK = bedrock.endpoint;
    clientEnv.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.endpoint;
    if (opts.catalogDate) clientEnv.BTP_CATALOG_DATE = opts.catalogDate;
    if (opts.applyEnv) Object.assign(process.env, clientEnv);

    const functionEnv = (key: string): Record<string, string> => {
      const fn = topology.functions[key];
      if (!fn) throw new Error(`no function ${key} in serverless.yml`);
      // Lambda sets these for every function; the handler's own come from serverless.yml.
      return {
        PATH: process.env.PATH ?? '',
        TZ: 'UTC',
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        // No CloudWatch here to read the EMF lines; POWERTOOLS_METRICS_DISABLED=false prints them with the logs.
        POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
        ...fn.environment,
        ...(opts.simulatedHoursPerSecond ? { BTP_TIME_SCALE: String(opts.simulatedHoursPerSecond) } : {}),
        ...clientEnv,
        ...opts.environment,
        NODE_OPTIONS: '',
      };
    };

    const wanted =
      opts.functions === 'none'
        ? []
        : opts.functions === undefined || opts.functions === 'all'
          ? Object.keys(topology.functions)
          : opts.functions;
    const runtimes: Record<string, FunctionRuntime> = {};
    const mappings: EventSourceMapping[] = [];
    if (wanted.length > 0) {
      const selected = Object.fromEntries(wanted.map((k) => [k, topology.functions[k]!]));
      const bundles = await bundleFunctions(selected, path.join(dataDir, 'build'), config);
      for (const key of wanted) {
        const fn = topology.functions[key]!;
        // Invocations of a function run in parallel in separate environments, up to its concurrency or the cores; as
        // in Lambda, an environment runs one invocation at a time, so the mapping invokes no more at once than there
        // are environments (the rest wait in the queue, as behind a reserved concurrency).
        const environments = Math.min(fn.sqs?.maximumConcurrency ?? 1, availableParallelism());
        const runtime = startFunction({
          key,
          name: fn.name,
          bundlePath: bundles[key]!,
          exportName: fn.handlerExport,
          environment: functionEnv(key),
          timeoutSeconds: fn.timeoutSeconds,
          memoryMb: fn.memoryMb,
          region,
          accountId: topology.accountId,
          environments,
          faults: opts.faults,
        });
        runtimes[key] = runtime;
        closers.push(() => runtime.close());
        const timeScale = Number(functionEnv(key).BTP_TIME_SCALE ?? 1) || 1;
        const every =
          opts.scheduleEverySeconds ??
          (fn.scheduleSeconds === undefined
            ? undefined
            : Math.max(MIN_SCHEDULE_SECONDS, fn.scheduleSeconds / timeScale));
        if (fn.scheduleSeconds !== undefined && every !== undefined) {
          // EventBridge Scheduler's event, as a scheduled rule delivers it.
          const timer = setInterval(() => {
            const event = {
              version: '0',
              id: randomUUID(),
              'detail-type': 'Scheduled Event',
              source: 'aws.events',
              account: topology.accountId,
              time: new Date().toISOString(),
              region,
              resources: [`arn:aws:events:${region}:${topology.accountId}:rule/${fn.name}-schedule`],
              detail: {},
            };
            runtime.invoke(event).then(
              () => opts.onInvoke?.({ functionName: key, records: 1, failed: 0 }),
              (error: Error) => opts.onInvoke?.({ functionName: key, records: 1, failed: 1, error }),
            );
          }, every * 1000);
          closers.push(async () => clearInterval(timer));
        }
        if (fn.sqs) {
          const q = topology.queues[fn.sqs.queueLogicalId]!;
          const mapping = startEventSourceMapping({
            sqs: clients.sqs,
            fn: runtime,
            functionName: key,
            queueUrl: sqsEmu.queueUrl(q.name),
            queueArn: sqsEmu.queueArn(q.name, region),
            region,
            batchSize: fn.sqs.batchSize,
            batchingWindowSeconds: fn.sqs.batchingWindowSeconds,
            maximumConcurrency: environments,
            retryDelaySeconds: opts.retryDelaySeconds,
            waitTimeSeconds: opts.waitTimeSeconds,
            deliveries: opts.deliveries,
            onInvoke: opts.onInvoke,
          });
          mappings.push(mapping);
          closers.push(() => mapping.stop());
        }
      }
    }
    log(
      `local stack up: S3 ${s3.endpoint}, SQS ${sqsEmu.endpoint}, DynamoDB ${dynamo.endpoint}, Bedrock ${bedrock.endpoint}`,
    );

    return {
      topology,
      endpoints: { s3: s3.endpoint, sqs: sqsEmu.endpoint, dynamodb: dynamo.endpoint, bedrock: bedrock.endpoint },
      clientEnv,
      functionEnv,
      queueUrl: (logicalId) => {
        const q = topology.queues[logicalId];
        if (!q) throw new Error(`no queue ${logicalId} in serverless.yml`);
        return sqsEmu.queueUrl(q.name);
      },
      topicSubscriberQueueUrl: (topicLogicalId) => {
        const url = notificationQueues[topicLogicalId];
        if (!url) throw new Error(`no SNS topic ${topicLogicalId} in serverless.yml`);
        return url;
      },
      bucketName: (logicalId) => {
        const b = topology.buckets[logicalId];
        if (!b) throw new Error(`no bucket ${logicalId} in serverless.yml`);
        return b.name;
      },
      tableName: (logicalId) => {
        const t = logicalId ? topology.tables[logicalId] : Object.values(topology.tables)[0];
        if (!t) throw new Error(`no table ${logicalId ?? ''} in serverless.yml`);
        return t.name;
      },
      clients,
      bedrock: { endpoint: bedrock.endpoint, faults: bedrock.faults },
      invoke: (key, event) => {
        const rt = runtimes[key];
        if (!rt) throw new Error(`function ${key} is not running in this stack`);
        return rt.invoke(event);
      },
      idle: () => mappings.every((m) => m.idle()),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function createResources(
  topology: Topology,
  clients: { s3: S3Client; sqs: SQSClient; dynamodb: DynamoDBClient },
  sqsEmu: SqsEmulator,
  _s3: S3Emulator,
): Promise<void> {
  // Dead-letter queues first: a redrive policy names its target's ARN.
  const queues = Object.values(topology.queues).sort((a, b) => Number(!!a.redrive) - Number(!!b.redrive));
  for (const q of queues) {
    const attributes: Record<string, string> = { ...q.attributes };
    if (q.redrive) {
      const dlq = topology.queues[q.redrive.deadLetterLogicalId]!;
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: sqsEmu.queueArn(dlq.name, topology.region),
        maxReceiveCount: q.redrive.maxReceiveCount,
      });
    }
    await clients.sqs.send(new CreateQueueCommand({ QueueName: q.name, Attributes: attributes }));
  }
  for (const b of Object.values(topology.buckets)) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: b.name })).catch((err: Error) => {
      if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
    });
    // S3 sends a test event to each queue when notifications are configured on a bucket.
    for (const n of b.notifications) {
      const q = topology.queues[n.queueLogicalId]!;
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: sqsEmu.queueUrl(q.name), MessageBody: JSON.stringify(s3TestEvent(b.name)) }),
      );
    }
  }
  for (const t of Object.values(topology.tables)) {
    try {
      await clients.dynamodb.send(new CreateTableCommand(toCreateTable(t.name, t.properties)));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }
}

/**
 * SNS topics of serverless.yml with their SQS subscriptions (filter policies included), and for each topic one more
 * local queue subscribed with raw delivery, so what the pipeline publishes can be read as a subscribing team would.
 */
async function subscribeLocalQueues(
  topology: Topology,
  clientConfig: { region: string; credentials: typeof LOCAL_CREDENTIALS },
  sqsEmu: SqsEmulator,
  sqs: SQSClient,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (Object.keys(topology.topics).length === 0) return out;
  const sns = new SNSClient({ ...clientConfig, endpoint: sqsEmu.endpoint });
  try {
    for (const topic of Object.values(topology.topics)) {
      const created = await sns.send(new CreateTopicCommand({ Name: topic.name }));
      const queueName = `${topic.name}-local-subscriber`;
      await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
      await sns.send(
        new SubscribeCommand({
          TopicArn: created.TopicArn!,
          Protocol: 'sqs',
          Endpoint: sqsEmu.queueArn(queueName, topology.region),
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      out[topic.logicalId] = sqsEmu.queueUrl(queueName);
    }
    for (const sub of topology.subscriptions) {
      const attributes: Record<string, string> = { RawMessageDelivery: String(sub.raw) };
      if (sub.filterPolicy) attributes.FilterPolicy = JSON.stringify(sub.filterPolicy);
      await sns.send(
        new SubscribeCommand({
          TopicArn: topology.topics[sub.topicLogicalId]!.arn,
          Protocol: 'sqs',
          Endpoint: sqsEmu.queueArn(topology.queues[sub.queueLogicalId]!.name, topology.region),
          Attributes: attributes,
        }),
      );
    }
  } finally {
    sns.destroy();
  }
  return out;
}

/** CloudFormation's table properties as a CreateTable request (PITR and SSE have no local meaning). */
function toCreateTable(name: string, p: Record<string, unknown>): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: (p.BillingMode as 'PAY_PER_REQUEST') ?? 'PAY_PER_REQUEST',
    AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
    LocalSecondaryIndexes: p.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'],
  };
}

function wireS3Notifications(
  topology: Topology,
  s3: S3Emulator,
  sqs: SQSClient,
  sqsEmu: SqsEmulator,
  log: (l: string) => void,
) {
  const byName = new Map(Object.values(topology.buckets).map((b) => [b.name, b]));
  s3.onEvent((event) => {
    for (const record of event.Records) {
      const bucket = byName.get(record.s3.bucket.name);
      if (!bucket) continue;
      for (const n of matchingNotifications(bucket, record.eventName, record.s3.object.key)) {
        const q = topology.queues[n.queueLogicalId]!;
        const body = JSON.stringify(toS3Notification(record, n.id, topology.region));
        sqs
          .send(new SendMessageCommand({ QueueUrl: sqsEmu.queueUrl(q.name), MessageBody: body }))
          .catch((err: Error) => log(`S3 notification for ${record.s3.object.key} was not delivered: ${err.message}`));
      }
    }
  });
}

/**
 * The Bedrock emulator; its job state-change events go where serverless.yml's EventBridge rules send them (the
 * monitor queue), filtered by each rule's pattern.
 */
async function startBedrock(
  topology: Topology,
  clients: { s3: S3Client; sqs: SQSClient },
  sqsEmu: SqsEmulator,
  opts: StackOptions,
  log: (l: string) => void,
): Promise<BedrockEmulator> {
  return startBedrockEmulator({
    s3: clients.s3,
    region: topology.region,
    accountId: topology.accountId,
    simulatedHoursPerSecond: opts.simulatedHoursPerSecond,
    ...(opts.catalogDate ? { catalogDate: opts.catalogDate } : {}),
    onEvent: async (event) => {
      for (const rule of topology.eventRules) {
        if (!matchesEventPattern(rule.pattern, event as unknown as Record<string, unknown>)) continue;
        const q = topology.queues[rule.queueLogicalId]!;
        await clients.sqs
          .send(new SendMessageCommand({ QueueUrl: sqsEmu.queueUrl(q.name), MessageBody: JSON.stringify(event) }))
          .catch((err: Error) => log(`Bedrock event not delivered to ${q.name}: ${err.message}`));
      }
    },
  });
}

/** Writes the client environment as a dotenv file, for `npm run stack` users' AWS CLI, boto3 or SDK. */
export function writeEnvFile(file: string, env: Record<string, string>, extra: Record<string, string> = {}): void {
  const lines = Object.entries({ ...env, ...extra }).map(([k, v]) => `${k}=${v}`);
  writeFileSync(file, lines.join('\n') + '\n');
}
