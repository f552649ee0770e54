import { BedrockCallError } from '../../../shared/orchestration/ports';
import { resumeRun, submitJob } from '../../../services/submit/submit';
import { cancelRun, observeJob } from '../../../services/monitor/monitor';
import { expireThroughput, pollThroughput, provisionModel } from '../../../services/provision/provision';
import { sweep } from '../../../services/sweeper/sweeper';
import { retryDelaySeconds } from '../../../shared/orchestration/backoff';
import { toBedrockCallError } from '../../../shared/orchestration/bedrock-adapter';
import { describeWaits } from '../../../cli/commands/runs';
import type { RunConfigInput } from '../../../shared/config/run-config';
import { makeRun, makeWorld, putPrepared, SETTINGS } from '../../helpers/orchestration/fakes';
import { holdAt } from '../../helpers/orchestration/hold';

const RUN = 'run-0001';
const prepared = { kind: 'prepared', manifestKey: `runs/${RUN}/stages/0/manifest.json`, stage: 0 } as const;
const quotaFull = () =>
  new BedrockCallError(
    'quota',
    'ServiceQuotaExceededException',
    'The account already has the maximum of 2 no-commitment Provisioned Throughputs.',
  );
const serverError = () => new BedrockCallError('transient', 'InternalServerException', 'try again');

function given(config: RunConfigInput = {}) {
  const w = makeWorld();
  w.runs.items.set(RUN, makeRun(RUN, config));
  putPrepared(w.objects, RUN, {});
  return w;
}
const status = async (w: ReturnType<typeof given>) => (await w.runs.get(RUN))!;

/** Submits and completes the run's job: the run is `provisioning` with model.ready sent. */
async function trained(w: ReturnType<typeof given>) {
  await submitJob(RUN, prepared, w.deps);
  const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
  await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
  w.take();
  return job.outputModelArn!;
}

describe('waiting for a throughput slot', () => {
  it('queues a trained run on a full throughput quota, retries with backoff, and buys one throughput when a slot frees', async () => {
    const w = given();
    const model = await trained(w);
    w.bedrock.failNext.createThroughput = [quotaFull(), quotaFull()];
    expect(await provisionModel(RUN, model, w.deps)).toBe('queued');
    let run = await status(w);
    expect(run.status).toBe('queued');
    expect(run.failure).toBeUndefined();
    expect(run.waiting).toMatchObject({
      slot: 'throughput',
      quota: { name: 'no-commitment Provisioned Throughputs per account', value: 2 },
      retries: 0,
      reason: expect.stringMatching(/maximum of 2 no-commitment/),
    });
    const [retry0] = w.take('model.ready');
    expect(retry0).toMatchObject({ delaySeconds: 450, message: { payload: { modelArn: model } } });
    expect(describeWaits(run).join('\n')).toMatch(
      /waiting: +for a Provisioned Throughput slot .* quota: no-commitment Provisioned Throughputs per account: 2/,
    );

    // a job.requested copy about the earlier queue does not touch a run queued for a throughput
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'queued', retry: 0 }, w.deps)).toBe('skipped');

    expect(await provisionModel(RUN, model, w.deps)).toBe('queued');
    expect((await status(w)).waiting!.retries).toBe(1);
    expect(w.take('model.ready')[0]!.delaySeconds).toBe(675); // the 900 s ceiling less the jitter

    expect(await provisionModel(RUN, model, w.deps)).toBe('created');
    expect(await provisionModel(RUN, model, w.deps)).toBe('duplicate'); // a copy of the retry
    run = await status(w);
    expect(run.status).toBe('provisioning');
    expect(run.waiting).toBeUndefined();
    expect(run.throughputExpiresAt).toBeDefined();
    expect(w.bedrock.live()).toHaveLength(1);
    expect(w.runs.eventTypes(RUN).filter((t) => /queued|throughput/.test(t))).toEqual([
      'throughput.queued',
      'throughput.created',
    ]);
  });

  it('records the throughput a copy bought after another copy queued the run for a slot, instead of deleting it', async () => {
    // Copy B reads the run in `provisioning` and is held at its create; copy A meets the full quota and queues the
    // run; a slot frees, and B's create succeeds: the run waits for the very throughput B holds.
    const w = given();
    const model = await trained(w);
    const { deps: held, arrived, release } = holdAt(w.deps, 'createThroughput');
    const copyB = provisionModel(RUN, model, held);
    await arrived;
    w.bedrock.failNext.createThroughput = [quotaFull()];
    expect(await provisionModel(RUN, model, w.deps)).toBe('queued');
    expect((await status(w)).status).toBe('queued');
    release();
    expect(await copyB).toBe('created');

    const run = await status(w);
    expect(run).toMatchObject({ status: 'provisioning', provisionedModelArn: w.bedrock.live()[0]!.arn });
    expect(run.waiting).toBeUndefined();
    expect(w.bedrock.live()).toHaveLength(1);
    // copy A's slot retry then finds the throughput recorded
    expect(await provisionModel(RUN, model, w.deps)).toBe('duplicate');
    expect(w.bedrock.live()).toHaveLength(1);
    expect(w.runs.eventTypes(RUN).filter((t) => /queued|throughput/.test(t))).toEqual([
      'throughput.queued',
      'throughput.created',
    ]);
  });

  it("a poll of a run's former throughput writes nothing once a resume has bought another", async () => {
    const w = given();
    const model = await trained(w);
    expect(await provisionModel(RUN, model, w.deps)).toBe('created');
    const first = (await status(w)).provisionedModelArn!;
    // a poll of the first throughput is held at its status call ...
    const { deps: held, arrived, release } = holdAt(w.deps, 'getThroughput');
    const late = pollThroughput(RUN, first, 1, held);
    await arrived;
    // ... while the throughput is deleted, a copy of that poll fails the run, and a resume buys a second throughput
    await w.bedrock.deleteThroughput(first);
    expect(await pollThroughput(RUN, first, 1, w.deps)).toBe('failed');
    expect(await resumeRun(RUN, { fromStage: 'provision' }, w.deps)).toBe('provisioning');
    expect(await provisionModel(RUN, model, w.deps)).toBe('created');
    const second = (await status(w)).provisionedModelArn!;
    expect(second).not.toBe(first);
    release();
    await late;
    const run = await status(w);
    expect(run).toMatchObject({ status: 'provisioning', provisionedModelArn: second, provision: { attempts: 2 } });
    expect(run.failure).toBeUndefined();
  });

  it('still fails a quota no freed slot can meet: a commitment without model units', async () => {
    const w = given({ provisioning: { commitmentDuration: 'OneMonth' } });
    const model = await trained(w);
    w.bedrock.failNext.createThroughput = [quotaFull()];
    expect(await provisionModel(RUN, model, w.deps)).toBe('failed');
    expect((await status(w)).failure).toMatchObject({ stage: 'provision', reason: expect.stringMatching(/quota/) });
  });

  it('the sweeper sends a lost slot retry again, and a cancelled wait stays cancelled', async () => {
    const w = given();
    const model = await trained(w);
    w.bedrock.failNext.createThroughput = [quotaFull()];
    await provisionModel(RUN, model, w.deps);
    w.take();
    expect((await sweep(w.deps)).requeued).toEqual([]); // fresh: its retry is on its way
    w.advance(SETTINGS.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).requeued).toEqual([RUN]);
    expect(w.take('model.ready')[0]!.message.payload).toEqual({ modelArn: model, retry: 0 });
    expect(w.take('job.requested')).toEqual([]);

    expect(await cancelRun(RUN, 'not needed', w.deps)).toBe('cancelled');
    expect(await provisionModel(RUN, model, w.deps)).toBe('stale');
    expect(w.bedrock.live()).toHaveLength(0);
  });
});

describe('transient Bedrock errors', () => {
  it('retries a 5xx at submit with a capped, jittered backoff, records it, and submits one job', async () => {
    const w = given();
    w.bedrock.failNext.createJob = [serverError(), serverError()];
    expect(await submitJob(RUN, prepared, w.deps)).toBe('throttled');
    const run = await status(w);
    expect(run.lastRetry).toMatchObject({ status: 'submitting', step: 'submit', code: 'InternalServerException' });
    expect(describeWaits(run).join()).toMatch(/retrying: +submit: Bedrock InternalServerException/);
    expect(w.take('job.requested')[0]).toMatchObject({ message: { payload: { reason: 'throttled', retry: 0 } } });
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'throttled', retry: 0 }, w.deps)).toBe(
      'throttled',
    );
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'throttled', retry: 1 }, w.deps)).toBe(
      'submitted',
    );
    expect(w.bedrock.jobs.size).toBe(1);
  });

  it('keeps polling a job through a 5xx, and provisioning through a timeout', async () => {
    const w = given();
    await submitJob(RUN, prepared, w.deps);
    const job = w.bedrock.jobs.get(`btp-${RUN}-s0-a1`)!;
    w.take();
    w.bedrock.failNext.getJob = [serverError()];
    expect(await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 3 }, w.deps)).toBe(
      'throttled',
    );
    expect(w.take('job.poll')[0]!.message.payload).toEqual({ jobArn: job.jobArn, attempt: 1, poll: 4, retry: 1 });

    w.bedrock.complete(job.jobName);
    await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 4, retry: 1 }, w.deps);
    const [ready] = w.take('model.ready');
    const timeout = toBedrockCallError(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }));
    w.bedrock.failNext.createThroughput = [timeout as Error];
    const model = (ready!.message.payload as { modelArn: string }).modelArn;
    expect(await provisionModel(RUN, model, w.deps)).toBe('throttled');
    expect(w.take('model.ready')[0]!.message.payload).toEqual({ modelArn: model, retry: 1 });
    expect(await provisionModel(RUN, model, w.deps, undefined, 1)).toBe('created');
    const arn = (await status(w)).provisionedModelArn!;
    w.bedrock.failNext.getThroughput = [serverError()];
    expect(await pollThroughput(RUN, arn, 1, w.deps)).toBe('throttled');
    expect(await pollThroughput(RUN, arn, 2, w.deps)).toBe('creating');
    expect(await pollThroughput(RUN, arn, 2, w.deps)).toBe('stale'); // a copy of a poll made
    expect(w.bedrock.live()).toHaveLength(1);
  });

  it('gives up to SQS after maxThrottleRetries (the sweeper drives the run again later)', async () => {
    const w = given();
    const model = await trained(w);
    w.bedrock.failNext.createThroughput = [serverError()];
    await expect(provisionModel(RUN, model, w.deps, undefined, SETTINGS.maxThrottleRetries)).rejects.toThrow(
      'try again',
    );
  });

  it('waits at most maxRetrySeconds, less up to half at random', () => {
    const settings = { ...SETTINGS, throttleRetrySeconds: 30, maxRetrySeconds: 300 };
    expect([0, 1, 2, 3, 4, 16].map((r) => retryDelaySeconds(r, settings, () => 0))).toEqual([
      30, 60, 120, 240, 300, 300,
    ]);
    expect(retryDelaySeconds(16, settings, () => 0.999)).toBe(150);
  });
});

describe('the sweeper drives every stale run again', () => {
  it('sends the message of each non-final step, and leaves fresh runs alone', async () => {
    const w = given();
    // submitting, left by a submit that gave up
    expect((await sweep(w.deps)).redriven).toEqual([]);
    w.advance(SETTINGS.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).redriven).toEqual([`${RUN}: submitting`]);
    const [again] = w.take('job.requested');
    expect(again!.message.payload).toEqual({ stage: 0, reason: 'redrive', retry: 0 });
    expect(await submitJob(RUN, { kind: 'requested', stage: 0, reason: 'redrive', retry: 0 }, w.deps)).toBe(
      'submitted',
    );

    // provisioning with no throughput yet: model.ready was lost
    const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
    await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
    w.take();
    w.advance(SETTINGS.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).redriven).toEqual([`${RUN}: provisioning`]);
    expect(w.take('model.ready')).toHaveLength(1);
    await provisionModel(RUN, job.outputModelArn!, w.deps);
    w.take();
    // provisioning with a throughput: its poll chain was lost
    w.advance(SETTINGS.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).redriven).toEqual([`${RUN}: provisioning`]);
    expect(w.take('throughput.poll')[0]!.message.payload).toMatchObject({ poll: 1 });
  });

  it('re-plans a stale preparing run, and has ingest plan a requested run from its record', async () => {
    const w = makeWorld();
    const base = makeRun('prep-1');
    w.runs.items.set('prep-1', { ...base, status: 'preparing' });
    w.runs.items.set('req-1', { ...makeRun('req-1'), status: 'requested' });
    w.advance(SETTINGS.staleAfterSeconds + 1);
    const report = await sweep(w.deps);
    expect(report.redriven.sort()).toEqual(['prep-1: preparing', 'req-1: requested']);
    expect(report.stranded).toEqual([]);
    const sent = w.take('stage.requested').map((s) => [s.message.runId, s.message.payload]);
    expect(sent.sort()).toEqual([
      ['prep-1', { stage: 0 }],
      ['req-1', { stage: 0 }],
    ]);
  });
});

describe('a time to live that ends before the throughput is seen in service', () => {
  it('leaves the throughput to the poll instead of failing a trained run', async () => {
    const w = given({ provisioning: { ttlHours: 1 } });
    const model = await trained(w);
    await provisionModel(RUN, model, w.deps);
    const arn = (await status(w)).provisionedModelArn!;
    w.take();
    w.advance(3600 + 1);
    expect(await expireThroughput(RUN, arn, w.deps)).toBe('waiting');
    expect(w.take('throughput.expire')[0]!.delaySeconds).toBe(SETTINGS.throughputPollSeconds);
    w.bedrock.throughputs.get(arn)!.status = 'InService';
    expect(await pollThroughput(RUN, arn, 1, w.deps)).toBe('in-service');
    expect((await status(w)).status).toBe('succeeded');
    expect(await expireThroughput(RUN, arn, w.deps)).toBe('deleted');
    expect(w.bedrock.live()).toHaveLength(0);
  });
});

describe('a time to live that ends while the run is being evaluated', () => {
  it('keeps the throughput until the evaluation ends or stalls, then deletes it', async () => {
    const w = given({ provisioning: { ttlHours: 1, evaluateSamples: 2 } });
    // a held-out test set to evaluate on, as split leaves it
    const prepared = w.runs.items.get(RUN)!;
    prepared.stages[0]!.prepare.counts!.test = 4;
    prepared.stages[0]!.prepare.split!.test.records = 4;
    putPrepared(w.objects, RUN, { test: 4 });
    const model = await trained(w);
    await provisionModel(RUN, model, w.deps);
    const arn = (await status(w)).provisionedModelArn!;
    w.bedrock.throughputs.get(arn)!.status = 'InService';
    expect(await pollThroughput(RUN, arn, 1, w.deps)).toBe('in-service');
    expect((await status(w)).status).toBe('evaluating');
    // the time to live has passed, but the evaluation started moments ago
    w.advance(3600 + 1);
    await w.runs.update(RUN, 'evaluating', {}); // the evaluation's own write (evaluate touches the run as it goes)
    expect((await sweep(w.deps)).deleted).toEqual([]);
    expect(w.bedrock.live()).toHaveLength(1);
    // once the evaluation has stalled past the stale bound, the throughput goes
    w.advance(SETTINGS.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).deleted).toEqual([RUN]);
    expect(w.bedrock.live()).toHaveLength(0);
  });
});
