import { BedrockCallError } from '../../../shared/orchestration/ports';
import { submitJob, resumeRun } from '../../../services/submit/submit';
import { cancelRun, observeJob } from '../../../services/monitor/monitor';
import {
  expireThroughput,
  pollThroughput,
  provisionExistingModel,
  provisionModel,
} from '../../../services/provision/provision';
import { sweep } from '../../../services/sweeper/sweeper';
import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { makeRun, makeWorld, putPrepared, SETTINGS, TITAN_2024 } from '../../helpers/orchestration/fakes';
import { currentJob, runCostEstimateUsd, runMetrics, withCurrentJob } from '../../../shared/runs/record';

const RUN = 'run-0001';
const prepared = { kind: 'prepared', manifestKey: `runs/${RUN}/stages/0/manifest.json`, stage: 0 } as const;

/** A run of the 2024 Titan recipe (what these tests are about), with the catalog read at the recipe's date. */
function given(config: RunConfigInput = {}, data: Parameters<typeof putPrepared>[2] = {}) {
  const world = makeWorld();
  world.deps.settings = { ...SETTINGS, catalogDate: TITAN_RECIPE_DATE };
  const pinned = resolveRunConfig(TITAN_2024, config);
  world.runs.items.set(RUN, makeRun(RUN, pinned));
  putPrepared(world.objects, RUN, { config: pinned, ...data });
  return world;
}

const status = async (w: ReturnType<typeof makeWorld>) => (await w.runs.get(RUN))!;

describe('a fine-tuning run, submit to succeeded', () => {
  it('submits once, follows the job by polls, records metrics and the model, buys throughput with a TTL, succeeds', async () => {
    const w = given();
    // when the prepared dataset arrives (twice: SQS delivers at least once)
    expect(await submitJob(RUN, prepared, w.deps)).toBe('submitted');
    expect(await submitJob(RUN, prepared, w.deps)).toBe('duplicate');
    // then exactly one job, named for the run and attempt, with the cost estimate on the run
    expect(w.bedrock.jobs.size).toBe(1);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    expect(job.request).toMatchObject({
      clientRequestToken: `btp-${RUN}-s0-a1`,
      baseModelIdentifier: 'amazon.titan-text-lite-v1:0:4k',
      trainingS3Uri: `s3://artifacts/runs/${RUN}/stages/0/prepared/train.jsonl`,
      validationS3Uri: `s3://artifacts/runs/${RUN}/stages/0/prepared/validation.jsonl`,
      outputS3Uri: `s3://artifacts/runs/${RUN}/stages/0/output/`,
    });
    let run = await status(w);
    expect(run.status).toBe('training');
    expect(currentJob(run)).toMatchObject({
      status: 'running',
      attempt: 1,
      jobArn: job.jobArn,
      jobStatus: 'InProgress',
    });
    expect(job.jobName).toBe(`btp-${RUN}-s0-a1`);
    expect(runCostEstimateUsd(run)).toBeGreaterThan(0);
    expect(currentJob(run)!.preflight!.costEstimate).toMatchObject({ unknown: ['throughput'] });
    // the redelivery re-sent job.submitted, as the monitor had not polled yet; the monitor drops the copy
    expect(w.take('job.submitted')).toHaveLength(2);

    // the monitor starts one poll chain, however often it hears of the job
    const signal = { kind: 'submitted' as const, runId: RUN, jobArn: job.jobArn, attempt: 1, stage: 0 };
    expect(await observeJob(signal, w.deps)).toBe('polling');
    expect(await observeJob(signal, w.deps)).toBe('duplicate');
    const [poll1] = w.take('job.poll');
    expect(poll1!.delaySeconds).toBe(300);
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'running',
    );
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'duplicate',
    );
    expect(w.take('job.poll')).toHaveLength(1);

    // when the job completes and Bedrock's event arrives (twice)
    const done = w.bedrock.complete(job.jobName);
    const jobId = job.jobArn.split('/').at(-1);
    w.objects.put(
      'artifacts',
      `runs/${RUN}/stages/0/output/model-customization-job-${jobId}/training_artifacts/step_wise_training_metrics.csv`,
      'step_number,epoch_number,training_loss,perplexity\n0,0,2.1,8.1\n1,0,1.234,3.43\n',
    );
    w.objects.put(
      'artifacts',
      `runs/${RUN}/stages/0/output/model-customization-job-${jobId}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
      'step_number,epoch_number,validation_loss,perplexity\n1,0,1.456,4.28\n',
    );
    const event = { kind: 'event' as const, jobName: job.jobName, jobArn: job.jobArn, jobStatus: 'Completed' };
    expect(await observeJob(event, w.deps)).toBe('completed');
    expect(await observeJob(event, w.deps)).toBe('stale');
    run = await status(w);
    expect(run).toMatchObject({ status: 'provisioning', modelArn: done.outputModelArn });
    expect(runMetrics(run)).toEqual({ trainingLoss: 1.234, validationLoss: 1.456 });
    const [ready] = w.take('model.ready');

    // then provision buys one throughput, with a time to live, however often model.ready arrives
    expect(ready!.message.payload).toEqual({ modelArn: done.outputModelArn, retry: 0 });
    expect(
      await provisionModel(RUN, 'arn:aws:bedrock:us-east-1:000000000000:custom-model/other/abcdefabcdef', w.deps),
    ).toBe('stale');
    expect(await provisionModel(RUN, done.outputModelArn!, w.deps)).toBe('created');
    expect(await provisionModel(RUN, done.outputModelArn!, w.deps)).toBe('duplicate');
    expect(w.bedrock.live()).toHaveLength(1);
    const pt = w.bedrock.live()[0]!;
    expect(pt.request).toMatchObject({
      name: `btp-${RUN}-s0-pt`,
      clientRequestToken: `btp-${RUN}-s0-pt`,
      modelUnits: 1,
    });
    expect(pt.request.commitmentDuration).toBeUndefined();
    run = await status(w);
    expect(run.provisionedModelArn).toBe(pt.arn);
    expect(run.throughputExpiresAt).toBe('2026-01-01T02:00:00.000Z');
    expect(w.take('throughput.expire')[0]!.delaySeconds).toBe(900);

    expect(await pollThroughput(RUN, pt.arn, 1, w.deps)).toBe('creating');
    pt.status = 'InService';
    w.bedrock.throughputs.get(pt.arn)!.status = 'InService';
    expect(await pollThroughput(RUN, pt.arn, 2, w.deps)).toBe('in-service');
    run = await status(w);
    expect(run.status).toBe('succeeded');
    expect(w.runs.eventTypes(RUN)).toEqual([
      'preflight.passed',
      'job.submitted',
      'job.completed',
      'throughput.created',
      'throughput.in-service',
    ]);

    // and the time to live deletes the throughput: early messages wait, the due one deletes, a late one does nothing
    expect(await expireThroughput(RUN, pt.arn, w.deps)).toBe('waiting');
    w.advance(2 * 3600);
    expect(await expireThroughput(RUN, pt.arn, w.deps)).toBe('deleted');
    expect(await expireThroughput(RUN, pt.arn, w.deps)).toBe('already-deleted');
    expect(w.bedrock.live()).toHaveLength(0);
    expect((await status(w)).throughputExpiresAt).toBeUndefined();
    // and operations' figures count the one job and the two hours the throughput was held, once each
    expect(w.figures).toEqual([
      ['JobsSubmitted', 1],
      ['ThroughputHours', 2],
    ]);
  });

  it('goes straight to succeeded when provisioning is disabled', async () => {
    const w = given({ provisioning: { enabled: false } });
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'completed',
    );
    expect(await status(w)).toMatchObject({ status: 'succeeded' });
    expect(runMetrics(await status(w))).toEqual({ trainingLoss: 1.5, validationLoss: 1.7 });
    expect(w.take('model.ready')).toHaveLength(0);
  });

  it('finds the job an earlier delivery created but did not record (name in use)', async () => {
    const w = given();
    await w.bedrock.createJob({ ...(await firstRequest()), clientRequestToken: 'other-token' });
    expect(await submitJob(RUN, prepared, w.deps)).toBe('submitted');
    expect(w.bedrock.jobs.size).toBe(1);
    async function firstRequest() {
      return {
        jobName: `btp-${RUN}-s0-a1`,
        customModelName: `btp-${RUN}-s0-a1`,
        roleArn: 'r',
        clientRequestToken: 't',
        baseModelIdentifier: 'amazon.titan-text-lite-v1:0:4k',
        customizationType: 'FINE_TUNING' as const,
        trainingS3Uri: 's3://a/b',
        outputS3Uri: 's3://a/o/',
        hyperParameters: {},
      };
    }
  });

  it('resends job.submitted when a redelivery finds the run training but never polled', async () => {
    const w = given();
    await submitJob(RUN, prepared, w.deps);
    w.take();
    expect(await submitJob(RUN, prepared, w.deps)).toBe('duplicate');
    expect(w.take('job.submitted')).toHaveLength(1);
  });
});

describe('preflight and budget', () => {
  it.each([
    [
      { training: { hyperParameters: { epochCount: '11', batchSize: '1', learningRate: '0.00001' } } },
      {},
      /epochCount value 11 is out of range/,
    ],
    [
      { training: { hyperParameters: { epochCount: '1', batchSize: '8', learningRate: '0.00001' } } },
      {},
      /batchSize 8 .* would fail after it starts/,
    ],
    [
      { training: { baseModelId: 'amazon.titan-text-lite-v1' } },
      {},
      /on-demand inference id; customization needs amazon.titan-text-lite-v1:0:4k/,
    ],
    [{ training: { quotas: { maxTrainingRecords: 10 } } }, {}, /20 training records exceed the quota of 10/],
    [{}, { longRecordTokens: 5000 }, /over Titan Text G1 - Lite's limit of 4096 per record/],
  ])('fails the run in seconds, before Bedrock is called: %j', async (config, data, reason) => {
    const w = given(config as RunConfigInput, data);
    expect(await submitJob(RUN, prepared, w.deps)).toBe('failed');
    const run = await status(w);
    expect(run.status).toBe('failed');
    expect(run.failure!.reason).toMatch(reason);
    expect(run.failure!.hint).toMatch(/then upload the data again with the new configuration/);
    expect(w.bedrock.calls).toEqual([]);
  });

  it('blocks submission over budget with the estimate in the message', async () => {
    const w = given({ training: { budgetUsd: 0.5 } });
    expect(await submitJob(RUN, prepared, w.deps)).toBe('failed');
    expect((await status(w)).failure!.reason).toMatch(/estimated cost \$1.95\d* exceeds the budget of \$0.5/);
    expect(w.bedrock.calls).toEqual([]);
  });

  it('fails with a hint about the role on access denied', async () => {
    const w = given();
    w.bedrock.failNext.createJob = [
      new BedrockCallError('access-denied', 'AccessDeniedException', 'not authorized to perform iam:PassRole'),
    ];
    expect(await submitJob(RUN, prepared, w.deps)).toBe('failed');
    expect((await status(w)).failure!.reason).toMatch(
      /BTP_BEDROCK_ROLE_ARN.*trusts bedrock.amazonaws.com.*iam:PassRole/,
    );
  });
});

describe('quota and throttling', () => {
  it('queues the run on the concurrent-jobs quota, retries later, then submits', async () => {
    const w = given();
    w.bedrock.failNext.createJob = [
      new BedrockCallError('quota', 'ServiceQuotaExceededException', 'too many jobs'),
      new BedrockCallError('quota', 'ServiceQuotaExceededException', 'too many jobs'),
    ];
    expect(await submitJob(RUN, prepared, w.deps)).toBe('queued');
    expect((await status(w)).status).toBe('queued');
    const [retry0] = w.take('job.requested');
    expect(retry0).toMatchObject({
      queueUrl: 'q://submit',
      delaySeconds: 450, // 600 less up to half of it at random (0.5 here)
      message: { payload: { reason: 'queued', retry: 0 } },
    });
    expect(await submitJob(RUN, prepared, w.deps)).toBe('duplicate'); // a redelivered dataset.prepared waits for the retry
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'queued', retry: 0 }, w.deps)).toBe('queued');
    const [retry1] = w.take('job.requested');
    expect(retry1!.delaySeconds).toBe(675); // the 900 s ceiling less the jitter
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'queued', retry: 1 }, w.deps)).toBe('submitted');
    expect(w.runs.eventTypes(RUN)).toEqual([
      'preflight.passed',
      'job.queued',
      'submit.retry',
      'job.queued',
      'submit.retry',
      'job.submitted',
    ]);
    expect(w.bedrock.jobs.size).toBe(1);
  });

  it('backs off on throttling, then gives up to the queue', async () => {
    const w = given();
    const throttle = () => new BedrockCallError('throttled', 'ThrottlingException', 'slow down');
    w.bedrock.failNext.createJob = [throttle(), throttle()];
    expect(await submitJob(RUN, prepared, w.deps)).toBe('throttled');
    expect(w.take('job.requested')[0]).toMatchObject({
      delaySeconds: 23,
      message: { payload: { reason: 'throttled', retry: 0 } },
    });
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'throttled', retry: 0 }, w.deps)).toBe(
      'throttled',
    );
    expect(w.take('job.requested')[0]!.delaySeconds).toBe(45);
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'throttled', retry: 1 }, w.deps)).toBe(
      'submitted',
    );
    w.bedrock.failNext.createJob = [throttle()];
    const w2 = given();
    w2.bedrock.failNext.createJob = [throttle()];
    await expect(
      submitJob(RUN, { kind: 'requested', stage: 0, reason: 'throttled', retry: 3 }, w2.deps),
    ).rejects.toThrow('slow down');
  });
});

describe('the batch-size trap', () => {
  const trap = {
    training: {
      knownTraps: 'warn' as const,
      hyperParameters: { epochCount: '1', batchSize: '8', learningRate: '0.00001' },
    },
  };

  it('resubmits once with a batch size the token limits cover', async () => {
    const w = given(trap);
    expect(await submitJob(RUN, prepared, w.deps)).toBe('submitted');
    expect((await status(w)).warnings!.join()).toMatch(/batchSize 8/);
    w.bedrock.fail(`btp-${RUN}-s0-a1`, 'Max sum of input and output token length 2100 exceeds total limit of 2048');
    const first = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    expect(
      await observeJob({ kind: 'event', jobName: first.jobName, jobArn: first.jobArn, jobStatus: 'Failed' }, w.deps),
    ).toBe('remediating');
    const run = await status(w);
    expect(run.status).toBe('submitting');
    expect(currentJob(run)).toMatchObject({
      attempt: 2,
      hyperParameters: { batchSize: '2' },
      remediation: { from: '8', to: '2' },
    });
    const [req] = w.take('job.requested');
    expect(
      await submitJob(
        RUN,
        { kind: 'requested', ...(req!.message.payload as { stage: number; reason: 'remediation'; retry: number }) },
        w.deps,
      ),
    ).toBe('submitted');
    const second = w.bedrock.jobs.get(`btp-${RUN}-s0-a2`)!;
    expect(second.request.hyperParameters.batchSize).toBe('2');
    // a late signal about the first job is ignored
    expect(
      await observeJob({ kind: 'event', jobName: first.jobName, jobArn: first.jobArn, jobStatus: 'Failed' }, w.deps),
    ).toBe('stale');
    // and a second trap failure is not remediated again
    w.bedrock.fail(second.jobName, 'Max sum of input and output token length 2100 exceeds total limit of 2048');
    expect(
      await observeJob({ kind: 'event', jobName: second.jobName, jobArn: second.jobArn, jobStatus: 'Failed' }, w.deps),
    ).toBe('failed');
    expect((await status(w)).failure!.reason).toMatch(/failed: Max sum .* reduce batchSize/);
  });

  it('fails without remediation when the configuration does not allow it', async () => {
    const w = given({ training: { ...trap.training, autoRemediate: false } });
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    w.bedrock.fail(job.jobName, 'Max sum of input and output token length 2100 exceeds total limit of 2048');
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'failed',
    );
  });
});

describe('max duration', () => {
  it('flags a job running past training.maxJobHours, once', async () => {
    const w = given({ training: { maxJobHours: 2 } });
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    w.advance(3 * 3600);
    await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
    await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 2 }, w.deps);
    const run = await status(w);
    expect(run.status).toBe('training');
    expect(run.warnings!.filter((x) => /over training.maxJobHours \(2 h\)/.test(x))).toHaveLength(1);
    expect(w.runs.eventTypes(RUN).filter((t) => t === 'job.overdue')).toHaveLength(1);
  });
});

describe('writes that race', () => {
  it("a completed job's record keeps what another delivery wrote on it between the completion's read and its write", async () => {
    const w = given();
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
    // The job-overdue check of another delivery records itself on the job after this poll has read the run.
    const overdue = { at: w.now().toISOString(), hours: 3 };
    const transition = w.runs.transition.bind(w.runs);
    let raced = false;
    w.runs.transition = async (...args) => {
      if (!raced) {
        raced = true;
        await w.runs.update(RUN, 'training', (current) => ({ stages: withCurrentJob(current, { overdue }) }));
      }
      return transition(...args);
    };
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'completed',
    );
    expect(raced).toBe(true);
    expect(currentJob(await status(w))).toMatchObject({ status: 'done', overdue });
  });
});

async function toProvisioned(w: ReturnType<typeof given>) {
  await submitJob(RUN, prepared, w.deps);
  const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
  await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
  await provisionModel(RUN, job.outputModelArn!, w.deps);
  return { job, pt: w.bedrock.live()[0]! };
}

describe('time to live and the sweeper', () => {
  it('deletes an expired throughput from the table alone, when every delayed message was lost', async () => {
    const w = given();
    const { pt } = await toProvisioned(w);
    w.bedrock.throughputs.get(pt.arn)!.status = 'InService';
    await pollThroughput(RUN, pt.arn, 1, w.deps);
    w.take(); // every delayed message is dropped
    expect((await sweep(w.deps)).deleted).toEqual([]);
    w.advance(2 * 3600 + 1);
    expect((await sweep(w.deps)).deleted).toEqual([RUN]);
    expect(w.bedrock.live()).toHaveLength(0);
    expect((await sweep(w.deps)).deleted).toEqual([]);
    const hours = w.figures.filter(([figure]) => figure === 'ThroughputHours');
    expect(hours).toHaveLength(1);
    expect(hours[0]![1]).toBeCloseTo(2, 3);
  });

  it("a deletion keeps what a poll wrote on the provision record between the deletion's read and its write", async () => {
    const w = given();
    const { pt } = await toProvisioned(w);
    // Another delivery's poll records itself on the provision record after the expiry has read the run, before the
    // expiry writes (the store applies each write to the run as it finds it, as DynamoRunStore does after a conflict).
    const transition = w.runs.transition.bind(w.runs);
    let raced = false;
    w.runs.transition = async (...args) => {
      if (!raced) {
        raced = true;
        await w.runs.update(RUN, 'provisioning', (current) => ({ provision: { ...current.provision!, lastPoll: 7 } }));
      }
      return transition(...args);
    };
    expect(await expireThroughput(RUN, pt.arn, w.deps, { force: true })).toBe('deleted');
    expect(raced).toBe(true);
    const run = await status(w);
    expect(run.status).toBe('failed');
    expect(run.provision).toMatchObject({ lastPoll: 7, status: 'failed', deletedAt: w.now().toISOString() });
    expect(run.throughputExpiresAt).toBeUndefined();
  });

  it('never gives a commitment term a time to live', async () => {
    const w = given({ provisioning: { commitmentDuration: 'OneMonth' } });
    const { pt } = await toProvisioned(w);
    expect(pt.request.commitmentDuration).toBe('OneMonth');
    expect((await status(w)).throughputExpiresAt).toBeUndefined();
  });

  it('re-kicks a run whose queued retry was lost', async () => {
    const w = given();
    w.bedrock.failNext.createJob = [new BedrockCallError('quota', 'ServiceQuotaExceededException', 'too many jobs')];
    await submitJob(RUN, prepared, w.deps);
    w.take();
    w.advance(3600);
    expect((await sweep(w.deps)).requeued).toEqual([RUN]);
    expect(w.take('job.requested')).toHaveLength(1);
  });
});

describe('control messages', () => {
  it('cancel stops the job and the run; a late poll then does nothing', async () => {
    const w = given();
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    expect(await cancelRun(RUN, 'wrong data', w.deps)).toBe('cancelled');
    expect(job.status).toBe('Stopped');
    expect(await status(w)).toMatchObject({ status: 'cancelled', failure: { stage: 'cancel', reason: 'wrong data' } });
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps)).toBe(
      'stale',
    );
  });

  it('cancel of a provisioning run deletes its throughput', async () => {
    const w = given();
    const { pt } = await toProvisioned(w);
    w.take();
    expect(await cancelRun(RUN, 'no longer needed', w.deps)).toBe('cancelled');
    const [expire] = w.take('throughput.expire');
    expect(
      await expireThroughput(
        RUN,
        (expire!.message.payload as { provisionedModelArn: string }).provisionedModelArn,
        w.deps,
      ),
    ).toBe('deleted');
    expect(w.bedrock.throughputs.get(pt.arn)!.deleted).toBe(true);
  });

  it('resume from train makes a new attempt on the same prepared data', async () => {
    const w = given();
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    w.bedrock.fail(job.jobName, 'Encountered an unexpected error when processing the request, please try again');
    await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
    expect((await status(w)).status).toBe('failed');
    expect(await resumeRun(RUN, { fromStage: 'train', hyperParameters: { epochCount: '2' } }, w.deps)).toBe(
      'submitted',
    );
    const run = await status(w);
    expect(run.status).toBe('training');
    expect(currentJob(run)).toMatchObject({ attempt: 2, jobArn: w.bedrock.jobs.get(`btp-${RUN}-s0-a2`)!.jobArn });
    expect(run.failure).toBeUndefined();
    expect(w.bedrock.jobs.get(`btp-${RUN}-s0-a2`)!.request.hyperParameters).toMatchObject({
      epochCount: '2',
      batchSize: '1',
    });
    expect(await resumeRun(RUN, { fromStage: 'train' }, w.deps)).toBe('not-failed');
  });

  it('provisions an existing custom model again after its throughput expired', async () => {
    const w = given();
    const { job, pt } = await toProvisioned(w);
    w.bedrock.throughputs.get(pt.arn)!.status = 'InService';
    await pollThroughput(RUN, pt.arn, 1, w.deps);
    w.advance(3 * 3600);
    await expireThroughput(RUN, pt.arn, w.deps);
    // the same name is free again once deleted, so the fake hands out a new throughput
    expect(await provisionExistingModel(RUN, { modelArn: job.outputModelArn!, ttlHours: 1 }, w.deps)).toBe('created');
    const run = await status(w);
    expect(run.status).toBe('provisioning');
    expect(run.provisionedModelArn).not.toBe(pt.arn);
    expect(run.throughputExpiresAt).toBe(new Date(w.now().getTime() + 3600_000).toISOString());
    expect(await provisionExistingModel('new-run', { modelArn: job.outputModelArn! }, w.deps)).toBe('created');
    expect((await w.runs.get('new-run'))!.status).toBe('provisioning');
  });
});
