import { buildDeps as monitorDeps } from '../../../services/monitor/deps';
import { observeJob } from '../../../services/monitor/monitor';
import { buildDeps as submitDeps } from '../../../services/submit/deps';
import { submitJob, type SubmitTrigger } from '../../../services/submit/submit';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import type { Send } from '../../../shared/messages/send';
import type { Run } from '../../../shared/runs/run';
import { currentJob, currentPart, withPrepare } from '../../../shared/runs/record';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';
import { holdAt } from '../../helpers/orchestration/hold';
import { givenPreparedRun, records, startLocalEnv, type LocalEnv } from '../../helpers/orchestration/local-env';

/**
 * A late copy of a message: SQS delivers at least once, the split and the monitor send a step's message again when
 * they cannot tell it went out, and under load a copy that read the run can be held up for seconds before it writes.
 * A chained run comes back to the same statuses for each of its jobs (submitting, training), so a copy that read the
 * run at one job and writes at the next must write nothing. Seen once in the chained-run test under a load of 20-30:
 * four job.submitted for three jobs. Each copy here is held at a named call (its other calls are the real ones, on
 * the emulators) while the other copies move the run on.
 */
jest.setTimeout(120_000);

let env: LocalEnv;
beforeAll(async () => {
  // Jobs train for three modelled hours (three seconds), so a poll right after the submission finds the job running;
  // and the tests' jobs may overlap.
  env = await startLocalEnv({
    catalogDate: TITAN_RECIPE_DATE,
    bedrock: { timings: { minTrainingMs: 3 * 3_600_000 }, quotas: { concurrentJobs: 10 } },
  });
});
afterAll(async () => {
  await env?.close();
});

const run = async (runId: string) => (await env.runs.get(runId))!;
const eventsOf = async (runId: string, type: string) =>
  (await env.runs.listEvents(runId))
    .filter((e) => e.type === type)
    .map((e) => `${e.seq} ${e.from}>${e.to} ${JSON.stringify(e.detail?.jobName ?? e.detail?.jobArn ?? '')}`);
const prepared = (stage = 0): SubmitTrigger => ({ kind: 'prepared', manifestKey: 'm', stage });

/** A run prepared for two sequential jobs (parts), both on the stage's prepared data, waiting in `submitting`. */
async function givenTwoPartRun(runId: string): Promise<void> {
  await givenPreparedRun(env, runId, resolveRunConfig(TITAN_2024), { train: records(40), validation: records(8, 100) });
  const r = await run(runId);
  const split = r.stages[0]!.prepare.split!;
  const part = (n: number) => ({
    part: n,
    manifestKey: split.manifestKey,
    trainKey: split.train.key,
    records: split.train.records,
  });
  await env.runs.update(runId, 'submitting', {
    stages: withPrepare(r, 0, { split: { ...split, parts: [part(0), part(1)] } }),
  });
}

async function untilCompleted(jobArn: string): Promise<void> {
  const bedrock = submitDeps(process.env).bedrock;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await bedrock.getJob(jobArn)).status === 'Completed') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`job ${jobArn} did not complete in 60 s`);
}

/** The run's current job, submitted by one copy; its ARN. */
async function submitted(runId: string): Promise<string> {
  expect(await submitJob(runId, prepared(), submitDeps(process.env))).toBe('submitted');
  return currentJob(await run(runId))!.jobArn!;
}

describe('a late copy of a message about one job of a chained run, once the run is at the next job', () => {
  it('submit: a copy that read the run before the first part was submitted submits nothing at the second part', async () => {
    // given a run prepared for two sequential jobs, and two copies of its dataset.prepared
    const runId = 'late-submit';
    await givenTwoPartRun(runId);
    // when one copy reads the run and is held up before it creates the job
    const late = holdAt(submitDeps(process.env), 'createJob');
    const held = submitJob(runId, prepared(), late.deps);
    await late.arrived;
    // and the other copy submits the first part's job, which completes, and the monitor moves the run to the second
    const first = await submitted(runId);
    await untilCompleted(first);
    const moved = await observeJob(
      { kind: 'poll', runId, jobArn: first, attempt: 1, poll: 1 },
      monitorDeps(process.env),
    );
    expect(moved).toBe('completed');
    // and then the held copy goes on
    late.release();
    // then it writes nothing: the first part was submitted once, and the run waits for its second part
    const outcome = await held;
    expect(await eventsOf(runId, 'job.submitted')).toHaveLength(1);
    expect(await eventsOf(runId, 'preflight.passed')).toHaveLength(1);
    expect(outcome).toBe('duplicate');
    const after = await run(runId);
    expect({ status: after.status, part: currentPart(after), jobArn: currentJob(after)?.jobArn }).toEqual({
      status: 'submitting',
      part: 1,
      jobArn: undefined,
    });
  });

  it("monitor: a copy that saw the first part's job completed moves nothing once the second part trains", async () => {
    // given a run whose first part's job has completed
    const runId = 'late-complete';
    await givenTwoPartRun(runId);
    const first = await submitted(runId);
    await untilCompleted(first);
    // when one copy of a signal about that job reads the run and is held up before it asks Bedrock about the job
    const late = holdAt(monitorDeps(process.env), 'getJob');
    const held = observeJob({ kind: 'poll', runId, jobArn: first, attempt: 1, poll: 1 }, late.deps);
    await late.arrived;
    // and another copy (Bedrock's state-change event) moves the run on, and the second part's job is submitted
    const event = { kind: 'event', jobName: `btp-${runId}-s0-a1`, jobArn: first, jobStatus: 'Completed' } as const;
    expect(await observeJob(event, monitorDeps(process.env))).toBe('completed');
    expect(await submitJob(runId, prepared(), submitDeps(process.env))).toBe('submitted');
    const second = currentJob(await run(runId))!.jobArn!;
    // and then the held copy goes on
    late.release();
    // then it writes nothing: the first part completed once, and the second part's job trains
    const outcome = await held;
    expect(await eventsOf(runId, 'job.completed')).toHaveLength(1);
    expect(outcome).toBe('duplicate');
    const after: Run = await run(runId);
    expect({ status: after.status, part: currentPart(after), jobArn: currentJob(after)?.jobArn }).toEqual({
      status: 'training',
      part: 1,
      jobArn: second,
    });
    expect(await eventsOf(runId, 'job.submitted')).toHaveLength(2);
  });

  it('monitor: a poll that found the first part running records nothing over the second part', async () => {
    // given a run training its first part
    const runId = 'late-poll';
    await givenTwoPartRun(runId);
    const first = await submitted(runId);
    // when a poll finds the job running and is held up before it schedules the next poll and records this one
    const deps = monitorDeps(process.env);
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    const send: Send = Object.assign(
      async (...args: Parameters<Send>) => {
        reached();
        await gate;
        return deps.send(...args);
      },
      { reaches: deps.send.reaches },
    ) as Send;
    const held = observeJob({ kind: 'poll', runId, jobArn: first, attempt: 1, poll: 1 }, { ...deps, send });
    await arrived;
    // and meanwhile the job completes, the monitor moves the run on and the second part's job is submitted
    await untilCompleted(first);
    const event = { kind: 'event', jobName: `btp-${runId}-s0-a1`, jobArn: first, jobStatus: 'Completed' } as const;
    expect(await observeJob(event, monitorDeps(process.env))).toBe('completed');
    expect(await submitJob(runId, prepared(), submitDeps(process.env))).toBe('submitted');
    const second = currentJob(await run(runId))!.jobArn!;
    // and then the held poll goes on
    release();
    expect(await held).toBe('running');
    // then the second part's job is still the run's current one, not written over by the first part's record
    const after = await run(runId);
    expect({ status: after.status, part: currentPart(after), jobArn: currentJob(after)?.jobArn }).toEqual({
      status: 'training',
      part: 1,
      jobArn: second,
    });
    expect(after.stages[0]!.jobs.map((j) => j.status)).toEqual(['done', 'running']);
  });
});

describe('a late copy of a signal about a job past training.maxJobHours', () => {
  afterEach(() => env.bedrock.faults.reset());

  it('flags it once, and the poll that read the run before the flag records its poll and keeps the flag', async () => {
    // given a run training a job that has run past its training.maxJobHours (held in progress)
    const runId = 'late-overdue';
    const config = resolveRunConfig(TITAN_2024, { training: { maxJobHours: 0.001 } });
    await givenPreparedRun(env, runId, config, { train: records(40), validation: records(8, 100) });
    env.bedrock.faults.holdJob(`btp-${runId}-s0-a1`);
    const jobArn = await submitted(runId);
    // when a poll reads the run and is held up before it asks Bedrock about the job
    const late = holdAt(monitorDeps(process.env), 'getJob');
    const held = observeJob({ kind: 'poll', runId, jobArn, attempt: 1, poll: 1 }, late.deps);
    await late.arrived;
    // and meanwhile Bedrock's state-change event about the job flags it overdue
    const event = { kind: 'event', jobName: `btp-${runId}-s0-a1`, jobArn, jobStatus: 'InProgress' } as const;
    expect(await observeJob(event, monitorDeps(process.env))).toBe('running');
    // and then the held poll goes on
    late.release();
    expect(await held).toBe('running');
    // then the job was flagged once, and it keeps its flag beside the poll's record
    expect(await eventsOf(runId, 'job.overdue')).toHaveLength(1);
    const after = await run(runId);
    expect(after.warnings?.filter((w) => w.includes('training.maxJobHours'))).toHaveLength(1);
    expect(currentJob(after)).toMatchObject({ lastPoll: 1, overdue: { hours: expect.any(Number) } });
  });
});
