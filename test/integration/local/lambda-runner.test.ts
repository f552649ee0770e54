import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSqs, type SqsEmulator } from '../../../local/emulators/sqs';
import { startEventSourceMapping, startFunction, type FunctionRuntime } from '../../../local/stack/lambda-runner';

// The event source mapping is tested with an in-process function so the test can see every event it receives;
// the worker-thread runtime is exercised end to end by the stack tests.
const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let sqsEmu: SqsEmulator;
let sqs: SQSClient;

beforeAll(async () => {
  sqsEmu = await startSqs();
  sqs = new SQSClient({ endpoint: sqsEmu.endpoint, region: 'us-east-1', credentials: creds });
});
afterAll(async () => {
  sqs.destroy();
  await sqsEmu.close();
});

let queueCounter = 0;
async function makeQueue(maxReceiveCount = 3) {
  const n = ++queueCounter;
  const dlqName = `runner-dlq-${n}`;
  const name = `runner-q-${n}`;
  await sqs.send(new CreateQueueCommand({ QueueName: dlqName }));
  await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqsEmu.queueArn(dlqName), maxReceiveCount }),
      },
    }),
  );
  return { url: sqsEmu.queueUrl(name), arn: sqsEmu.queueArn(name), dlqUrl: sqsEmu.queueUrl(dlqName) };
}

function recordingFunction(decide: (event: SQSEvent) => unknown | Promise<unknown>) {
  const events: SQSEvent[] = [];
  const fn: FunctionRuntime = {
    invoke: async (event) => {
      events.push(event as SQSEvent);
      return decide(event as SQSEvent);
    },
    close: async () => undefined,
  };
  return { fn, events };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

const mapping = (
  q: { url: string; arn: string },
  fn: FunctionRuntime,
  extra: Partial<Parameters<typeof startEventSourceMapping>[0]> = {},
) =>
  startEventSourceMapping({
    sqs,
    fn,
    functionName: 'test',
    queueUrl: q.url,
    queueArn: q.arn,
    region: 'us-east-1',
    batchSize: 10,
    batchingWindowSeconds: 0,
    maximumConcurrency: 2,
    retryDelaySeconds: 0,
    waitTimeSeconds: 1,
    ...extra,
  });

describe('the local event source mapping behaves as Lambda with SQS', () => {
  it('builds the event Lambda builds', async () => {
    const q = await makeQueue();
    const { fn, events } = recordingFunction(() => ({ batchItemFailures: [] }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: q.url,
        MessageBody: '{"hello":"世界"}',
        MessageAttributes: { type: { DataType: 'String', StringValue: 'run.requested' } },
      }),
    );
    const m = mapping(q, fn);
    await until(() => events.length === 1);
    await m.stop();
    const record = events[0]!.Records[0]!;
    expect(Object.keys(record).sort()).toEqual(
      [
        'attributes',
        'awsRegion',
        'body',
        'eventSource',
        'eventSourceARN',
        'md5OfBody',
        'md5OfMessageAttributes',
        'messageAttributes',
        'messageId',
        'receiptHandle',
      ].sort(),
    );
    expect(record.body).toBe('{"hello":"世界"}');
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toBe(q.arn);
    expect(record.awsRegion).toBe('us-east-1');
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(record.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d+$/);
    expect(record.attributes.SenderId).toBeTruthy();
    expect(record.messageAttributes.type).toEqual({
      stringValue: 'run.requested',
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    });
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
  });

  it('redelivers only the record reported in batchItemFailures', async () => {
    const q = await makeQueue();
    const { fn, events } = recordingFunction((event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })),
    }));
    for (const body of ['good-1', 'bad', 'good-2'])
      await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: body }));
    const m = mapping(q, fn, { batchingWindowSeconds: 1 });
    await until(() => events.flatMap((e) => e.Records).filter((r) => r.body === 'bad').length >= 2);
    await m.stop();
    const seen = events.flatMap((e) => e.Records);
    expect(seen.filter((r) => r.body === 'good-1')).toHaveLength(1);
    expect(seen.filter((r) => r.body === 'good-2')).toHaveLength(1);
    const bad = seen.filter((r) => r.body === 'bad');
    expect(bad[1]!.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('treats a thrown error as the whole batch failing', async () => {
    const q = await makeQueue();
    let calls = 0;
    const { fn, events } = recordingFunction(() => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return {};
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'a' }));
    const m = mapping(q, fn);
    await until(() => events.length >= 2);
    await m.stop();
    expect(events[1]!.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('moves a record that fails maxReceiveCount times to the dead-letter queue', async () => {
    const q = await makeQueue(3);
    const { fn, events } = recordingFunction((event) => ({
      batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'poison' }));
    const m = mapping(q, fn);
    let dlqBody: string | undefined;
    await until(async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, WaitTimeSeconds: 0 }));
      dlqBody = out.Messages?.[0]?.Body;
      return dlqBody !== undefined;
    });
    await m.stop();
    expect(dlqBody).toBe('poison');
    expect(events.flatMap((e) => e.Records).filter((r) => r.body === 'poison')).toHaveLength(3);
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('runs at most maximumConcurrency invocations at once', async () => {
    const q = await makeQueue();
    let running = 0;
    let peak = 0;
    const { fn, events } = recordingFunction(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 150));
      running--;
      return {};
    });
    for (let i = 0; i < 8; i++) await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: `m${i}` }));
    const m = mapping(q, fn, { batchSize: 1, maximumConcurrency: 2 });
    await until(() => events.length === 8);
    await m.stop();
    expect(peak).toBe(2);
  });
});

describe("a function's execution environment", () => {
  it('is reset when an invocation times out: the handler writes nothing after, and the next one runs fresh', async () => {
    // given a handler that counts its invocations in module state and, after a pause it is told, writes a file
    const dir = mkdtempSync(path.join(tmpdir(), 'btp-runner-'));
    const bundlePath = path.join(dir, 'handler.js');
    writeFileSync(
      bundlePath,
      `let invocations = 0;
       exports.handler = async (event) => {
         invocations++;
         await new Promise((r) => setTimeout(r, event.pauseMs));
         require('node:fs').writeFileSync(event.file, 'written');
         return { invocations };
       };`,
    );
    const fn = startFunction({
      key: 'slow',
      name: 'slow',
      bundlePath,
      exportName: 'handler',
      environment: {},
      timeoutSeconds: 1,
      memoryMb: 128,
      region: 'us-east-1',
      accountId: '000000000000',
    });
    try {
      // when an invocation runs past its timeout
      const late = path.join(dir, 'late');
      await expect(fn.invoke({ pauseMs: 1500, file: late }, 300)).rejects.toThrow(/Task timed out after 0.30 seconds/);
      // then the handler never gets to write, and the next invocation runs in a fresh environment
      const next = await fn.invoke({ pauseMs: 0, file: path.join(dir, 'next') });
      await new Promise((r) => setTimeout(r, 1500));
      expect(existsSync(late)).toBe(false);
      expect(next).toEqual({ invocations: 1 });
    } finally {
      await fn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
