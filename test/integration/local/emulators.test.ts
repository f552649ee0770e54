import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Readable } from 'node:stream';
import { startS3 } from '../../../local/emulators/s3';
import { startSqs } from '../../../local/emulators/sqs';
import { startDynamo } from '../../../local/emulators/dynamodb';

const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const MB = 1024 * 1024;
const s3Client = (endpoint: string) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: creds,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

describe('embedded emulators speak the real wire protocols to the real SDK clients', () => {
  it('S3: put and get an object with a Japanese key, and notify', async () => {
    const s3 = await startS3();
    try {
      const events: unknown[] = [];
      s3.onEvent((e) => events.push(e));
      const client = s3Client(s3.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: 'bucket-one' }));
      await client.send(
        new PutObjectCommand({ Bucket: 'bucket-one', Key: 'datasets/日本語 file.jsonl', Body: '{"a":1}\n' }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'bucket-one', Key: 'datasets/日本語 file.jsonl' }));
      expect(await got.Body!.transformToString()).toBe('{"a":1}\n');
      expect(events).toHaveLength(1);
    } finally {
      await s3.close();
    }
  });

  it("S3: a multipart upload is joined in part order with S3's ETag, refuses a wrong part ETag, and reads back in ranges", async () => {
    const s3 = await startS3();
    try {
      const events: Array<{ Records: Array<{ eventName: string; s3: { object: { key: string; size?: number } } }> }> =
        [];
      s3.onEvent((e) => events.push(e));
      const client = s3Client(s3.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: 'bucket-two' }));
      const parts = [Buffer.alloc(5 * MB, 'a'), Buffer.alloc(5 * MB, 'b'), Buffer.from('tail')];
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: 'bucket-two', Key: 'k/big', ContentType: 'application/x-ndjson' }),
      );
      // Parts sent out of order: the object is joined by part number.
      const etags: string[] = [];
      for (const i of [2, 0, 1]) {
        etags[i] = (
          await client.send(
            new UploadPartCommand({ Bucket: 'bucket-two', Key: 'k/big', UploadId, PartNumber: i + 1, Body: parts[i] }),
          )
        ).ETag!;
      }
      const complete = (tags: string[]) =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'bucket-two',
            Key: 'k/big',
            UploadId,
            MultipartUpload: { Parts: tags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }),
        );
      await expect(complete([etags[0]!, etags[0]!, etags[2]!])).rejects.toMatchObject({ name: 'InvalidPart' });
      const done = await complete(etags);
      const md5 = (b: Buffer) => createHash('md5').update(b).digest();
      const expected = `"${createHash('md5')
        .update(Buffer.concat(parts.map(md5)))
        .digest('hex')}-3"`;
      expect(done.ETag).toBe(expected);
      const head = await client.send(new HeadObjectCommand({ Bucket: 'bucket-two', Key: 'k/big' }));
      expect(head).toMatchObject({ ETag: expected, ContentLength: 10 * MB + 4, ContentType: 'application/x-ndjson' });
      const whole = Buffer.from(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'bucket-two', Key: 'k/big' }))
        ).Body!.transformToByteArray(),
      );
      expect(whole.equals(Buffer.concat(parts))).toBe(true);
      const range = await client.send(
        new GetObjectCommand({ Bucket: 'bucket-two', Key: 'k/big', Range: `bytes=${5 * MB - 2}-${10 * MB + 1}` }),
      );
      expect(Buffer.from(await range.Body!.transformToByteArray()).toString('latin1')).toBe(
        'aa' + 'b'.repeat(5 * MB) + 'ta',
      );
      expect(
        events.map((e) => [e.Records[0]!.eventName, e.Records[0]!.s3.object.key, e.Records[0]!.s3.object.size]),
      ).toEqual([['ObjectCreated:Post', 'k/big', 10 * MB + 4]]);
    } finally {
      await s3.close();
    }
  });

  it("S3: a body received in many pieces is stored whole with S3's ETags (the MD5 of an object, of a part)", async () => {
    const s3 = await startS3();
    try {
      const client = s3Client(s3.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: 'bucket-four' }));
      // About 9 MB sent as a stream of 100 KB pieces: more than the emulator writes at once, in many socket reads.
      const pieces = Array.from({ length: 90 }, (_, i) => Buffer.alloc(100_000, 0x30 + (i % 10)));
      const body = Buffer.concat(pieces);
      const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;
      const put = await client.send(
        new PutObjectCommand({
          Bucket: 'bucket-four',
          Key: 'streamed',
          Body: Readable.from(pieces),
          ContentLength: body.length,
        }),
      );
      expect(put.ETag).toBe(md5(body));
      const got = await client.send(new GetObjectCommand({ Bucket: 'bucket-four', Key: 'streamed' }));
      expect(got.ETag).toBe(md5(body));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'bucket-four', Key: 'parts' }));
      const part = await client.send(
        new UploadPartCommand({ Bucket: 'bucket-four', Key: 'parts', UploadId, PartNumber: 1, Body: body }),
      );
      expect(part.ETag).toBe(md5(body));
    } finally {
      await s3.close();
    }
  });

  it('S3: GETs at once, one read slowly, each get every byte of their object or range; an empty object reads empty', async () => {
    const s3 = await startS3();
    const client = s3Client(s3.endpoint);
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'bucket-five' }));
      // The emulator reads an object into buffers it takes back once the socket has written them: a reader that lags
      // leaves its bytes in the socket while the other GETs read on, and must still get its own bytes.
      const objects = ['a', 'b', 'c'].map((key) => ({ key, body: randomBytes(6 * MB + 123) }));
      for (const { key, body } of objects) {
        await client.send(new PutObjectCommand({ Bucket: 'bucket-five', Key: key, Body: body }));
      }
      await client.send(new PutObjectCommand({ Bucket: 'bucket-five', Key: 'empty', Body: Buffer.alloc(0) }));
      const read = async (key: string, range?: string, slow = false) => {
        const got = await client.send(new GetObjectCommand({ Bucket: 'bucket-five', Key: key, Range: range }));
        const pieces: Buffer[] = [];
        for await (const piece of got.Body as Readable) {
          pieces.push(Buffer.from(piece as Buffer));
          if (slow) await new Promise((r) => setTimeout(r, 2));
        }
        return Buffer.concat(pieces);
      };
      const [slow, ...fast] = await Promise.all([
        read('a', undefined, true),
        read('b'),
        read('c'),
        read('b', `bytes=${MB - 7}-${4 * MB + 9}`),
        read('c', `bytes=${5 * MB}-`),
      ]);
      expect(slow.equals(objects[0]!.body)).toBe(true);
      expect(fast[0]!.equals(objects[1]!.body)).toBe(true);
      expect(fast[1]!.equals(objects[2]!.body)).toBe(true);
      expect(fast[2]!.equals(objects[1]!.body.subarray(MB - 7, 4 * MB + 10))).toBe(true);
      expect(fast[3]!.equals(objects[2]!.body.subarray(5 * MB))).toBe(true);
      expect((await read('empty')).length).toBe(0);
      // A reader that gives up after its first piece: the emulator serves on.
      const cut = await client.send(new GetObjectCommand({ Bucket: 'bucket-five', Key: 'a' }));
      const stream = cut.Body as Readable;
      for await (const _ of stream) break;
      stream.destroy();
      expect((await read('a')).equals(objects[0]!.body)).toBe(true);
    } finally {
      client.destroy();
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

  it('SQS: ListQueues and GetQueueUrl give URLs that resolve, the same the stack uses', async () => {
    const sqs = await startSqs();
    try {
      const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: creds });
      const created = await client.send(new CreateQueueCommand({ QueueName: 'q2' }));
      const listed = await client.send(new ListQueuesCommand({}));
      const got = await client.send(new GetQueueUrlCommand({ QueueName: 'q2' }));
      expect([created.QueueUrl, listed.QueueUrls, got.QueueUrl]).toEqual([
        sqs.queueUrl('q2'),
        [sqs.queueUrl('q2')],
        sqs.queueUrl('q2'),
      ]);
      expect(new URL(sqs.queueUrl('q2')).hostname).toBe('127.0.0.1');
      // a client that sends to the queue URL itself (as boto3 and the AWS CLI v1 may) reaches the emulator
      expect((await fetch(listed.QueueUrls![0]!)).status).toBeGreaterThan(0);
    } finally {
      await sqs.close();
    }
  });

  it('DynamoDB: create and list a table', async () => {
    const ddb = await startDynamo();
    try {
      const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: creds });
      await client.send(
        new CreateTableCommand({
          TableName: 'table1',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      const tables = await client.send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain('table1');
    } finally {
      await ddb.close();
    }
  });
});
