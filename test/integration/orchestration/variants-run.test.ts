import {
  BedrockClient,
  GetModelCustomizationJobCommand,
  ListModelCustomizationJobsCommand,
  type GetModelCustomizationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, LOCAL_CREDENTIALS, type Stack } from '../../../local/stack';
import { sampleCorpusJsonl, sampleJsonl } from '../../../local/sample/generate';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { isTerminal } from '../../../shared/runs/status';

/**
 * Experiments through the whole local stack (every function from its queue, the Bedrock emulator on its fast clock):
 * variants as child runs of one parent, sharing its data preparation and its continued pre-training, and submitted
 * within the concurrent-jobs quota.
 */
describe('an experiment: variants as child runs of one parent', () => {
  let stack: Stack;
  let bedrock: BedrockClient;
  let store: DynamoRunStore;
  let bucket: string;
  let artifacts: string;
  beforeAll(async () => {
    // Titan Text G1 - Lite, the model with continued pre-training here, has reached end of life: the stack plays the
    // catalog of 2024 (#18's setting).
    const historical = { catalogDate: '2024-10-01' };
    stack = await startStack({ waitTimeSeconds: 1, retryDelaySeconds: 1, ...historical });
    bedrock = new BedrockClient({
      endpoint: stack.endpoints.bedrock,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    store = new DynamoRunStore(DynamoDBDocumentClient.from(stack.clients.dynamodb), stack.tableName('RunsTable'));
    bucket = stack.bucketName('DatasetsBucket');
    artifacts = stack.bucketName('ArtifactsBucket');
    for (const [key, body] of [
      ['inputs/corpus.jsonl', sampleCorpusJsonl(120)],
      ['inputs/instructions.jsonl', sampleJsonl(300)],
    ] as const)
      await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }, 120_000);
  afterAll(async () => {
    bedrock?.destroy();
    await stack?.stop();
  });

  const request = async (runId: string, key: string, config: Record<string, unknown>) => {
    const body = JSON.stringify({
      type: 'run.requested',
      version: 1,
      runId,
      correlationId: runId,
      sentAt: new Date().toISOString(),
      payload: { source: { bucket, key }, config },
    });
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl('IngestQueue'), MessageBody: body }),
    );
  };
  const jobsOf = async (runId: string): Promise<GetModelCustomizationJobCommandOutput[]> => {
    const summaries =
      (await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: runId, maxResults: 100 })))
        .modelCustomizationJobSummaries ?? [];
    return Promise.all(
      summaries.map((s) => bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: s.jobArn! }))),
    );
  };

  it('prepares each dataset once and trains the shared pre-training once for the variants built on it', async () => {
    // given a corpus for continued pre-training and an instruction set, and three variants: two on the pre-trained
    // model (1 and 2 epochs), one on the base model
    const config = {
      training: { baseModelId: 'amazon.titan-text-lite-v1:0:4k' },
      provisioning: { enabled: false },
      stages: [
        {
          customizationType: 'CONTINUED_PRE_TRAINING',
          prep: { template: { kind: 'text' } },
          split: { train: 100, validation: 0, test: 0 },
        },
        {
          dataset: { key: 'inputs/instructions.jsonl' },
          customizationType: 'FINE_TUNING',
          split: { train: 200, validation: 20, test: 10 },
        },
      ],
      variants: [
        { name: 'ft', hyperParameters: { epochCount: '1' } },
        { name: 'cpt-ft', hyperParameters: { epochCount: '1' }, continuedPreTraining: true },
        { name: 'cpt-ft-2ep', hyperParameters: { epochCount: '2' }, continuedPreTraining: true },
      ],
    };

    // when the experiment is requested, twice (a duplicate delivery)
    await request('shared', 'inputs/corpus.jsonl', config);
    await request('shared', 'inputs/corpus.jsonl', config);

    // then the parent ends succeeded with its three variants' runs, each succeeded with a model of its own
    const parent = await waitForParent(store, 'inputs/corpus.jsonl', 300_000);
    expect(parent.failure).toBeUndefined();
    expect(parent.status).toBe('succeeded');
    expect(parent.children?.map((c) => c.variant)).toEqual(['ft', 'cpt-ft', 'cpt-ft-2ep']);
    const children = (await Promise.all(parent.children!.map((c) => store.get(c.runId)))) as Run[];
    expect(children.map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(children.every((c) => c.parentRunId === parent.runId)).toBe(true);
    expect(new Set(children.map((c) => c.modelArn)).size).toBe(3);

    // and each dataset was prepared once, by the parent: two splits, no chunk or prepared file under a child
    const parentEvents = (await store.listEvents(parent.runId)).map((e) => e.type);
    expect(parentEvents.filter((t) => t === 'split.done')).toHaveLength(2);
    expect(parentEvents.filter((t) => t === 'variants.started')).toHaveLength(1);
    for (const child of children) {
      expect((await store.listEvents(child.runId)).map((e) => e.type)).not.toContain('split.done');
      const listed = await stack.clients.s3.send(
        new ListObjectsV2Command({ Bucket: artifacts, Prefix: `runs/${child.runId}/stages/0/prepared/` }),
      );
      expect(listed.KeyCount ?? 0).toBe(0);
    }

    // and the shared pre-training was one job, on the base model; the parent trained nothing else
    const parentJobs = (await jobsOf(parent.runId)).filter((j) => j.jobName!.startsWith(`btp-${parent.runId}-s`));
    expect(parentJobs.map((j) => [j.jobName, j.customizationType, j.status])).toEqual([
      [`btp-${parent.runId}-s0-a1`, 'CONTINUED_PRE_TRAINING', 'Completed'],
    ]);
    const pretrainedModel = parentJobs[0]!.outputModelArn!;

    // and each variant's one job fine-tuned on the parent's prepared instruction set, from the pre-trained model or
    // the base model as configured, with its own epochs
    const jobs = await Promise.all(children.map(async (c) => (await jobsOf(c.runId))[0]!));
    expect(jobs.map((j) => j.customizationType)).toEqual(['FINE_TUNING', 'FINE_TUNING', 'FINE_TUNING']);
    expect(jobs.map((j) => j.baseModelArn)).toEqual([
      'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1:0:4k',
      pretrainedModel,
      pretrainedModel,
    ]);
    expect(jobs.map((j) => j.hyperParameters?.epochCount)).toEqual(['1', '1', '2']);
    for (const j of jobs)
      expect(j.trainingDataConfig!.s3Uri).toBe(`s3://${artifacts}/runs/${parent.runId}/stages/1/prepared/train.jsonl`);
    expect(children.map((c) => c.variant?.pretrained?.modelArn)).toEqual([undefined, pretrainedModel, pretrainedModel]);
  }, 360_000);

  it('keeps four variants within a concurrent-jobs quota of two: they wait queued, none fails', async () => {
    // given an experiment of four fine-tuning variants, while the account's jobs quota is used up
    stack.bedrock.faults.setQuotas({ concurrentJobs: 0 });
    const config = {
      training: { baseModelId: 'amazon.titan-text-lite-v1:0:4k' },
      provisioning: { enabled: false },
      split: { train: 200, validation: 20, test: 10 },
      variants: ['1', '2', '3', '4'].map((epochs) => ({
        name: `ep${epochs}`,
        hyperParameters: { epochCount: epochs },
      })),
    };

    // when it runs, the four variants wait in `queued` rather than fail
    await request('quota', 'inputs/instructions.jsonl', config);
    const waiting = await waitFor(async () => {
      const parent = await findParent(store, 'inputs/instructions.jsonl');
      const children = await Promise.all((parent?.children ?? []).map((c) => store.get(c.runId)));
      return children.length === 4 && children.every((c) => c?.status === 'queued') ? children : undefined;
    }, 120_000);
    expect(waiting).toHaveLength(4);

    // and once the quota is two again
    stack.bedrock.faults.setQuotas({ concurrentJobs: 2 });

    // then every variant succeeds
    const parent = await waitForParent(store, 'inputs/instructions.jsonl', 300_000);
    expect(parent.status).toBe('succeeded');
    const children = (await Promise.all(parent.children!.map((c) => store.get(c.runId)))) as Run[];
    expect(children.map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);

    // and each of them waited in `queued` for the quota
    const queued = await Promise.all(
      children.map(async (c) => (await store.listEvents(c.runId)).some((e) => e.type === 'job.queued')),
    );
    expect(queued).toEqual([true, true, true, true]);

    // and no more than two of their jobs were ever in progress at once
    const jobs = (await Promise.all(children.map((c) => jobsOf(c.runId)))).flat();
    expect(jobs).toHaveLength(4);
    const edges = jobs.flatMap((j) => [
      { at: j.creationTime!.getTime(), delta: 1 },
      { at: j.endTime!.getTime(), delta: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let most = 0;
    for (const e of edges) most = Math.max(most, (running += e.delta));
    expect(most).toBeLessThanOrEqual(2);
  }, 360_000);
});

/** The experiment run made from a source (not one of its variants' runs), as it is now. */
async function findParent(store: DynamoRunStore, key: string): Promise<Run | undefined> {
  const statuses = ['preparing', 'splitting', 'submitting', 'training', 'succeeded', 'failed', 'cancelled'] as const;
  const runs = (await Promise.all(statuses.map((s) => store.listByStatus(s)))).flat();
  return runs.find((r) => r.source.key === key && r.config.variants);
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not reached in ${timeoutMs} ms`);
}

/** The experiment run made from a source, once it has ended. */
async function waitForParent(store: DynamoRunStore, key: string, timeoutMs: number): Promise<Run> {
  return waitFor(async () => {
    const parent = await findParent(store, key);
    return parent && isTerminal(parent.status) ? parent : undefined;
  }, timeoutMs);
}
