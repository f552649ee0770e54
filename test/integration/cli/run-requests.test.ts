import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, type Stack } from '../../../local/stack';
import { findRunBySource } from '../../../local/cli/follow';
import { parseMessage } from '../../../shared/messages/envelope';
import { RunRejected, RunStatusChanged } from '../../../shared/messages/notifications';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';

/**
 * Another team's `run.requested`, through the ingest function run from its queue: the request's ids stay with the run
 * it starts, and a request that cannot start one is answered (run.rejected) and kept in the dead-letter queue.
 */
describe('run requests from other teams through the local stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ functions: ['ingest'], waitTimeSeconds: 1, retryDelaySeconds: 1 });
  }, 120_000);
  afterAll(() => stack?.stop());

  const request = (runId: string, key: string) =>
    JSON.stringify({
      type: 'run.requested',
      version: 1,
      runId,
      correlationId: `${runId}-corr`,
      sentAt: new Date().toISOString(),
      payload: { source: { bucket: stack.bucketName('DatasetsBucket'), key } },
    });

  /** Receives from a queue until `match` finds a message, or 30 s pass. */
  async function receive(queueUrl: string, match: (m: Message) => boolean): Promise<Message | undefined> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      const found = out.Messages?.find(match);
      if (found) return found;
    }
    return undefined;
  }

  it('a request naming a missing object gets run.rejected and a dead-letter entry with the reason', async () => {
    // when another team requests a run on an object that does not exist
    const body = request('team-a-42', 'datasets/missing.jsonl');
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl('IngestQueue'), MessageBody: body }),
    );

    // then it is answered on the notifications topic, under the request's own ids
    const notifications = stack.topicSubscriberQueueUrl('RunNotificationsTopic');
    const rejected = await receive(notifications, (m) => JSON.parse(m.Body!).type === 'run.rejected');
    expect(rejected).toBeDefined();
    const message = parseMessage(RunRejected, rejected!.Body!);
    expect(message).toMatchObject({
      runId: 'team-a-42',
      correlationId: 'team-a-42-corr',
      payload: {
        reason: expect.stringMatching(/datasets\/missing\.jsonl does not exist/),
        request: { type: 'run.requested', runId: 'team-a-42', correlationId: 'team-a-42-corr' },
      },
    });
    expect(rejected!.MessageAttributes?.requestCorrelationId?.StringValue).toBe('team-a-42-corr');

    // and the request is in the ingest dead-letter queue with the reason
    const dead = await receive(stack.queueUrl('IngestDLQ'), (m) => m.Body === body);
    expect(dead?.MessageAttributes?.['btp-error']?.StringValue).toMatch(/rejected: .*missing\.jsonl does not exist/);
  }, 90_000);

  it("a run a request starts keeps the request's runId and correlationId: record, first event, notifications", async () => {
    // given a dataset outside datasets/ (an upload there would start a run of its own)
    const bucket = stack.bucketName('DatasetsBucket');
    const key = 'inputs/requested.jsonl';
    const line = (i: number) =>
      JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${i}`, category: 'qa' });
    const data = Array.from({ length: 30 }, (_, i) => line(i)).join('\n') + '\n';
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));

    // when another team requests a run on it
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl('IngestQueue'), MessageBody: request('team-b-7', key) }),
    );

    // then the run keeps the request's ids
    const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
    let run = await findRunBySource(db, stack.tableName('RunsTable'), bucket, key);
    for (let i = 0; !run && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = await findRunBySource(db, stack.tableName('RunsTable'), bucket, key);
    }
    expect(run?.request).toEqual({ runId: 'team-b-7', correlationId: 'team-b-7-corr' });
    const events = await new DynamoRunStore(db, stack.tableName('RunsTable')).listEvents(run!.runId);
    expect(events[0]).toMatchObject({
      type: 'run.requested',
      detail: { request: { runId: 'team-b-7', correlationId: 'team-b-7-corr' } },
    });

    // and its notifications carry them as attributes a subscription can filter on
    const notified = await receive(stack.topicSubscriberQueueUrl('RunNotificationsTopic'), (m) => {
      const body = JSON.parse(m.Body!) as { type: string; runId: string };
      return body.type === 'run.status.changed' && body.runId === run!.runId;
    });
    expect(() => parseMessage(RunStatusChanged, notified!.Body!)).not.toThrow();
    expect(notified!.MessageAttributes?.requestRunId?.StringValue).toBe('team-b-7');
    expect(notified!.MessageAttributes?.requestCorrelationId?.StringValue).toBe('team-b-7-corr');
  }, 90_000);
});
