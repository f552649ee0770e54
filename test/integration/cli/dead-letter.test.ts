import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startStack, type Stack } from '../../../local/stack';
import { btp, type Fakes } from './cli-harness';

/**
 * An invalid message is not retried forever: the ingest function (run from its queue as Lambda would run it)
 * rejects it at once, and it lands in the ingest dead-letter queue with the validation error attached.
 */
describe('an invalid run request through the local stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ functions: ['ingest'], waitTimeSeconds: 1, retryDelaySeconds: 1 });
  }, 120_000);
  afterAll(() => stack?.stop());

  it('lands in the ingest DLQ with its reason at once, and starts no run', async () => {
    // given a run request with no source key
    const body = JSON.stringify({
      type: 'run.requested',
      version: 1,
      runId: 'bad-request-1',
      correlationId: 'c-1',
      sentAt: new Date().toISOString(),
      payload: { source: { bucket: stack.bucketName('DatasetsBucket') } },
    });

    // when another team posts it to the ingest queue
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl('IngestQueue'), MessageBody: body }),
    );

    // then it is in the ingest DLQ, with the validation error naming the field
    const dlq = stack.queueUrl('IngestDLQ');
    let found: { Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> } | undefined;
    const deadline = Date.now() + 30_000;
    while (!found && Date.now() < deadline) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      found = out.Messages?.find((m) => m.Body === body);
    }
    expect(found).toBeDefined();
    const reason = found!.MessageAttributes?.['btp-error']?.StringValue ?? '';
    expect(reason).toContain('payload.source.key');
    expect(found!.MessageAttributes?.['btp-source-queue']?.StringValue).toMatch(/-ingest$/);

    // and it was not retried: nothing of it is left on the ingest queue, and no run was made
    // (the S3 test event the stack sends at start may still be in flight: wait for the queue to settle)
    const onQueue = async () => {
      const a = (
        await stack.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: stack.queueUrl('IngestQueue'),
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes;
      return Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible);
    };
    const settleBy = Date.now() + 10_000;
    while ((await onQueue()) > 0 && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 200));
    expect(await onQueue()).toBe(0);
    const fakes: Fakes = { deleted: [], answers: [] };
    expect((await btp(stack, fakes, 'status', 'bad-request-1')).code).toBe(1);
  }, 60_000);

  it('redrives it once: rejected again at once, it is left in the DLQ, not chased round the loop', async () => {
    // given the invalid request of the test above in the DLQ, and ingest running (it rejects it again at once)
    const fakes: Fakes = { deleted: [], answers: [] };
    const dlq = stack.queueUrl('IngestDLQ');
    // Visible or held (fauxqs counts a message whose visibility timeout ran out as held until the next receive).
    const depth = async () => {
      const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
      const a = (
        await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: [...names] }))
      ).Attributes;
      return names.reduce((n, k) => n + Number(a?.[k] ?? 0), 0);
    };
    const inDlq = async () => {
      const by = Date.now() + 20_000;
      while ((await depth()) < 1 && Date.now() < by) await new Promise((res) => setTimeout(res, 200));
      return depth();
    };
    expect(await inDlq()).toBe(1);
    await new Promise((res) => setTimeout(res, 1100)); // the test above held it for a second
    const r = await btp(stack, fakes, 'redrive', 'ingest', '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^moved 1 message\(s\) from ingest's dead-letter queue back to ingest/);
    expect(r.stdout).toMatch(/run\.requested run bad-request-1\n {6}btp-error: .*payload\.source\.key/);

    // when it is back in the DLQ, a redrive with room for more moves it once more, and only once
    expect(await inDlq()).toBe(1);
    const again = await btp(stack, fakes, 'redrive', 'ingest', '--max', '5', '--yes', '--json');
    expect(again.json()).toMatchObject({ max: 5, moved: 1, invalid: 1 });
  }, 60_000);
});
