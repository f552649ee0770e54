import { errorXml, jsonOutputToXml, queryToJsonInput } from '../../../local/emulators/sqs-query';

describe("the SQS query protocol's requests become JSON-protocol input", () => {
  it('flattened lists, maps, message attributes and integers take their JSON names and types', () => {
    const params = new URLSearchParams({
      Action: 'ReceiveMessage',
      Version: '2012-11-05',
      QueueUrl: 'http://127.0.0.1:1/000000000000/q',
      'AttributeName.2': 'SentTimestamp',
      'AttributeName.1': 'ApproximateReceiveCount',
      'MessageAttributeName.1': 'All',
      MaxNumberOfMessages: '10',
      WaitTimeSeconds: '2',
    });
    expect(queryToJsonInput(params)).toEqual({
      QueueUrl: 'http://127.0.0.1:1/000000000000/q',
      AttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      MessageAttributeNames: ['All'],
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 2,
    });
  });

  it('batch entries keep their order past nine, with their own attributes', () => {
    const params = new URLSearchParams();
    params.set('Action', 'SendMessageBatch');
    for (let i = 1; i <= 10; i++) {
      params.set(`SendMessageBatchRequestEntry.${i}.Id`, `m${i}`);
      params.set(`SendMessageBatchRequestEntry.${i}.MessageBody`, `body ${i}`);
    }
    params.set('SendMessageBatchRequestEntry.10.DelaySeconds', '5');
    params.set('SendMessageBatchRequestEntry.10.MessageAttribute.1.Name', 'tags');
    params.set('SendMessageBatchRequestEntry.10.MessageAttribute.1.Value.DataType', 'String');
    params.set('SendMessageBatchRequestEntry.10.MessageAttribute.1.Value.StringValue', 'a');
    const input = queryToJsonInput(params, 'http://127.0.0.1:1/000000000000/q') as {
      QueueUrl: string;
      Entries: Array<Record<string, unknown>>;
    };
    expect(input.QueueUrl).toBe('http://127.0.0.1:1/000000000000/q');
    expect(input.Entries.map((e) => e.Id)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    expect(input.Entries[9]).toEqual({
      Id: 'm10',
      MessageBody: 'body 10',
      DelaySeconds: 5,
      MessageAttributes: { tags: { DataType: 'String', StringValue: 'a' } },
    });
  });

  it('a queue URL in the parameters wins over the path the request was sent to', () => {
    const params = new URLSearchParams({ Action: 'PurgeQueue', QueueUrl: 'http://h/000000000000/a' });
    expect(queryToJsonInput(params, 'http://h/000000000000/b')).toEqual({ QueueUrl: 'http://h/000000000000/a' });
  });
});

describe('JSON-protocol answers become the XML of the SQS API reference', () => {
  it('a batch answer names its entries after the action, and its failures BatchResultErrorEntry', () => {
    const xml = jsonOutputToXml(
      'DeleteMessageBatch',
      {
        Successful: [{ Id: 'a' }],
        Failed: [{ Id: 'b', Code: 'ReceiptHandleIsInvalid', Message: 'bad <handle>', SenderFault: true }],
      },
      'r1',
    );
    expect(xml).toContain(
      '<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry>' +
        '<BatchResultErrorEntry><Id>b</Id><Code>ReceiptHandleIsInvalid</Code><Message>bad &lt;handle&gt;</Message>' +
        '<SenderFault>true</SenderFault></BatchResultErrorEntry></DeleteMessageBatchResult>',
    );
    expect(xml).toContain(
      '<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DeleteMessageBatchResponse>',
    );
  });

  it('an action without a result answers with its metadata only; an error with its query code and fault', () => {
    expect(jsonOutputToXml('DeleteMessage', {}, 'r2')).not.toContain('DeleteMessageResult');
    const error = errorXml(
      { status: 400, queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender', message: 'no such queue' },
      'r3',
    );
    expect(error).toContain(
      '<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>no such queue</Message>' +
        '</Error><RequestId>r3</RequestId></ErrorResponse>',
    );
  });
});
