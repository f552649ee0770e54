import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BedrockClient,
  GetModelCustomizationJobCommand,
  ListModelCustomizationJobsCommand,
} from '@aws-sdk/client-bedrock';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, LOCAL_CREDENTIALS, type Stack } from '../../../local/stack';
import { findRunBySource, summarize } from '../../../local/cli/follow';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run } from '../../../shared/runs/run';
import { currentPart, currentStage, runCounts } from '../../../shared/runs/record';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

const data = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
const JAWIKI = path.join(data, 'jawiki_corpus.jsonl');
const DOLLY = path.join(data, 'databricks-dolly-15k-ja.jsonl');
const haveData = existsSync(JAWIKI) && existsSync(DOLLY);
if (!haveData)
  console.warn(`chained-run.test.ts: skipped, ${data} (jawiki_corpus.jsonl, databricks-dolly-15k-ja.jsonl) is absent`);

/**
 * The seed recipe as one chained run through the whole local stack (every function from its queue): continued
 * pre-training of Titan Text Lite on Japanese Wikipedia, in two sequential jobs (a small maxRecordsPerJob stands
 * in for the quota), then fine-tuning that model on databricks-dolly-15k-ja.
 */
(haveData ? describe : describe.skip)(
  'a two-stage run: jawiki continued pre-training, then dolly-15k-ja fine-tuning',
  () => {
    let stack: Stack;
    let bedrock: BedrockClient;
    let store: DynamoRunStore;
    let db: DynamoDBDocumentClient;
    beforeAll(async () => {
      // The 2024 recipe: continued pre-training exists only on Titan Text G1, now end of life; Bedrock as it was then.
      stack = await startStack({ waitTimeSeconds: 1, retryDelaySeconds: 1, catalogDate: TITAN_RECIPE_DATE });
      bedrock = new BedrockClient({
        endpoint: stack.endpoints.bedrock,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 1,
      });
      db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
      store = new DynamoRunStore(db, stack.tableName('RunsTable'));
    }, 120_000);
    afterAll(async () => {
      bedrock?.destroy();
      await stack?.stop();
    });

    it("trains each job from the previous job's model and ends succeeded with the fine-tuned model provisioned", async () => {
      // given the corpus and the instruction set in the datasets bucket, outside datasets/ (an upload there starts a
      // run)
      const bucket = stack.bucketName('DatasetsBucket');
      for (const [key, file] of [
        ['inputs/jawiki_corpus.jsonl', JAWIKI],
        ['inputs/databricks-dolly-15k-ja.jsonl', DOLLY],
      ] as const) {
        await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
      }
      const config = {
        ...TITAN_2024,
        stages: [
          {
            customizationType: 'CONTINUED_PRE_TRAINING',
            prep: { template: { kind: 'text' }, filters: { maxChars: 2000 } },
            split: { train: 600, validation: 0, test: 0 },
            maxRecordsPerJob: 300,
          },
          {
            dataset: { key: 'inputs/databricks-dolly-15k-ja.jsonl' },
            customizationType: 'FINE_TUNING',
            split: { train: 400, validation: 40, test: 10 },
          },
        ],
      };
      const request = JSON.stringify({
        type: 'run.requested',
        version: 1,
        runId: 'chained-seed',
        correlationId: 'chained-seed',
        sentAt: new Date().toISOString(),
        payload: { source: { bucket, key: 'inputs/jawiki_corpus.jsonl' }, config },
      });

      // when another team requests the run, twice (a duplicate delivery)
      for (let i = 0; i < 2; i++)
        await stack.clients.sqs.send(
          new SendMessageCommand({ QueueUrl: stack.queueUrl('IngestQueue'), MessageBody: request }),
        );

      // then the run ends succeeded
      const run = await waitForEnd(
        () => findRunBySource(db, stack.tableName('RunsTable'), bucket, 'inputs/jawiki_corpus.jsonl'),
        480_000,
      );
      expect(run.failure).toBeUndefined();
      expect(run.status).toBe('succeeded');
      expect(currentStage(run)).toBe(1);
      expect(run.stages.map((s) => s.jobs.length)).toEqual([2, 1]);

      // with three jobs: two sequential continued pre-training parts, then fine-tuning, each on the previous model
      const summaries =
        (await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: run.runId })))
          .modelCustomizationJobSummaries ?? [];
      const names = summaries.map((s) => s.jobName!).sort();
      expect(names).toEqual([`btp-${run.runId}-s0-a1`, `btp-${run.runId}-s0p1-a1`, `btp-${run.runId}-s1-a1`]);
      const jobs = await Promise.all(
        names.map((jobIdentifier) => bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier }))),
      );
      expect(jobs.map((j) => j.status)).toEqual(['Completed', 'Completed', 'Completed']);
      expect(jobs.map((j) => j.customizationType)).toEqual([
        'CONTINUED_PRE_TRAINING',
        'CONTINUED_PRE_TRAINING',
        'FINE_TUNING',
      ]);
      expect(jobs[0]!.baseModelArn).toBe('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1:0:4k');
      expect(jobs[1]!.baseModelArn).toBe(jobs[0]!.outputModelArn);
      expect(jobs[2]!.baseModelArn).toBe(jobs[1]!.outputModelArn);
      expect(run.modelArn).toBe(jobs[2]!.outputModelArn);
      expect(run.provisionedModelArn).toMatch(/provisioned-model\//);

      // and each job trained on its own prepared data under the run's prefix
      const artifacts = stack.bucketName('ArtifactsBucket');
      expect(jobs[0]!.trainingDataConfig!.s3Uri).toBe(
        `s3://${artifacts}/runs/${run.runId}/stages/0/prepared/parts/0.jsonl`,
      );
      expect(jobs[1]!.trainingDataConfig!.s3Uri).toBe(
        `s3://${artifacts}/runs/${run.runId}/stages/0/prepared/parts/1.jsonl`,
      );
      expect(jobs[2]!.trainingDataConfig!.s3Uri).toBe(
        `s3://${artifacts}/runs/${run.runId}/stages/1/prepared/train.jsonl`,
      );
      expect(jobs[2]!.validationDataConfig!.validators).toEqual([
        { s3Uri: `s3://${artifacts}/runs/${run.runId}/stages/1/prepared/validation.jsonl` },
      ]);
      expect(run.stages[0]!.prepare.split!.parts!.map((p) => p.records)).toEqual([300, 300]);
      expect(run.stages[1]!.prepare.split!.train.records).toBe(400);
      const keys = (
        (
          await stack.clients.s3.send(
            new ListObjectsV2Command({ Bucket: artifacts, Prefix: `runs/${run.runId}/stages/1/` }),
          )
        ).Contents ?? []
      ).map((o) => o.Key);
      expect(keys).toContain(`runs/${run.runId}/stages/1/manifest.json`);

      // and the run's summary (npm start, btp run, btp status) gives each stage's records and models
      const summary = summarize(run, [], artifacts);
      const stage0 = runCounts(run)!;
      expect(summary).toContain(
        `  0: CONTINUED_PRE_TRAINING on s3://${bucket}/inputs/jawiki_corpus.jsonl: input ${stage0.input}, kept ${stage0.kept}, train 600 / validation 0 / test 0`,
      );
      expect(summary).toContain(
        `  1: FINE_TUNING on s3://${bucket}/inputs/databricks-dolly-15k-ja.jsonl: input 15015, kept `,
      );
      expect(summary).toContain('train 400 / validation 40 / test 10');
      expect(summary.split('\n').filter((l) => l.startsWith('     model '))).toEqual(
        [jobs[0]!, jobs[1]!, jobs[2]!].map((j) => `     model ${j.outputModelArn}`),
      );

      // and every step happened once: one job per part and stage, one move to each next stage
      // (each listed with its place, move and job, so that a failure shows which step was recorded twice)
      const history = await store.listEvents(run.runId);
      const of = (type: string) =>
        history
          .filter((e) => e.type === type)
          .map((e) => `${e.seq} ${e.from}>${e.to} ${JSON.stringify(e.detail?.jobName ?? e.detail?.stage ?? '')}`);
      expect(of('job.submitted')).toHaveLength(3);
      expect(of('job.completed')).toHaveLength(3);
      expect(of('split.done')).toHaveLength(2);
    }, 600_000);
  },
);

async function waitForEnd(find: () => Promise<Run | undefined>, timeoutMs: number): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  let last: Run | undefined;
  while (Date.now() < deadline) {
    last = await find();
    if (last && ['succeeded', 'failed', 'cancelled'].includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `the run did not end in ${timeoutMs} ms; last seen: ${JSON.stringify(last && { status: last.status, stage: currentStage(last), part: currentPart(last), failure: last.failure })}`,
  );
}
