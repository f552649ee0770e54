import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startS3 } from '../../../local/emulators/s3';
import { startSqs } from '../../../local/emulators/sqs';
import { startDynamo } from '../../../local/emulators/dynamodb';

const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('embedded emulators speak the real wire protocols to the real SDK clients', () => {
  it('S3: put and get an object with a Japanese key, and notify', async () => {
    const s3 = await startS3();
    try {
      const events: unknown[] = [];
      s3.onEvent((e) => events.push(e));
      const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds, forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
      await client.send(new CreateBucketCommand({ Bucket: 'bucket-one' }));
      await client.send(new PutObjectCommand({ Bucket: 'bucket-one', Key: 'datasets/日本語 file.jsonl', Body: '{"a":1}\n' }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'bucket-one', Key: 'datasets/日本語 file.jsonl' }));
      expect(await got.Body!.transformToString()).toBe('{"a":1}\n');
      expect(events).toHaveLength(1);
    } finally {
      await s3.close();
    }
  });

  it('SQS: send and long-poll receive', async () => {
    const sqs = await startSqs();
    try {
      const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: creds });
      await client.send(new CreateQueueCommand({ QueueName: 'q1' }));
      await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('q1'), MessageBody: 'hello' }));
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl('q1'), WaitTimeSeconds: 1 }));
      expect(got.Messages?.[0]?.Body).toBe('hello');
    } finally {
      await sqs.close();
    }
  });

  it('DynamoDB: create and list a table', async () => {
    const ddb = await startDynamo();
    try {
      const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: creds });
      await client.send(new CreateTableCommand({ TableName: 'table1', BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
      const tables = await client.send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain('table1');
    } finally {
      await ddb.close();
    }
  });
});
