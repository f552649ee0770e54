import { createHash } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startSqs, type SqsEmulator } from '../../../local/emulators/sqs';

/**
 * The SQS emulator answers SQS's older query protocol (AWS CLI v2 before 2.13, older SDKs) beside the JSON protocol
 * the AWS SDK v3 speaks: form-encoded requests as those clients build them, XML answers as the SQS API reference
 * shows them. The AWS CLI v2 itself runs the docs' examples against it in test/e2e/docs-examples.test.ts.
 */
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A query-protocol request. The emulator checks no signature; the region comes from the credential scope. */
async function query(sqs: SqsEmulator, params: Record<string, string>, path = '/') {
  const res = await fetch(`${sqs.endpoint}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
  });
  return { status: res.status, type: res.headers.get('content-type'), xml: await res.text() };
}

const unescape = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp|#xD);/g, (_, e: string) =>
    e === '#xD' ? '\r' : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[e]!,
  );
/** The texts of every `<tag>` element, in order. */
const texts = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => unescape(m[1]!));

describe('the SQS emulator speaks the query protocol', () => {
  let sqs: SqsEmulator;
  let client: SQSClient;
  beforeAll(async () => {
    sqs = await startSqs();
    client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: creds });
  });
  afterAll(async () => {
    client?.destroy();
    await sqs?.close();
  });

  it('creates a queue with attributes, which the JSON protocol then sees', async () => {
    const created = await query(sqs, {
      Action: 'CreateQueue',
      QueueName: 'qq1',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '40',
    });
    expect(created.status).toBe(200);
    expect(created.type).toContain('text/xml');
    expect(created.xml).toMatch(
      /^<\?xml[^>]*>\s*<CreateQueueResponse xmlns="http:\/\/queue\.amazonaws\.com\/doc\/2012-11-05\/">/,
    );
    expect(texts(created.xml, 'QueueUrl')).toEqual([sqs.queueUrl('qq1')]);
    const attrs = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl('qq1'), AttributeNames: ['VisibilityTimeout'] }),
    );
    expect(attrs.Attributes?.VisibilityTimeout).toBe('40');
    expect(texts((await query(sqs, { Action: 'GetQueueUrl', QueueName: 'qq1' })).xml, 'QueueUrl')).toEqual([
      sqs.queueUrl('qq1'),
    ]);
    const listed = await fetch(`${sqs.endpoint}/?Action=ListQueues&QueueNamePrefix=qq&Version=2012-11-05`);
    expect(texts(await listed.text(), 'QueueUrl')).toContain(sqs.queueUrl('qq1'));
  });

  it('sends (to the endpoint or to the queue URL), receives with attributes and deletes, bodies intact', async () => {
    // given a queue and a body that XML must escape, with a carriage return an XML parser would otherwise drop
    await query(sqs, { Action: 'CreateQueue', QueueName: 'qq2' });
    const body = '{"q":"日本語 & <tags> \'quoted\'"}\r\nline two';
    // when one message is sent with a message attribute to the endpoint, another to the queue's own URL
    const sent = await query(sqs, {
      Action: 'SendMessage',
      QueueUrl: sqs.queueUrl('qq2'),
      MessageBody: body,
      'MessageAttribute.1.Name': 'kind',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'データ',
    });
    const toPath = await query(
      sqs,
      { Action: 'SendMessage', MessageBody: 'second' },
      new URL(sqs.queueUrl('qq2')).pathname,
    );
    // then both are accepted with the MD5 of their bodies, which clients check
    expect([sent.status, toPath.status]).toEqual([200, 200]);
    expect(texts(sent.xml, 'MD5OfMessageBody')).toEqual([createHash('md5').update(body).digest('hex')]);
    expect(texts(sent.xml, 'MessageId')[0]).toMatch(/\S/);

    // and a receive asking for every attribute gives them back as the XML the API reference shows
    const got = await query(sqs, {
      Action: 'ReceiveMessage',
      QueueUrl: sqs.queueUrl('qq2'),
      MaxNumberOfMessages: '10',
      WaitTimeSeconds: '1',
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
    });
    expect(got.status).toBe(200);
    const messages = texts(got.xml, 'Message');
    expect(messages).toHaveLength(2);
    const first = messages.find((m) => m.includes('kind'))!;
    expect(texts(got.xml, 'Body').sort()).toEqual([body, 'second'].sort());
    expect(texts(got.xml, 'MD5OfBody')).toContain(createHash('md5').update(body).digest('hex'));
    expect(first).toContain('<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>');
    expect(first).toMatch(
      /<MessageAttribute><Name>kind<\/Name><Value>(<StringValue>データ<\/StringValue><DataType>String<\/DataType>|<DataType>String<\/DataType><StringValue>データ<\/StringValue>)<\/Value><\/MessageAttribute>/,
    );

    // and deleting both leaves the queue empty
    for (const handle of texts(got.xml, 'ReceiptHandle')) {
      const deleted = await query(sqs, {
        Action: 'DeleteMessage',
        QueueUrl: sqs.queueUrl('qq2'),
        ReceiptHandle: handle,
      });
      expect(deleted.status).toBe(200);
      expect(deleted.xml).toMatch(/<DeleteMessageResponse[^>]*><ResponseMetadata><RequestId>[^<]+<\/RequestId>/);
    }
    const counts = await query(sqs, {
      Action: 'GetQueueAttributes',
      QueueUrl: sqs.queueUrl('qq2'),
      'AttributeName.1': 'ApproximateNumberOfMessages',
      'AttributeName.2': 'ApproximateNumberOfMessagesNotVisible',
    });
    expect(counts.xml).toContain(
      '<GetQueueAttributesResult><Attribute><Name>ApproximateNumberOfMessages</Name><Value>0</Value></Attribute>' +
        '<Attribute><Name>ApproximateNumberOfMessagesNotVisible</Name><Value>0</Value></Attribute>',
    );
  });

  it('sends a batch and purges it', async () => {
    await query(sqs, { Action: 'CreateQueue', QueueName: 'qq3' });
    const batch = await query(sqs, {
      Action: 'SendMessageBatch',
      QueueUrl: sqs.queueUrl('qq3'),
      'SendMessageBatchRequestEntry.1.Id': 'a',
      'SendMessageBatchRequestEntry.1.MessageBody': 'one',
      'SendMessageBatchRequestEntry.2.Id': 'b',
      'SendMessageBatchRequestEntry.2.MessageBody': 'two',
    });
    expect(batch.status).toBe(200);
    expect(texts(batch.xml, 'SendMessageBatchResultEntry').map((e) => texts(e, 'Id')[0])).toEqual(['a', 'b']);
    expect((await query(sqs, { Action: 'PurgeQueue', QueueUrl: sqs.queueUrl('qq3') })).status).toBe(200);
    const after = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl('qq3'), WaitTimeSeconds: 0 }));
    expect(after.Messages ?? []).toEqual([]);
  });

  it("answers a missing queue with the query protocol's error, and passes SNS's query calls on", async () => {
    const missing = await query(sqs, { Action: 'GetQueueUrl', QueueName: 'no-such-queue' });
    expect(missing.status).toBe(400);
    expect(texts(missing.xml, 'Code')).toEqual(['AWS.SimpleQueueService.NonExistentQueue']);
    expect(texts(missing.xml, 'Type')).toEqual(['Sender']);
    expect(missing.xml).toMatch(
      /<ErrorResponse[^>]*><Error>.*<\/Error><RequestId>[^<]+<\/RequestId><\/ErrorResponse>$/s,
    );
    // SNS (served on the same port) answers its own query calls as before
    const topic = await query(sqs, { Action: 'CreateTopic', Name: 'tq' });
    expect(topic.status).toBe(200);
    expect(texts(topic.xml, 'TopicArn')).toEqual(['arn:aws:sns:us-east-1:000000000000:tq']);
  });
});
