import { sampleJsonl } from '../../local/sample/generate';
import type { RunConfigInput } from '../../shared/config/run-config';
import { throughputName } from '../../shared/orchestration/naming';
import type { Run } from '../../shared/runs/run';
import { figure, sleep, startRig, type Rig } from './harness';

/**
 * Bedrock faults, injected with the emulator's switches while a run goes through the local stack: each run ends in
 * the right state with the reason recorded, buys no second job or throughput, and every throughput it holds has a time
 * to live.
 */
jest.setTimeout(600_000);

const CONFIG: RunConfigInput = {
  split: { train: 40, validation: 6, test: 0 },
  // A time to live far past each test's look at Bedrock: on the fast clock the default 2 hours pass in seconds.
  // Provisioned Throughput by name: the suite counts each run's throughputs (the default Nova model deploys instead).
  provisioning: { enabled: true, serving: 'provisioned-throughput', evaluateSamples: 0, ttlHours: 10_000 },
};
const DATA = sampleJsonl(60);

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
  rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 100 });
}, 120_000);
afterAll(() => rig?.stop());
afterEach(() => rig.stack.bedrock.faults.reset());

const outcomes: string[] = [];

/** The run of an upload, as soon as it is recorded. */
async function runOf(key: string): Promise<Run> {
  for (;;) {
    const [run] = await rig.runsOf(key);
    if (run) return run;
    await sleep(100);
  }
}

/** Waits until the run holds no throughput in Bedrock (it deletes it after recording the failure). */
async function noThroughputOf(run: Run) {
  const end = Date.now() + 60_000;
  let left = await rig.throughputsOf(run.runId);
  while (left.length && Date.now() < end) {
    await sleep(500);
    left = await rig.throughputsOf(run.runId);
  }
  expect(left.map((t) => `${t.provisionedModelName} ${t.status}`)).toEqual([]);
}

async function expectOneOfEach(run: Run, jobs: number, throughputs: number) {
  expect(await rig.jobsOf(run.runId)).toHaveLength(jobs);
  const tps = await rig.throughputsOf(run.runId);
  expect(tps).toHaveLength(throughputs);
  if (throughputs) expect(Date.parse(run.throughputExpiresAt ?? '')).toBeGreaterThan(Date.parse(run.createdAt));
}

describe('Bedrock faults', () => {
  it('a burst of throttling: the run backs off and succeeds, with one job and one throughput', async () => {
    rig.stack.bedrock.faults.throttleNext(12);
    const run = await rig.endedRunOf(await rig.upload('datasets/faults/throttled.jsonl', DATA, CONFIG), 240_000);
    outcomes.push(`throttling burst: ${run.status}`);
    expect(run.status).toBe('succeeded');
    await expectOneOfEach(run, 1, 1);
  });

  it('internal errors on a third of the calls: retried, the run succeeds with one job and one throughput', async () => {
    rig.stack.bedrock.faults.internalErrorRate(1 / 3);
    const run = await rig.endedRunOf(await rig.upload('datasets/faults/internal.jsonl', DATA, CONFIG), 240_000);
    rig.stack.bedrock.faults.internalErrorRate(0); // before the suite's own look at Bedrock
    outcomes.push(`internal errors: ${run.status}`);
    expect(run.status).toBe('succeeded');
    await expectOneOfEach(run, 1, 1);
  });

  it('a job that fails late: the run fails with the message Bedrock gave, and buys no throughput', async () => {
    const key = await rig.upload('datasets/faults/late.jsonl', DATA, CONFIG);
    const { runId } = await runOf(key);
    rig.stack.bedrock.faults.failJob(`btp-${runId}-s0-a1`, 'Internal error occurred while training (emulated).');
    const run = await rig.endedRunOf(key, 240_000);
    outcomes.push(`job failing late: ${run.status}`);
    expect(run.status).toBe('failed');
    expect(run.failure?.reason).toContain('Internal error occurred while training (emulated).');
    await expectOneOfEach(run, 1, 0);
  });

  it('the concurrent-jobs quota used up: the run waits queued, then submits once a slot frees', async () => {
    rig.stack.bedrock.faults.setQuotas({ concurrentJobs: 0 });
    const key = await rig.upload('datasets/faults/quota.jsonl', DATA, CONFIG);
    let run = await runOf(key);
    for (let i = 0; run.status !== 'queued' && i < 600; i++) {
      await sleep(200);
      run = (await rig.store.get(run.runId))!;
    }
    expect(run.status).toBe('queued');
    rig.stack.bedrock.faults.setQuotas({ concurrentJobs: 2 });
    run = await rig.endedRunOf(key, 240_000);
    outcomes.push(`jobs quota: ${run.status}`);
    expect(run.status).toBe('succeeded');
    expect((await rig.events(run.runId)).map((e) => e.type)).toContain('job.queued');
    await expectOneOfEach(run, 1, 1);
  });

  it('the throughput quota used up: the run waits queued for a slot, then buys its one throughput', async () => {
    rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 0 });
    const key = await rig.upload('datasets/faults/tp-quota.jsonl', DATA, CONFIG);
    let run = await runOf(key);
    for (let i = 0; !(run.status === 'queued' && run.waiting?.slot === 'throughput') && i < 600; i++) {
      await sleep(200);
      run = (await rig.store.get(run.runId))!;
    }
    expect(run).toMatchObject({ status: 'queued', waiting: { slot: 'throughput' } });
    rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 100 });
    run = await rig.endedRunOf(key, 240_000);
    outcomes.push(`throughput quota: ${run.status}`);
    expect(run.status).toBe('succeeded');
    await expectOneOfEach(run, 1, 1);
  });

  it('a throughput whose creation fails: the run fails with the message Bedrock gave, and the throughput is deleted', async () => {
    const key = await rig.upload('datasets/faults/tp-failed.jsonl', DATA, CONFIG);
    const { runId } = await runOf(key);
    rig.stack.bedrock.faults.failThroughput(throughputName(runId, 0), 'Capacity could not be allocated (emulated).');
    const run = await rig.endedRunOf(key, 240_000);
    outcomes.push(`throughput creation failing: ${run.status}`);
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ stage: 'provision', reason: expect.stringContaining('(emulated).') });
    expect(await rig.jobsOf(run.runId)).toHaveLength(1);
    await noThroughputOf(run);
  });

  it('a throughput stuck in Creating: deleted when its time to live ends, and the run fails saying so', async () => {
    // the default time to live (2 hours, seconds on the fast clock): the run must not wait past it
    const config = { ...CONFIG, provisioning: { ...CONFIG.provisioning, ttlHours: 2 } };
    const key = await rig.upload('datasets/faults/tp-stuck.jsonl', DATA, config);
    const { runId } = await runOf(key);
    rig.stack.bedrock.faults.holdThroughput(throughputName(runId, 0));
    const run = await rig.endedRunOf(key, 240_000);
    outcomes.push(`throughput stuck in Creating: ${run.status}`);
    expect(run.status).toBe('failed');
    expect(run.failure?.reason).toMatch(/still Creating when its time to live \(provisioning\.ttlHours: 2\) ended/);
    expect(await rig.jobsOf(run.runId)).toHaveLength(1);
    await noThroughputOf(run);
  });

  afterAll(() => figure(`bedrock faults: ${outcomes.length} scenarios (${outcomes.join(', ')})`));
});
