import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack, type Stack } from '../../../local/stack';
import { parseMessage } from '../../../shared/messages/envelope';
import { RunCancel, RunResume } from '../../../shared/messages/control';
import { DynamoRunStore } from '../../../shared/runs/dynamo-run-store';
import type { Run, RunCounts } from '../../../shared/runs/run';
import { runCounts } from '../../../shared/runs/record';
import { reportFixture, trainingCsv, validationCsv } from '../../unit/report/report-fixture';
import { btp, seedRun, type Fakes } from './cli-harness';
import { stage0 } from '../../helpers/orchestration/fakes';

/**
 * The CLI against the local stack's S3, SQS and DynamoDB (no functions run): runs are seeded in the table with the
 * run store, as the pipeline's steps would leave them, and each command is checked in both its outputs.
 */
describe('btp against the local stack', () => {
  let stack: Stack;
  let store: DynamoRunStore;
  const fakes: Fakes = { deleted: [], answers: [] };
  const cli = (...args: string[]) => btp(stack, fakes, ...args);
  const jobArn =
    'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/abc123def456';
  let counts: RunCounts;
  let manifestText: string;
  const ev = (type: string) => ({ type });

  const drain = async (queueUrl: string) => {
    const got: Array<{ body: string; attributes: Record<string, string | undefined> }> = [];
    for (let i = 0; i < 5; i++) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      if (!out.Messages?.length) break;
      for (const m of out.Messages)
        got.push({
          body: m.Body!,
          attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
        });
    }
    return got;
  };

  beforeAll(async () => {
    let run: Run;
    ({ manifestText, run } = await reportFixture());
    counts = runCounts(run)!;
    stack = await startStack({ functions: 'none' });
    store = new DynamoRunStore(
      DynamoDBDocumentClient.from(stack.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      stack.tableName('RunsTable'),
    );
    const toSubmitting = async (runId: string) => {
      await store.create(seedRun(stack, runId), ev('run.created'));
      await store.transition(
        runId,
        'requested',
        'preparing',
        { stages: stage0(runId, { chunks: 2 }) },
        ev('ingest.planned'),
      );
      await store.transition(runId, 'preparing', 'splitting', {}, ev('chunks.done'));
      await store.transition(
        runId,
        'splitting',
        'submitting',
        { stages: stage0(runId, { chunks: 2, counts, costEstimateUsd: 3.46 }) },
        ev('dataset.prepared'),
      );
    };
    await toSubmitting('r-ok');
    const submitted = { chunks: 2, counts, costEstimateUsd: 3.46 };
    await store.transition(
      'r-ok',
      'submitting',
      'training',
      { stages: stage0('r-ok', { ...submitted, job: { jobArn, jobStatus: 'InProgress' } }) },
      ev('job.submitted'),
    );
    const completed = {
      status: 'done',
      jobArn,
      jobStatus: 'Completed',
      modelArn: 'arn:model/m1',
      trainingLoss: 0.61,
      validationLoss: 0.74,
    } as const;
    await store.transition(
      'r-ok',
      'training',
      'provisioning',
      { modelArn: 'arn:model/m1', stages: stage0('r-ok', { ...submitted, job: completed }) },
      ev('job.completed'),
    );
    await store.transition(
      'r-ok',
      'provisioning',
      'succeeded',
      { provisionedModelArn: 'arn:pt/p1' },
      ev('throughput.ready'),
    );
    await toSubmitting('r-failed');
    await store.transition(
      'r-failed',
      'submitting',
      'failed',
      {
        failure: {
          stage: 'submit',
          reason: 'ValidationException: batchSize 8 is over 6 for Titan Lite',
          at: new Date().toISOString(),
        },
      },
      ev('job.rejected'),
    );
    await toSubmitting('r-training');
    await store.transition(
      'r-training',
      'submitting',
      'training',
      {
        stages: stage0('r-training', {
          chunks: 2,
          counts,
          costEstimateUsd: 3.46,
          job: { jobArn: `${jobArn}x`, jobStatus: 'InProgress' },
        }),
      },
      ev('job.submitted'),
    );

    const artifacts = stack.bucketName('ArtifactsBucket');
    const put = (Key: string, Body: string) =>
      stack.clients.s3.send(new PutObjectCommand({ Bucket: artifacts, Key, Body }));
    await put('runs/r-ok/stages/0/manifest.json', manifestText);
    await put(
      'runs/r-ok/stages/0/output/model-customization-job-abc123def456/training_artifacts/step_wise_training_metrics.csv',
      trainingCsv,
    );
    await put(
      'runs/r-ok/stages/0/output/model-customization-job-abc123def456/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv',
      validationCsv,
    );
    await put('runs/r-ok/stages/0/prepared/train.jsonl', '{"prompt":"a","completion":"b"}\n');
  });
  afterAll(() => stack?.stop());
  beforeEach(() => {
    fakes.deleted.length = 0;
    fakes.answers.length = 0;
    fakes.gone = [];
  });

  describe('list', () => {
    it('gives every run, newest first, as JSON for scripts', async () => {
      const r = await cli('list', '--json');
      expect(r.code).toBe(0);
      const { runs } = r.json<{ runs: Array<Record<string, unknown>> }>();
      expect(runs.map((x) => x.runId)).toEqual(['r-training', 'r-failed', 'r-ok']);
      expect(Object.keys(runs[0]!).sort()).toEqual(
        expect.arrayContaining(['runId', 'status', 'createdAt', 'updatedAt', 'source']),
      );
      expect(runs[2]).toMatchObject({
        runId: 'r-ok',
        status: 'succeeded',
        counts: { input: 72 },
        costEstimateUsd: 3.46,
      });
    });

    it('filters by status and time, and shows a table for people', async () => {
      expect(
        (await cli('list', '--status', 'failed,training', '--json'))
          .json<{ runs: Array<{ runId: string }> }>()
          .runs.map((x) => x.runId)
          .sort(),
      ).toEqual(['r-failed', 'r-training']);
      expect(
        (await cli('list', '--since', '2000-01-01', '--status', 'succeeded', '--json')).json<{ runs: unknown[] }>()
          .runs,
      ).toHaveLength(1);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await cli('list', '--since', future, '--json')).json<{ runs: unknown[] }>().runs).toHaveLength(0);
      const table = await cli('list');
      expect(table.stdout.split('\n')[0]).toMatch(/^RUN\s+STATUS\s+UPDATED\s+SOURCE\s+INPUT\s+TRAIN\s+JOB$/);
      expect(table.stdout).toMatch(/r-ok\s+succeeded/);
    });

    it('refuses an unknown status with the list of known ones', async () => {
      const r = await cli('list', '--status', 'done');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown status done');
      expect(r.stderr).toContain('next: use one or more of requested');
    });
  });

  describe('status and events', () => {
    it('status --json gives the run and the next step', async () => {
      const r = await cli('status', 'r-failed', '--json');
      expect(r.code).toBe(0);
      const body = r.json<{ run: { runId: string; status: string; failure: { stage: string } }; next: string }>();
      expect(body.run).toMatchObject({ runId: 'r-failed', status: 'failed', failure: { stage: 'submit' } });
      expect(body.next).toContain('btp resume r-failed --from train');
    });

    it('status for people names the failure and what to do', async () => {
      const r = await cli('status', 'r-failed');
      expect(r.stdout).toContain('failure:     [submit] ValidationException: batchSize 8 is over 6 for Titan Lite');
      expect(r.stdout).toContain('next:        `btp resume r-failed --from train`');
    });

    it('a missing run is an error naming the run, the table and what to do', async () => {
      const r = await cli('status', 'nope');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error \(run nope\): run nope was not found in table .*-runs/);
      expect(r.stderr).toContain('next: list runs with `btp list`');
    });

    it('events gives the history in order, as JSON and as a table', async () => {
      const r = await cli('events', 'r-ok', '--json');
      const body = r.json<{
        runId: string;
        events: Array<{ seq: number; type: string; from?: string; to?: string }>;
      }>();
      expect(body.runId).toBe('r-ok');
      expect(body.events.map((e) => `${e.seq}:${e.type}:${e.from ?? '-'}>${e.to}`)).toEqual([
        '1:run.created:->requested',
        '2:ingest.planned:requested>preparing',
        '3:chunks.done:preparing>splitting',
        '4:dataset.prepared:splitting>submitting',
        '5:job.submitted:submitting>training',
        '6:job.completed:training>provisioning',
        '7:throughput.ready:provisioning>succeeded',
      ]);
      const table = await cli('events', 'r-ok');
      expect(table.stdout).toMatch(/^SEQ\s+AT\s+EVENT\s+STATUS\s+DETAIL/);
      expect(table.stdout).toMatch(/7\s+\S+\s+throughput\.ready\s+provisioning -> succeeded/);
    });
  });

  describe('cancel and resume', () => {
    it('cancel posts a valid run.cancel to the monitor queue', async () => {
      const r = await cli('cancel', 'r-training', '--yes', '--reason', 'wrong data', '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ runId: 'r-training', posted: 'run.cancel', status: 'training' });
      const [msg, ...rest] = await drain(stack.queueUrl('MonitorQueue'));
      expect(rest).toHaveLength(0);
      expect(parseMessage(RunCancel, msg!.body)).toMatchObject({
        runId: 'r-training',
        payload: { reason: 'wrong data' },
      });
      expect(msg!.attributes.type).toBe('run.cancel');
    });

    it('cancel asks first, and sends nothing when not confirmed', async () => {
      fakes.answers.push(false);
      const r = await cli('cancel', 'r-training');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('re-run with --yes');
      expect(await drain(stack.queueUrl('MonitorQueue'))).toHaveLength(0);
    });

    it('cancel of an ended run says so and what to do instead', async () => {
      const r = await cli('cancel', 'r-ok', '--yes');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error (run r-ok, stage succeeded): run r-ok has already ended');
      expect(r.stderr).toContain('btp cleanup r-ok');
    });

    it('resume posts a valid run.resume with the changed hyperparameters to the submit queue', async () => {
      const r = await cli('resume', 'r-failed', '--from', 'train', '--hp', 'batchSize=4', '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({
        runId: 'r-failed',
        posted: 'run.resume',
        fromStage: 'train',
        hyperParameters: { batchSize: '4' },
      });
      const [msg] = await drain(stack.queueUrl('SubmitQueue'));
      expect(parseMessage(RunResume, msg!.body).payload).toMatchObject({
        fromStage: 'train',
        hyperParameters: { batchSize: '4' },
      });
    });

    it('resume refuses a run that did not fail, and an unknown stage', async () => {
      expect((await cli('resume', 'r-training', '--from', 'train')).stderr).toContain(
        'only a failed run can be resumed; run r-training is training',
      );
      const bad = await cli('resume', 'r-failed', '--from', 'ingest');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('use --from train');
    });
  });

  describe('cleanup', () => {
    it('asks for each kind, and deletes only what was confirmed', async () => {
      fakes.answers.push(true, false, false); // throughput yes, model no, artifacts no
      const r = await cli('cleanup', 'r-ok', '--json');
      expect(r.code).toBe(0);
      expect(
        r.json<{ results: Array<{ item: string; outcome: string }> }>().results.map((x) => `${x.item}:${x.outcome}`),
      ).toEqual(['throughput:deleted', 'model:skipped', 'artifacts:skipped']);
      expect(fakes.deleted).toEqual(['throughput arn:pt/p1']);
    });

    const seedSucceeded = async (runId: string) => {
      await store.create(
        seedRun(stack, runId, {
          status: 'succeeded',
          modelArn: `arn:model/${runId}`,
          provisionedModelArn: `arn:pt/${runId}`,
        }),
        ev('run.created'),
      );
      const put = (Key: string, Body: string) =>
        stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.bucketName('ArtifactsBucket'), Key, Body }));
      await put(`runs/${runId}/stages/0/manifest.json`, manifestText);
      await put(`runs/${runId}/stages/0/prepared/train.jsonl`, '{"prompt":"a","completion":"b"}\n');
    };

    it('with --yes deletes the model and the artifacts, and records it on the run', async () => {
      await seedSucceeded('r-clean');
      const r = await cli('cleanup', 'r-clean', '--model', '--artifacts', '--yes', '--json');
      const results = r.json<{ results: Array<{ item: string; outcome: string; detail?: string }> }>().results;
      expect(results.map((x) => `${x.item}:${x.outcome}`)).toEqual(['model:deleted', 'artifacts:deleted']);
      expect(results[1]!.detail).toBe('2 objects');
      const left = await stack.clients.s3.send(
        new ListObjectsV2Command({ Bucket: stack.bucketName('ArtifactsBucket'), Prefix: 'runs/r-clean/' }),
      );
      expect(left.Contents ?? []).toHaveLength(0);
      expect((await store.listEvents('r-clean')).at(-1)).toMatchObject({
        type: 'run.cleaned',
        detail: { deleted: ['model', 'artifacts'] },
      });
    });

    it('once cleaned up: status shows no throughput nor cleanup, a second cleanup finds nothing, report writes nothing back', async () => {
      await seedSucceeded('r-gone');
      const before = await cli('status', 'r-gone');
      expect(before.stdout).toContain('throughput:  arn:pt/r-gone');
      expect(before.stdout).toMatch(/next:.*`btp cleanup r-gone`/);
      expect((await cli('cleanup', 'r-gone', '--yes')).code).toBe(0);
      expect(fakes.deleted).toEqual(['throughput arn:pt/r-gone', 'model arn:model/r-gone']);

      const after = await cli('status', 'r-gone');
      expect(after.code).toBe(0);
      expect(after.stdout).not.toContain('throughput:');
      expect(after.stdout).not.toContain('throughput=yes');
      expect(after.stdout).not.toMatch(/next:.*cleanup/);
      expect(after.stdout).toContain('cleaned up:  arn:pt/r-gone');

      const again = await cli('cleanup', 'r-gone', '--yes');
      expect([again.code, again.stderr]).toEqual([0, '']);
      expect(again.stdout).toContain('nothing left to delete for run r-gone');
      expect(fakes.deleted).toHaveLength(2);

      const report = await cli('report', 'r-gone');
      expect(report.code).toBe(1);
      expect(report.stderr).toContain('were deleted by btp cleanup');
      const left = await stack.clients.s3.send(
        new ListObjectsV2Command({ Bucket: stack.bucketName('ArtifactsBucket'), Prefix: 'runs/r-gone/' }),
      );
      expect(left.Contents ?? []).toHaveLength(0);
    });

    it('counts a throughput deleted by hand as already gone, not as a failure', async () => {
      await seedSucceeded('r-byhand');
      fakes.gone = ['arn:pt/r-byhand'];
      const r = await cli('cleanup', 'r-byhand', '--throughput', '--yes', '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ results: [{ item: 'throughput', outcome: 'absent', detail: 'already gone' }] });
    });

    it("deletes the models a chained run's earlier stages made too, each asked for apart", async () => {
      // Stage 0 (continued pre-training) made a model of its own before the final one, then the run failed.
      await store.create(seedRun(stack, 'r-chain'), ev('run.created'));
      await store.transition(
        'r-chain',
        'requested',
        'failed',
        {
          modelArn: 'arn:model/ft',
          stages: [
            { prepare: { status: 'done' }, jobs: [{ status: 'done', attempt: 1, modelArn: 'arn:model/cpt' }] },
            { prepare: { status: 'done' }, jobs: [{ status: 'done', attempt: 1, modelArn: 'arn:model/ft' }] },
          ],
        },
        ev('provision.failed'),
      );
      fakes.answers.push(true, false);
      const r = await cli('cleanup', 'r-chain', '--model', '--json');
      expect(
        r
          .json<{ results: Array<{ item: string; target: string; outcome: string }> }>()
          .results.map((x) => `${x.target}:${x.outcome}`),
      ).toEqual(['arn:model/cpt:deleted', 'arn:model/ft:skipped']);
      expect(fakes.deleted).toEqual(['model arn:model/cpt']);
    });

    it('refuses a run that is still going', async () => {
      const r = await cli('cleanup', 'r-training', '--yes');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('btp cancel r-training');
    });
  });

  describe('redrive', () => {
    it('moves dead-lettered messages back to their queue, with a count and the invalid ones apart', async () => {
      const dlq = stack.queueUrl('TransformDLQ');
      await stack.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: '{"a":1}',
          MessageAttributes: { type: { DataType: 'String', StringValue: 'chunk.requested' } },
        }),
      );
      await stack.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: '{"b":2}',
          MessageAttributes: {
            'btp-error': { DataType: 'String', StringValue: 'invalid chunk.requested v1 message: payload: Required' },
          },
        }),
      );
      const r = await cli('redrive', 'transform', '--yes', '--json');
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({
        queue: 'transform',
        moved: 2,
        invalid: 1,
        byReason: { 'invalid chunk.requested v1 message: payload: Required': 1 },
      });
      const back = await drain(stack.queueUrl('TransformQueue'));
      expect(back.map((m) => m.body).sort()).toEqual(['{"a":1}', '{"b":2}']);
      expect(back.flatMap((m) => Object.keys(m.attributes)).filter((k) => k.startsWith('btp-'))).toEqual([]);
      expect(await drain(dlq)).toHaveLength(0);
      expect((await cli('redrive', 'transform', '--yes')).stdout).toContain('moved 0 message(s)');
      expect((await cli('redrive', 'nowhere', '--yes')).code).toBe(2);
    });

    it("stops at --max, and says how many it left and each moved message's btp-error", async () => {
      const dlq = stack.queueUrl('SplitDLQ');
      for (const n of [1, 2, 3]) {
        const body = JSON.stringify({ type: 'split.requested', runId: `r-dl-${n}` });
        await stack.clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: dlq,
            MessageBody: body,
            MessageAttributes: { 'btp-error': { DataType: 'String', StringValue: `bad ${n}` } },
          }),
        );
      }
      const r = await cli('redrive', 'split', '--max', '2', '--yes');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        "moved 2 message(s) from split's dead-letter queue back to split; 1 left in the dead-letter queue",
      );
      expect(r.stdout.match(/split\.requested run r-dl-\d\n {6}btp-error: bad \d/g)).toHaveLength(2);
      expect(await drain(stack.queueUrl('SplitQueue'))).toHaveLength(2);
      expect((await cli('redrive', 'split', '--max', 'all', '--yes')).code).toBe(2);
      // without --max: what the queue held when it began
      const rest = await cli('redrive', 'split-dlq', '--yes', '--json');
      expect(rest.json()).toMatchObject({
        max: 1,
        moved: 1,
        left: 0,
        messages: [{ error: expect.stringMatching(/^bad \d$/) }],
      });
      await drain(stack.queueUrl('SplitQueue'));
    });

    it('knows every dead-letter queue serverless.yml declares', async () => {
      const dlqs = Object.keys(stack.topology.queues).filter((id) => id.endsWith('DLQ'));
      expect(dlqs.length).toBeGreaterThanOrEqual(8);
      for (const id of dlqs) {
        const step = id.replace(/DLQ$/, '').toLowerCase();
        const r = await cli('redrive', step, '--yes', '--json');
        expect([step, r.code, r.stderr]).toEqual([step, 0, '']);
        expect(r.json()).toMatchObject({ queue: step, from: stack.queueUrl(id), moved: 0 });
      }
    });
  });

  describe('report', () => {
    it("writes report.html and report.md to the run's artifacts and saves the page here", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'btp-report-'));
      try {
        const file = path.join(dir, 'r.html');
        const r = await cli('report', 'r-ok', '--out', file, '--json');
        expect(r.code).toBe(0);
        const bucket = stack.bucketName('ArtifactsBucket');
        expect(r.json()).toEqual({
          runId: 'r-ok',
          status: 'succeeded',
          html: `s3://${bucket}/runs/r-ok/report.html`,
          markdown: `s3://${bucket}/runs/r-ok/report.md`,
          file,
        });
        expect(existsSync(file)).toBe(true);
        const html = readFileSync(file, 'utf8');
        expect(html).toContain('data-chart="loss"');
        expect(html).toContain('data-chart="lengths"');
        const head = await stack.clients.s3.send(
          new HeadObjectCommand({ Bucket: bucket, Key: 'runs/r-ok/report.html' }),
        );
        expect(head.ContentType).toContain('text/html');
        const md = await (
          await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/r-ok/report.md' }))
        ).Body!.transformToString();
        expect(md).toContain('# Run report: r-ok');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('saves no page in the working directory unless asked, and saves it under --out <dir>', async () => {
      const r = await cli('report', 'r-ok');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('add --out <dir> to save the page here');
      expect(existsSync(path.resolve('btp-report-r-ok.html'))).toBe(false);
      const dir = mkdtempSync(path.join(tmpdir(), 'btp-report-'));
      try {
        const saved = await cli('report', 'r-ok', '--out', dir, '--json');
        expect(saved.json()).toMatchObject({ file: path.join(dir, 'btp-report-r-ok.html') });
        expect(readFileSync(path.join(dir, 'btp-report-r-ok.html'), 'utf8')).toContain('data-chart="loss"');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('--print prints the Markdown summary of a run that failed before its job, from the run and its manifest', async () => {
      await stack.clients.s3.send(
        new PutObjectCommand({
          Bucket: stack.bucketName('ArtifactsBucket'),
          Key: 'runs/r-failed/stages/0/manifest.json',
          Body: manifestText,
        }),
      );
      const r = await cli('report', 'r-failed', '--print');
      expect(r.stdout).toContain('limit 300 (dashed), 6 records at or past it');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('# Run report: r-failed');
      expect(r.stdout).toContain('| failure | [submit] ValidationException');
    });
  });
});
