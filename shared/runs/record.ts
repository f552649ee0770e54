import type { JobRecord, PrepareRecord, ProvisionRecord, Run, RunCounts, RunFailure, StageState } from './run';
import { isTerminal, type RunStatus } from './status';
import { patchOf, type RunPatch, type RunStore, type WriteOptions } from './store';

/**
 * Reading and updating the run's records (run.ts). The current stage is the last one started and its current part
 * the last job in it, so neither is stored; a run made by `model.provision` has no stages and is at stage 0.
 */

export const currentStage = (run: Pick<Run, 'stages'>): number => Math.max(0, run.stages.length - 1);
export const currentPart = (run: Pick<Run, 'stages'>): number => Math.max(0, (run.stages.at(-1)?.jobs.length ?? 1) - 1);

/** The current stage's data preparation record, if the stage has started. */
export const currentPrepare = (run: Pick<Run, 'stages'>): PrepareRecord | undefined => run.stages.at(-1)?.prepare;

/** The current job's record: the current stage's last job, once one is recorded. */
export const currentJob = (run: Pick<Run, 'stages'>): JobRecord | undefined => run.stages.at(-1)?.jobs.at(-1);

/** Every job of the run, earliest first, with its stage and part. */
export const allJobs = (run: Pick<Run, 'stages'>): Array<JobRecord & { stage: number; part: number }> =>
  run.stages.flatMap((s, stage) => s.jobs.map((job, part) => ({ ...job, stage, part })));

/** The run's latest job submitted to Bedrock (a job record with an ARN), with its stage and part. */
export const lastSubmittedJob = (run: Pick<Run, 'stages'>) => allJobs(run).findLast((j) => j.jobArn !== undefined);

/**
 * A job's status as a summary shows it. Once the run has ended, a job last seen running (`InProgress`, `Stopping`)
 * is shown as what it was when the run ended, not as if it were still running: nothing polls it any more.
 */
export function jobStatusShown(run: Pick<Run, 'status'>, job: Pick<JobRecord, 'jobStatus'> | undefined) {
  const s = job?.jobStatus;
  if (!s) return undefined;
  if ((s === 'InProgress' || s === 'Stopping') && isTerminal(run.status)) return `${s} when the run ${run.status}`;
  return s;
}

/** The run's data preparation counts: its first stage's (what the report draws and notifications carry). */
export const runCounts = (run: Pick<Run, 'stages'>): RunCounts | undefined => run.stages[0]?.prepare.counts;

/** The run's final losses: its last finished job's. */
export function runMetrics(run: Pick<Run, 'stages'>): { trainingLoss?: number; validationLoss?: number } | undefined {
  const last = allJobs(run)
    .filter((j) => j.status === 'done')
    .at(-1);
  if (!last || (last.trainingLoss === undefined && last.validationLoss === undefined)) return undefined;
  return {
    ...(last.trainingLoss !== undefined ? { trainingLoss: last.trainingLoss } : {}),
    ...(last.validationLoss !== undefined ? { validationLoss: last.validationLoss } : {}),
  };
}

/** The cost estimate of the run's latest preflight. */
export const runCostEstimateUsd = (run: Pick<Run, 'stages'>): number | undefined =>
  allJobs(run)
    .filter((j) => j.preflight)
    .at(-1)?.preflight?.costEstimate.totalUsd;

/** The run's stages with stage `n`'s prepare record patched (a stage not started yet is started). */
export function withPrepare(run: Pick<Run, 'stages'>, n: number, patch: Partial<PrepareRecord>): StageState[] {
  const stages = [...run.stages];
  const prev = stages[n] ?? { prepare: { status: 'pending' as const }, jobs: [] };
  stages[n] = { ...prev, prepare: { ...prev.prepare, ...patch } };
  return stages;
}

/** The run's stages with the job of stage `n`, part `part` patched (a job not recorded yet is recorded, attempt 1). */
export function withJob(run: Pick<Run, 'stages'>, n: number, part: number, patch: Partial<JobRecord>): StageState[] {
  const stages = [...run.stages];
  const stage = stages[n] ?? { prepare: { status: 'pending' as const }, jobs: [] };
  const jobs = [...stage.jobs];
  if (part > jobs.length) throw new Error(`stage ${n} has ${jobs.length} job(s): part ${part} cannot be recorded yet`);
  jobs[part] = { status: 'pending', attempt: 1, ...jobs[part], ...patch };
  stages[n] = { ...stage, jobs };
  return stages;
}

/** A job record's fields that belong to one attempt, cleared when a new attempt (a remediation, a resume) starts. */
export const CLEARED_ATTEMPT = {
  startedAt: undefined,
  endedAt: undefined,
  preflight: undefined,
  queued: undefined,
  jobArn: undefined,
  jobStatus: undefined,
  lastPoll: undefined,
  overdue: undefined,
  remediation: undefined,
} as const;

/** The current job's stages patched. */
export const withCurrentJob = (run: Pick<Run, 'stages'>, patch: Partial<JobRecord>): StageState[] =>
  withJob(run, currentStage(run), currentPart(run), patch);

/** The job a step is about: its stage, part and attempt (a job not recorded yet is the part's first attempt). */
const jobSlot = (run: Pick<Run, 'stages'>) =>
  `${currentStage(run)}/${currentPart(run)}/${currentJob(run)?.attempt ?? 1}`;

/**
 * A write's guard (WriteOptions.unless) for a step that acts on the job it read: it refuses the write once the run's
 * current job is another one (a later part, stage or attempt). A chained run comes back to the same statuses for each
 * job (submitting, training), so a write conditioned on the status alone, by a delivery that read the run before it
 * moved on and wrote after, would land on the next job with the earlier read's records: a second `job.submitted` for a
 * job already trained, the next part's job record overwritten by the one before.
 */
export function aboutJobOf(read: Pick<Run, 'stages'>): (current: Run) => boolean {
  const slot = jobSlot(read);
  return (current) => jobSlot(current) !== slot;
}

/** The training data of a stage's sequential jobs, as the split recorded them (empty: one job on the whole set). */
export const recordedParts = (run: Pick<Run, 'stages'>, stage: number) => run.stages[stage]?.prepare.split?.parts ?? [];

/** Which of the run's current records a failure marks failed. */
export type FailedRecord = 'prepare' | 'job' | 'provision';

/**
 * A patch of the run's provision record, for a write (RunPatch) that builds it from the record as it finds it: a
 * copy of the record read earlier would undo what another writer (a poll, an expiry) changed in it meanwhile. Nothing
 * for a run without one.
 */
export const withProvision =
  (fields: Partial<ProvisionRecord>) =>
  (current: Pick<Run, 'provision'>): Partial<Run> =>
    current.provision ? { provision: { ...current.provision, ...fields } } : {};

/**
 * Fails the run with a clear reason; `undefined` when it had already left `from` (a duplicate delivery). `run` names
 * the run; the records the failure marks (`failure.record`) are patched as the write finds them, after `failure.also`
 * (more of the same write: fields, or a function of the run as found), so a record another writer changed since the
 * caller's read keeps that change.
 */
export function failRun(
  runs: RunStore,
  run: Pick<Run, 'runId'>,
  from: RunStatus | readonly RunStatus[],
  failure: {
    stage: string;
    reason: string;
    hint: string;
    record?: FailedRecord;
    location?: RunFailure['location'];
    also?: RunPatch;
  },
  now: Date,
  detail: Record<string, unknown> = {},
  opts?: WriteOptions,
): Promise<Run | undefined> {
  const at = now.toISOString();
  const recorded: RunFailure = {
    stage: failure.stage,
    reason: failure.reason,
    hint: failure.hint,
    ...(failure.location ? { location: failure.location } : {}),
    at,
  };
  const ended = { status: 'failed' as const, endedAt: at };
  const patch = (current: Run): Partial<Run> => {
    const also = failure.also ? patchOf(failure.also, current) : {};
    const base: Run = { ...current, ...also };
    const out: Partial<Run> = { ...also, failure: recorded };
    if (failure.record === 'prepare') out.stages = withPrepare(base, currentStage(base), ended);
    if (failure.record === 'job') out.stages = withCurrentJob(base, ended);
    if (failure.record === 'provision') Object.assign(out, withProvision(ended)(base));
    return out;
  };
  return runs.transition(
    run.runId,
    from,
    'failed',
    patch,
    { type: `${failure.stage}.failed`, detail: { reason: failure.reason, hint: failure.hint, ...detail } },
    opts,
  );
}

/**
 * Records on the run that a step is riding out a throttled or transient Bedrock error (retry `retry`, 0 for the
 * first), with an event; `undefined` when the run has left `status` meanwhile. The write also keeps the run's
 * `updatedAt` fresh, which tells the sweeper that the step's retry is on its way.
 */
export function recordRetry(
  runs: RunStore,
  run: Run,
  status: RunStatus,
  step: string,
  err: { code: string; message: string },
  retry: number,
  now: Date,
  opts?: WriteOptions,
): Promise<Run | undefined> {
  const lastRetry = { status, step, code: err.code, message: err.message, retry, at: now.toISOString() };
  return runs.update(run.runId, status, { lastRetry }, { type: `${step}.retrying`, detail: { ...lastRetry } }, opts);
}
