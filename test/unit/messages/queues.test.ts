import { InvalidMessageError, type Envelope } from '../../../shared/messages/envelope';
import { ChunkRequested, EvaluationRequested, JobPoll, ThroughputExpire } from '../../../shared/messages/pipeline';
import { RunCancel } from '../../../shared/messages/control';
import {
  MAX_MESSAGE_CHARS,
  MESSAGE_QUEUE,
  QUEUES,
  parseQueueItem,
  type QueueName,
} from '../../../shared/messages/queues';
import { refuseUnknownRun } from '../../../shared/lambda/route';
import { buildSend } from '../../../shared/messages/send';
import { queueUrlsFromEnv } from '../../../shared/aws/queues';

const RUN = '01JZ8Q6W5N3V7Q2K4Y8T9R1M0C';

function recorder() {
  const sent: Array<{ queueUrl: string; message: Envelope; delaySeconds?: number }> = [];
  const publish = async (queueUrl: string, message: Envelope, opts?: { delaySeconds?: number }) =>
    void sent.push({ queueUrl, message, ...opts });
  return { sent, publish };
}

describe('one contract per queue', () => {
  it('every pipeline message type travels on exactly one queue', () => {
    const onQueues = Object.values(QUEUES).flatMap((q) => q.messages.map((d) => d.type));
    expect(new Set(onQueues).size).toBe(onQueues.length);
    // the report queue is fed by the notifications topic, so nothing is sent to it directly
    expect(MESSAGE_QUEUE.get('run.status.changed')).toBeUndefined();
    expect(MESSAGE_QUEUE.get(RunCancel.type)).toBe('monitor');
    expect(MESSAGE_QUEUE.get(ThroughputExpire.type)).toBe('provision');
  });

  it.each(Object.keys(QUEUES) as QueueName[])(
    'the %s queue refuses a type it does not carry, saying what it takes',
    async (queue) => {
      const body = JSON.stringify({
        type: 'no.such',
        version: 1,
        runId: RUN,
        correlationId: 'c',
        sentAt: '2025-06-01T09:30:00.000Z',
        payload: {},
      });
      await expect(parseQueueItem(queue, body)).rejects.toThrow(InvalidMessageError);
      await expect(parseQueueItem(queue, body)).rejects.toThrow(
        new RegExp(`^the ${queue} queue takes .+, not a no\\.such message$`),
      );
    },
  );

  it('names what the monitor queue takes, and checks a Bedrock event against its schema', async () => {
    await expect(parseQueueItem('monitor', '{"type":"chunk.requested"}')).rejects.toThrow(
      'the monitor queue takes job.submitted, job.poll, run.cancel or a Bedrock job state-change event, not a chunk.requested message',
    );
    await expect(
      parseQueueItem(
        'monitor',
        JSON.stringify({ source: 'aws.bedrock', 'detail-type': 'Model Customization Job State Change', detail: {} }),
      ),
    ).rejects.toThrow(/^a Bedrock job state-change event on the monitor queue is not valid: .*detail\.jobArn/);
    await expect(parseQueueItem('submit', 'not json')).rejects.toThrow(/message body is not JSON/);
  });
});

describe('what a queue refuses before parsing', () => {
  it('a body longer than any message of the pipeline, whatever it holds', async () => {
    const body = JSON.stringify({
      ...JSON.parse(JSON.stringify({ type: 'run.cancel', version: 1, runId: RUN, correlationId: 'c', payload: {} })),
      sentAt: new Date().toISOString(),
      padding: 'x'.repeat(MAX_MESSAGE_CHARS),
    });
    await expect(parseQueueItem('monitor', body)).rejects.toThrow(InvalidMessageError);
    await expect(parseQueueItem('monitor', body)).rejects.toThrow(/characters long/);
  });
});

describe('control messages about runs that do not exist', () => {
  it('are refused with the run named, so the wrapper dead-letters them', () => {
    const msg = { type: 'run.cancel', runId: 'r-missing' };
    expect(() => refuseUnknownRun(msg, 'unknown-run')).toThrow(InvalidMessageError);
    expect(() => refuseUnknownRun(msg, 'unknown-run')).toThrow(/run\.cancel names the run r-missing/);
    expect(refuseUnknownRun(msg, 'cancelled')).toBe('cancelled');
  });
});

describe('send', () => {
  it("validates once, puts the message on its type's queue, and returns it", async () => {
    const { sent, publish } = recorder();
    const send = buildSend(
      publish,
      { monitor: 'q://monitor', transform: 'q://transform' },
      () => new Date('2025-06-01T09:30:00Z'),
    );
    const msg = await send(
      JobPoll,
      RUN,
      { jobArn: 'arn:job', attempt: 1, poll: 2 },
      { correlationId: 'c-1', delaySeconds: 300 },
    );
    expect(sent).toEqual([{ queueUrl: 'q://monitor', message: msg, delaySeconds: 300 }]);
    expect(msg).toMatchObject({
      type: 'job.poll',
      version: 1,
      runId: RUN,
      correlationId: 'c-1',
      sentAt: '2025-06-01T09:30:00.000Z',
    });
    // a default is applied on the way out (stage 0), so the consumer reads what the schema says
    const chunk = { index: 0, total: 1, format: 'jsonl', compression: 'none' } as const;
    expect(
      (await send(ChunkRequested, RUN, { source: { bucket: 'bkt', key: 'datasets/a.jsonl' }, chunk })).payload.stage,
    ).toBe(0);
  });

  it('refuses an invalid payload, and a message whose queue is not configured, before anything is sent', async () => {
    const { sent, publish } = recorder();
    const send = buildSend(publish, { monitor: 'q://monitor' });
    await expect(send(JobPoll, RUN, { jobArn: '', attempt: 1, poll: 0 })).rejects.toThrow(/jobArn/);
    await expect(send(EvaluationRequested, RUN, { provisionedModelArn: 'arn:pt' })).rejects.toThrow(
      'BTP_EVALUATE_QUEUE_URL is not set: cannot send evaluation.requested to the evaluate queue',
    );
    expect(send.reaches(EvaluationRequested)).toBe(false);
    expect(send.reaches(RunCancel)).toBe(true);
    expect(sent).toEqual([]);
  });

  it('takes the queue URLs from the environment serverless.yml gives every function', () => {
    expect(
      queueUrlsFromEnv({
        BTP_SUBMIT_QUEUE_URL: 'https://sqs/submit',
        BTP_EVALUATE_QUEUE_URL: '',
        BTP_DLQ_URL: 'https://sqs/dlq',
      }),
    ).toEqual({ submit: 'https://sqs/submit' });
  });
});
