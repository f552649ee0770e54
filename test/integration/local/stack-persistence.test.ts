import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startStack } from '../../../local/stack';

describe('the local stack with a data directory', () => {
  it('keeps objects, queued messages and table items across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'btp-persist-'));
    try {
      let stack = await startStack({ dataDir, functions: 'none' });
      const bucket = stack.bucketName('ArtifactsBucket');
      const table = stack.tableName('RunsTable');
      const queue = 'SubmitQueue';
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'runs/x/kept.txt', Body: 'kept' }));
      await stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queueUrl(queue), MessageBody: 'still here' }),
      );
      await stack.clients.dynamodb.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: 'RUN#x' }, sk: { S: 'RUN' }, v: { N: '1' } } }),
      );
      await stack.stop();

      stack = await startStack({ dataDir, functions: 'none' });
      try {
        const obj = await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/x/kept.txt' }));
        expect(await obj.Body!.transformToString()).toBe('kept');
        const msgs = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.queueUrl(queue), WaitTimeSeconds: 1 }),
        );
        expect(msgs.Messages?.[0]?.Body).toBe('still here');
        const item = await stack.clients.dynamodb.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: 'RUN#x' }, sk: { S: 'RUN' } } }),
        );
        expect(item.Item?.v?.N).toBe('1');
      } finally {
        await stack.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
