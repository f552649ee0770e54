import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutObjectCommand as S3Put } from '@aws-sdk/client-s3';
import { startStack, type Stack } from '../../../local/stack';
import { encodeS3EventKey } from '../../../local/stack/s3-notifications';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ functions: 'none' });
}, 60000);
afterAll(() => stack?.stop());

async function receiveAll(queueUrl: string, want: number) {
  const bodies: unknown[] = [];
  for (let i = 0; i < 20 && bodies.length < want; i++) {
    const out = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(out.Messages ?? []).map((m) => JSON.parse(m.Body!)));
  }
  return bodies;
}

describe('S3 event notifications reach the ingest queue as S3 sends them', () => {
  it('sends the s3:TestEvent on setup and a notification, URL-encoded, for a key with spaces and Japanese', async () => {
    const bucket = stack.bucketName('DatasetsBucket');
    const key = 'datasets/日本語 データ (1).jsonl';
    await stack.clients.s3.send(
      new S3Put({ Bucket: bucket, Key: key, Body: '{"instruction":"a","input":"","output":"b"}\n' }),
    );
    await stack.clients.s3.send(new S3Put({ Bucket: bucket, Key: 'elsewhere/ignored.jsonl', Body: 'x' }));
    const bodies = (await receiveAll(stack.queueUrl('IngestQueue'), 2)) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(bodies).toHaveLength(2);
    const test = bodies.find((b) => b.Event === 's3:TestEvent');
    expect(test).toMatchObject({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: bucket });
    const note = bodies.find((b) => b.Records)!;
    const rec = note.Records[0];
    expect(rec).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` } },
    });
    expect(rec.s3.object.key).toBe('datasets/%E6%97%A5%E6%9C%AC%E8%AA%9E+%E3%83%87%E3%83%BC%E3%82%BF+%281%29.jsonl');
    expect(decodeURIComponent(rec.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(rec.s3.object.size).toBe(44);
    expect(rec.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof rec.s3.object.sequencer).toBe('string');
    expect(typeof rec.eventTime).toBe('string');
  });
});

describe('encodeS3EventKey', () => {
  it.each([
    ['datasets/red flower.jpg', 'datasets/red+flower.jpg'],
    ['datasets/a+b.jsonl', 'datasets/a%2Bb.jsonl'],
    ['datasets/team/x.jsonl', 'datasets/team/x.jsonl'],
    ['datasets/ドリー.jsonl', 'datasets/%E3%83%89%E3%83%AA%E3%83%BC.jsonl'],
  ])('%s -> %s', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    expect(decodeURIComponent(encoded.replace(/\+/g, ' '))).toBe(key);
  });
});

describe('SNS topics of serverless.yml', () => {
  it('exist locally with a subscribed queue that receives what is published', async () => {
    const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns');
    const sns = new SNSClient({
      endpoint: stack.endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const topicArn = stack.functionEnv('ingest').BTP_NOTIFICATIONS_TOPIC_ARN!;
    expect(topicArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:bedrock-tuning-pipeline-local-run-notifications$/);
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: '{"hello":1}' }));
    const bodies = await receiveAll(stack.topicSubscriberQueueUrl('RunNotificationsTopic'), 1);
    expect(bodies).toEqual([{ hello: 1 }]);
    sns.destroy();
  });
});
