import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, type Stack } from '../../../local/stack';
import { sampleJsonl } from '../../../local/sample/generate';
import { findRunBySource, followRun, listArtifacts } from '../../../local/cli/follow';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ retryDelaySeconds: 1, waitTimeSeconds: 1 });
}, 60000);
afterAll(() => stack?.stop());

describe('a whole run through the local stack announces every status change', () => {
  it('given an upload, when the run ends, then the notifications topic carried one message per transition and the report function wrote the report', async () => {
    const bucket = stack.bucketName('DatasetsBucket');
    const key = 'datasets/notify/sample.jsonl';
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: sampleJsonl(120) }));
    const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
    const table = stack.tableName('RunsTable');
    let run = await findRunBySource(db, table, bucket, key);
    for (let i = 0; !run && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await findRunBySource(db, table, bucket, key);
    }
    const store = new DynamoRunStore(db, table);
    const final = await followRun(store, run!.runId, { timeoutMs: 60000, print: () => undefined });
    expect(final?.status).toBe('succeeded');

    const statusChanges = (await store.listEvents(run!.runId))
      .filter((e) => e.to !== undefined && e.from !== e.to)
      .map((e) => `${e.from ?? '-'}>${e.to}`);
    const seen: string[] = [];
    const end = Date.now() + 15000;
    while (seen.length < statusChanges.length && Date.now() < end) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.topicSubscriberQueueUrl('RunNotificationsTopic'),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const m of out.Messages ?? []) {
        const msg = JSON.parse(m.Body!);
        expect(msg.type).toBe('run.status.changed');
        if (msg.runId === run!.runId) seen.push(`${msg.payload.from ?? '-'}>${msg.payload.to}`);
      }
    }
    expect(statusChanges).toEqual(
      expect.arrayContaining(['-' + '>requested', 'requested>preparing', 'provisioning>succeeded']),
    );
    expect(seen.sort()).toEqual([...statusChanges].sort());

    let keys: string[] = [];
    // report.md is written after report.html
    for (let i = 0; i < 60 && !keys.some((k) => k.endsWith('/report.md')); i++) {
      keys = (await listArtifacts(stack.clients.s3, stack.bucketName('ArtifactsBucket'), `runs/${run!.runId}/`)).map(
        (a) => a.key,
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(keys).toEqual(expect.arrayContaining([`runs/${run!.runId}/report.html`, `runs/${run!.runId}/report.md`]));
  }, 90000);
});
