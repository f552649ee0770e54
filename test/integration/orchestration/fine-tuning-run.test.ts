import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

import {
  BedrockClient,
  DeleteProvisionedModelThroughputCommand,
  ListModelCustomizationJobsCommand,
  ListProvisionedModelThroughputsCommand,
} from '@aws-sdk/client-bedrock';
import { throughputName } from '../../../shared/orchestration/naming';
import { handler as submit } from '../../../services/submit/handler';
import { handler as monitor } from '../../../services/monitor/handler';
import { handler as provision } from '../../../services/provision/handler';
import { handler as sweeper } from '../../../services/sweeper/handler';
import { buildMessage } from '../../../shared/messages/envelope';
import { RunCancel, RunResume } from '../../../shared/messages/control';
import type { Run } from '../../../shared/runs/run';
import {
  context,
  drive,
  givenPreparedRun,
  records,
  send,
  startLocalEnv,
  type LocalEnv,
} from '../../helpers/orchestration/local-env';
import { currentJob, runCostEstimateUsd, runMetrics } from '../../../shared/runs/record';

/** The 2024 Titan recipe's configuration, with a test's own settings over it. */
const titan = (config: RunConfigInput = {}) => resolveRunConfig(TITAN_2024, config);

jest.setTimeout(120_000);

let env: LocalEnv;
let bedrock: BedrockClient;
const handlers = { submit, monitor, provision };

beforeAll(async () => {
  // These runs are the 2024 Titan recipe's (prompt/completion records): Bedrock as it was then.
  env = await startLocalEnv({ catalogDate: TITAN_RECIPE_DATE });
  bedrock = new BedrockClient({ endpoint: env.env.AWS_ENDPOINT_URL_BEDROCK, maxAttempts: 1 });
});
afterAll(async () => {
  bedrock?.destroy();
  await env?.close();
});
afterEach(() => {
  env.options.dropEvents = false;
  env.bedrock.faults.reset();
});

const run = async (runId: string) => (await env.runs.get(runId))!;
const inStatus =
  (runId: string, ...statuses: Run['status'][]) =>
  async () =>
    statuses.includes((await run(runId)).status);
/** The run has ended again after a resume: succeeded, or failed with a failure recorded after the resume. */
const endedAfterResume = (runId: string) => async () => {
  const r = await run(runId);
  const resumed = (await env.runs.listEvents(runId)).some((e) => e.type === 'run.resumed');
  return resumed && (r.status === 'succeeded' || r.status === 'failed');
};
const jobsOf = async (runId: string) =>
  (await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: runId }))).modelCustomizationJobSummaries ??
  [];
const throughputsOf = async (runId: string) =>
  (await bedrock.send(new ListProvisionedModelThroughputsCommand({ nameContains: runId }))).provisionedModelSummaries ??
  [];

describe('a fine-tuning run through the local stack', () => {
  it('goes from dataset.prepared to succeeded with metrics and throughput, once, under duplicated messages', async () => {
    // given a prepared run, and a queue that delivers every message twice
    // (a time to live of 100 modelled hours: 100 s on the emulator's clock, longer than the run takes)
    const prepared = await givenPreparedRun(env, 'ft-dup', titan({ provisioning: { ttlHours: 100 } }), {
      train: records(40),
      validation: records(8, 100),
    });
    await send(env, 'submit', prepared);
    // when the handlers run until the run ends, every message delivered twice
    await drive(env, handlers, inStatus('ft-dup', 'succeeded', 'failed'), { beforeInvoke: () => 'duplicate' });
    // and the dataset.prepared message is replayed after the run ended
    await send(env, 'submit', prepared);
    await drive(env, handlers, async () => false, { timeoutMs: 1500 }).catch(() => undefined);
    // then it succeeded with one job, its metrics, one throughput in service with a time to live
    const r = await run('ft-dup');
    expect(r.failure).toBeUndefined();
    expect(r.status).toBe('succeeded');
    expect(runMetrics(r)!.trainingLoss).toEqual(expect.any(Number));
    expect(runMetrics(r)!.validationLoss).toEqual(expect.any(Number));
    expect(r.modelArn).toMatch(/custom-model\/amazon.titan-text-lite-v1:0:4k\//);
    expect(r.provisionedModelArn).toMatch(/provisioned-model\//);
    expect(new Date(r.throughputExpiresAt!).getTime()).toBeGreaterThan(Date.now());
    expect(runCostEstimateUsd(r)).toBeGreaterThan(0);
    expect(await jobsOf('ft-dup')).toHaveLength(1);
    expect(await throughputsOf('ft-dup')).toHaveLength(1);
    const types = (await env.runs.listEvents('ft-dup')).map((e) => e.type);
    // Concurrent copies of model.ready may each record the (same) throughput; each state change happens once.
    for (const once of ['preflight.passed', 'job.submitted', 'job.completed', 'throughput.in-service']) {
      expect(types.filter((t) => t === once)).toEqual([once]);
    }
    expect(types.filter((t) => t === 'throughput.created').length).toBeGreaterThanOrEqual(1);
  });

  it('fails a run in preflight without calling Bedrock', async () => {
    const prepared = await givenPreparedRun(
      env,
      'ft-preflight',
      titan({ training: { hyperParameters: { epochCount: '1', batchSize: '8', learningRate: '0.00001' } } }),
      { train: records(10) },
    );
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus('ft-preflight', 'failed', 'training'));
    const r = await run('ft-preflight');
    expect(r.status).toBe('failed');
    expect(r.failure!.reason).toMatch(/preflight failed: batchSize 8/);
    expect(await jobsOf('ft-preflight')).toHaveLength(0);
  });

  it('remediates the batch-size trap: the emulator fails the job, the run resubmits with a covered batch size', async () => {
    env.options.dropEvents = true; // and follows the jobs by polling alone
    const prepared = await givenPreparedRun(
      env,
      'ft-trap',
      titan({
        provisioning: { enabled: false },
        training: { knownTraps: 'warn', hyperParameters: { epochCount: '1', batchSize: '8', learningRate: '0.00001' } },
      }),
      { train: records(20) },
    );
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus('ft-trap', 'succeeded', 'failed'));
    const r = await run('ft-trap');
    expect(r.status).toBe('succeeded');
    // the records are short, so the largest batch size with a token limit (6: 2,048 tokens, docs/bedrock-api.md §7.2)
    // holds them
    expect(currentJob(r)).toMatchObject({
      attempt: 2,
      hyperParameters: { batchSize: '6' },
      remediation: { from: '8', to: '6' },
    });
    const jobs = await jobsOf('ft-trap');
    expect(jobs.map((j) => `${j.jobName}:${j.status}`).sort()).toEqual([
      'btp-ft-trap-s0-a1:Failed',
      'btp-ft-trap-s0-a2:Completed',
    ]);
  });

  it('queues on the concurrent-jobs quota and submits when a slot frees', async () => {
    env.bedrock.faults.setQuotas({ concurrentJobs: 0 });
    const prepared = await givenPreparedRun(env, 'ft-quota', titan({ provisioning: { enabled: false } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus('ft-quota', 'queued'));
    env.bedrock.faults.setQuotas({ concurrentJobs: 2 });
    await drive(env, handlers, inStatus('ft-quota', 'succeeded', 'failed'));
    const types = (await env.runs.listEvents('ft-quota')).map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['run.created', 'preflight.passed', 'job.queued', 'submit.retry']);
    expect((await run('ft-quota')).status).toBe('succeeded');
    expect(await jobsOf('ft-quota')).toHaveLength(1);
  });

  it('backs off on throttling and then submits', async () => {
    const prepared = await givenPreparedRun(env, 'ft-throttle', titan({ provisioning: { enabled: false } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    env.bedrock.faults.throttleNext(2);
    await drive(env, handlers, inStatus('ft-throttle', 'training', 'failed'));
    expect((await run('ft-throttle')).status).toBe('training');
    expect(await jobsOf('ft-throttle')).toHaveLength(1);
  });

  it('deletes the throughput when its time to live ends, also when the delayed message was dropped', async () => {
    const prepared = await givenPreparedRun(env, 'ft-ttl', titan({ provisioning: { ttlHours: 0.001 } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    const dropExpiry = (_q: string, body: string) =>
      (body.includes('"throughput.expire"') ? 'drop' : 'deliver') as 'drop' | 'deliver';
    await drive(env, handlers, inStatus('ft-ttl', 'succeeded', 'failed'), { beforeInvoke: dropExpiry });
    const r = await run('ft-ttl');
    expect(r.status).toBe('succeeded');
    expect(await throughputsOf('ft-ttl')).toHaveLength(1);
    await new Promise((res) =>
      setTimeout(res, Math.max(0, new Date(r.throughputExpiresAt!).getTime() - Date.now()) + 100),
    );
    const report = await sweeper({}, context('sweeper'));
    expect(report.deleted).toContain('ft-ttl');
    expect(await throughputsOf('ft-ttl')).toHaveLength(0);
    expect((await run('ft-ttl')).throughputExpiresAt).toBeUndefined();
  });

  it('cancels a training run: the job is stopped', async () => {
    // The job trains until it is stopped: on the fast clock it could otherwise complete before the cancel is read.
    env.bedrock.faults.holdJob('btp-ft-cancel-s0-a1');
    const prepared = await givenPreparedRun(env, 'ft-cancel', titan(), { train: records(2000) });
    await send(env, 'submit', prepared);
    await drive(env, { submit }, inStatus('ft-cancel', 'training', 'failed'));
    await send(env, 'monitor', JSON.stringify(buildMessage(RunCancel, 'ft-cancel', { reason: 'wrong dataset' })));
    await drive(env, handlers, inStatus('ft-cancel', 'cancelled'));
    await drive(env, handlers, async () =>
      ['Stopping', 'Stopped'].includes((await jobsOf('ft-cancel'))[0]?.status ?? ''),
    );
    expect((await run('ft-cancel')).failure).toMatchObject({ stage: 'cancel', reason: 'wrong dataset' });
  });

  it('resumes a failed run from train with a new attempt on the same prepared data', async () => {
    env.bedrock.faults.failJob(
      'btp-ft-resume-s0-a1',
      'Encountered an unexpected error when processing the request, please try again',
    );
    const prepared = await givenPreparedRun(env, 'ft-resume', titan({ provisioning: { enabled: false } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus('ft-resume', 'failed'));
    expect((await run('ft-resume')).failure!.reason).toMatch(/unexpected error/);
    await send(
      env,
      'submit',
      JSON.stringify(
        buildMessage(RunResume, 'ft-resume', { fromStage: 'train', hyperParameters: { epochCount: '2' } }),
      ),
    );
    await drive(env, handlers, inStatus('ft-resume', 'succeeded'));
    const jobs = await jobsOf('ft-resume');
    expect(jobs.map((j) => `${j.jobName}:${j.status}`).sort()).toEqual([
      'btp-ft-resume-s0-a1:Failed',
      'btp-ft-resume-s0-a2:Completed',
    ]);
    expect((await run('ft-resume')).failure).toBeUndefined();
  });
  it("buys a new throughput when a run whose throughput failed is resumed from provision (the first one's token would answer with the deleted throughput)", async () => {
    const runId = 'ft-pt-resume';
    env.bedrock.faults.setQuotas({ noCommitmentThroughputs: 10 }); // the first test's throughput is still live
    env.bedrock.faults.failThroughput(throughputName(runId, 0), 'Injected: no capacity for this model');
    const prepared = await givenPreparedRun(env, runId, titan({ provisioning: { ttlHours: 100 } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    await drive(env, handlers, inStatus(runId, 'failed'));
    const failed = await run(runId);
    expect(failed.failure!.reason).toMatch(/Injected: no capacity/);

    await send(env, 'submit', JSON.stringify(buildMessage(RunResume, runId, { fromStage: 'provision' })));
    await drive(env, handlers, endedAfterResume(runId));
    const resumed = await run(runId);
    expect(resumed).toMatchObject({ status: 'succeeded', provision: { attempts: 2, status: 'done' } });
    expect(resumed.provisionedModelArn).not.toBe(failed.provisionedModelArn);
    expect((await throughputsOf(runId)).map((t) => `${t.provisionedModelArn}:${t.status}`)).toEqual([
      `${resumed.provisionedModelArn}:InService`,
    ]);
  });

  it('fails a run whose throughput is deleted before it is in service, instead of polling it for ever; a resume buys another', async () => {
    const runId = 'ft-pt-gone';
    // The runs before this one keep their throughputs (a time to live of 100 modelled hours): room for two more.
    env.bedrock.faults.setQuotas({ noCommitmentThroughputs: 10 });
    env.bedrock.faults.holdThroughput(throughputName(runId, 0));
    const prepared = await givenPreparedRun(env, runId, titan({ provisioning: { ttlHours: 100 } }), {
      train: records(10),
    });
    await send(env, 'submit', prepared);
    await drive(env, handlers, async () => (await run(runId)).provisionedModelArn !== undefined);
    const bought = (await run(runId)).provisionedModelArn!;
    await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: bought }));
    env.bedrock.faults.reset();
    await drive(env, handlers, inStatus(runId, 'failed', 'succeeded'));
    expect((await run(runId)).failure).toMatchObject({
      stage: 'provision',
      reason: `Provisioned Throughput ${bought} no longer exists: it was deleted before it was in service`,
      hint: expect.stringContaining(`btp resume ${runId} --from provision`),
    });

    await send(env, 'submit', JSON.stringify(buildMessage(RunResume, runId, { fromStage: 'provision' })));
    await drive(env, handlers, endedAfterResume(runId));
    const resumed = await run(runId);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.provisionedModelArn).not.toBe(bought);
  });
});
