import { SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, type Stack } from '../../../local/stack';
import { RunConfig } from '../../../shared/config/run-config';
import { parseMessage } from '../../../shared/messages/envelope';
import { RunStatusChanged } from '../../../shared/messages/notifications';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import { NotifyingRunStore, notifyFromEnv } from '../../../shared/runs/notifying-run-store';
import type { Run } from '../../../shared/runs/run';
import { stage0 } from '../../helpers/orchestration/fakes';

/**
 * Notifications for every state change of a run, through the real DynamoDB adapter, the stack's SNS topic from
 * serverless.yml, and the queue the local stack subscribes to it (as a subscribing team would read them).
 */
describe('run state-change notifications through the local stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ functions: 'none' });
  });
  afterAll(() => stack?.stop());

  it('delivers one notification per status change, in version order, with what a subscriber needs', async () => {
    // given a store that notifies to the topic, configured from the environment as a function's would be
    const env: Record<string, string | undefined> = {
      ...stack.clientEnv,
      BTP_NOTIFICATIONS_TOPIC_ARN: stack.topology.topics.RunNotificationsTopic!.arn,
    };
    const sns = new SNSClient({
      region: env.AWS_REGION,
      endpoint: env.AWS_ENDPOINT_URL_SNS,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    const notify = notifyFromEnv(env, { sns: () => sns, sqs: () => stack.clients.sqs })!;
    const queueUrl = stack.topicSubscriberQueueUrl('RunNotificationsTopic');
    const db = DynamoDBDocumentClient.from(stack.clients.dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new NotifyingRunStore(new DynamoRunStore(db, stack.tableName('RunsTable')), notify, {
      onError: (err) => {
        throw err;
      },
    });
    const now = new Date().toISOString();
    const run: Run = {
      runId: 'notify-1',
      status: 'requested',
      version: 1,
      createdAt: now,
      updatedAt: now,
      source: { bucket: stack.bucketName('DatasetsBucket'), key: 'datasets/a.jsonl' },
      config: RunConfig.parse({}),
      artifactsPrefix: `s3://${stack.bucketName('ArtifactsBucket')}/runs/notify-1/`,
      stages: [],
    };

    // when the run goes through a whole successful life, with some updates that change no status
    await store.create(run, { type: 'run.created' });
    await store.transition(
      'notify-1',
      'requested',
      'preparing',
      { stages: stage0('notify-1', { chunks: 1 }) },
      { type: 'ingest.planned' },
    );
    await store.update('notify-1', 'preparing', { warnings: ['short'] }, { type: 'chunk.done' });
    await store.transition('notify-1', 'preparing', 'splitting', {}, { type: 'chunks.done' });
    const counts = {
      input: 10,
      kept: 8,
      filtered: 2,
      rejected: 0,
      byReason: { 'filtered:too_long_chars': 2 },
      train: 6,
      validation: 1,
      test: 1,
    };
    await store.transition(
      'notify-1',
      'splitting',
      'submitting',
      { stages: stage0('notify-1', { chunks: 1, counts }) },
      { type: 'dataset.prepared' },
    );
    await store.transition(
      'notify-1',
      ['submitting', 'queued'],
      'training',
      { stages: stage0('notify-1', { chunks: 1, counts, job: { jobArn: 'arn:job' } }) },
      { type: 'job.submitted' },
    );
    await store.transition('notify-1', 'training', 'succeeded', { modelArn: 'arn:model' }, { type: 'job.completed' });

    // then the queue holds exactly one valid notification per change
    const received: RunStatusChanged[] = [];
    for (let i = 0; i < 10 && received.length < 6; i++) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const m of out.Messages ?? []) {
        expect(m.MessageAttributes?.type?.StringValue).toBe('run.status.changed');
        received.push(parseMessage(RunStatusChanged, m.Body!));
      }
    }
    received.sort((a, b) => a.payload.version - b.payload.version);
    expect(received.map((m) => `${m.payload.from ?? '-'}>${m.payload.to}`)).toEqual([
      '->requested',
      'requested>preparing',
      'preparing>splitting',
      'splitting>submitting',
      'submitting>training',
      'training>succeeded',
    ]);
    const events = await store.listEvents('notify-1');
    const changes = events.filter((e) => e.to && e.from !== e.to);
    expect(received.map((m) => m.payload.version)).toEqual(changes.map((e) => e.seq));
    const last = received.at(-1)!;
    expect(last.runId).toBe('notify-1');
    expect(last.payload).toMatchObject({
      counts,
      jobArn: 'arn:job',
      modelArn: 'arn:model',
      artifactsPrefix: run.artifactsPrefix,
    });
  });
});
