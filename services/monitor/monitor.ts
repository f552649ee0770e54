import { customizationSpec, findBaseModel } from '../../shared/catalog/lookup';
import {
  DatasetPrepared,
  JobPoll,
  JobRequested,
  ModelReady,
  StageRequested,
  ThroughputExpire,
} from '../../shared/messages/pipeline';
import type { JobRecord, Run } from '../../shared/runs/run';
import { isTerminal } from '../../shared/runs/status';
import { backoffSeconds, retryDelaySeconds } from '../../shared/orchestration/backoff';
import { finalLoss, readJobMetrics } from '../../shared/artifacts/bedrock-metrics';
import { runIdOfJobName } from '../../shared/orchestration/naming';
import { isBedrockError, isRetryable, type JobView, type OrchestrationDeps } from '../../shared/orchestration/ports';
import { safeBatchSize } from '../../shared/orchestration/preflight';
import { baseModelIdOf } from '../../shared/catalog/lookup';
import { stageKeys } from '../../shared/runs/keys';
import {
  aboutJobOf,
  allJobs,
  CLEARED_ATTEMPT,
  currentJob,
  currentPart,
  currentPrepare,
  currentStage,
  failRun,
  recordedParts,
  recordRetry,
  withCurrentJob,
  withJob,
  withPrepare,
} from '../../shared/runs/record';
import { nextStep } from '../../shared/runs/stages';
import { stageConfig } from '../../shared/config/run-config';

export type MonitorDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'objects' | 'send' | 'settings' | 'now' | 'random'
>;

/** What woke the monitor: the submit step's announcement, its own delayed poll, or Bedrock's state-change event. */
export type JobSignal =
  | { kind: 'submitted'; runId: string; jobArn: string; attempt: number; stage: number; correlationId?: string }
  | {
      kind: 'poll';
      runId: string;
      jobArn: string;
      attempt: number;
      poll: number;
      retry?: number;
      correlationId?: string;
    }
  | { kind: 'event'; jobName: string; jobArn: string; jobStatus: string };

export type MonitorOutcome =
  'polling' | 'running' | 'completed' | 'remediating' | 'failed' | 'stale' | 'duplicate' | 'throttled' | 'unknown-job';

/**
 * Follows a run's customization job to its end. Bedrock's state-change events (best effort, docs/bedrock-api.md §10)
 * and a chain of
 * delayed polls both lead here; either way the job's state is read with GetModelCustomizationJob and acted on once,
 * through a conditional transition of the run. The job is mapped to its run by its name (naming.ts), never by a
 * message id, and to the run's current job by its ARN; a signal about an older attempt of the run is ignored.
 */
export async function observeJob(signal: JobSignal, deps: MonitorDeps): Promise<MonitorOutcome> {
  const { runs, bedrock, now } = deps;
  const runId = signal.kind === 'event' ? runIdOfJobName(signal.jobName) : signal.runId;
  if (!runId) return 'unknown-job'; // not one of this pipeline's jobs
  const run = await runs.get(runId);
  if (!run) return 'unknown-job';
  const current = currentJob(run);

  if (signal.kind === 'submitted') {
    if (run.status !== 'training' || current?.jobArn !== signal.jobArn) return 'stale';
    if (current.lastPoll !== undefined) return 'duplicate';
    await schedulePoll(run, signal.jobArn, signal.attempt, 1, deps.settings.pollSeconds, deps, signal.correlationId);
    await recordPoll(run, 0, deps);
    return 'polling';
  }

  if (run.status !== 'training') {
    await resendLostFollowUp(run, signal, deps);
    return 'stale';
  }
  if (!current || signal.jobArn !== current.jobArn) return 'stale'; // an earlier attempt's job
  const attempt = current.attempt;
  if (signal.kind === 'poll' && current.lastPoll !== undefined && signal.poll <= current.lastPoll) return 'duplicate';

  let job: JobView;
  try {
    job = await bedrock.getJob(signal.jobArn);
  } catch (err) {
    if (!isRetryable(err)) throw err;
    // The job runs on whatever Bedrock's API does: poll again after a capped, jittered backoff, for as long as it
    // takes (an event's copy starts a poll too; a chain already running makes it a duplicate).
    const next = signal.kind === 'poll' ? signal.poll + 1 : 1;
    const retry = signal.kind === 'poll' ? (signal.retry ?? 0) + 1 : 1;
    await recordRetry(runs, run, 'training', 'monitor', err, retry, now(), { unless: aboutJobOf(run) });
    const delay = retryDelaySeconds(Math.min(retry, deps.settings.maxThrottleRetries), deps.settings, deps.random);
    await schedulePoll(run, signal.jobArn, attempt, next, delay, deps, undefined, retry);
    return 'throttled';
  }

  switch (job.status) {
    case 'InProgress':
    case 'Stopping': {
      const flagged = await flagIfOverdue(run, job, deps);
      if (signal.kind !== 'poll') return 'running'; // events do not fork the poll chain
      const next = signal.poll + 1;
      const delay = backoffSeconds(signal.poll, {
        baseSeconds: deps.settings.pollSeconds,
        maxSeconds: deps.settings.maxPollSeconds,
        jitter: 0.1,
        random: deps.random,
      });
      await schedulePoll(flagged, signal.jobArn, attempt, next, delay, deps);
      await recordPoll(flagged, signal.poll, deps);
      return 'running';
    }
    case 'Completed':
      return completeJob(run, job, deps);
    case 'Failed':
      return failedJob(run, job, deps);
    case 'Stopped':
      await failRun(
        runs,
        run,
        'training',
        {
          stage: 'train',
          reason: `training job ${job.jobName} was stopped outside the pipeline`,
          hint: `someone stopped the job in Bedrock; to train again: btp resume ${run.runId} --from train`,
          record: 'job',
        },
        now(),
        { jobArn: job.jobArn },
        { unless: aboutJobOf(run) },
      );
      return 'failed';
  }
}

async function completeJob(run: Run, job: JobView, deps: MonitorDeps): Promise<MonitorOutcome> {
  const { runs, objects, settings, now } = deps;
  const stage = currentStage(run);
  const part = currentPart(run);
  const current = currentJob(run)!;
  if (!job.outputModelArn) {
    // Completed without the model ARN yet: look again shortly rather than record a run with no model.
    await schedulePoll(run, job.jobArn, current.attempt, (current.lastPoll ?? 0) + 1, settings.pollSeconds, deps);
    return 'polling';
  }
  const files = await readJobMetrics(
    (key) => objects.getText(settings.artifactsBucket, key),
    stageKeys(run.runId, stage).output,
    job.jobArn,
  );
  const metrics: { trainingLoss?: number; validationLoss?: number } = {};
  const trainingLoss = finalLoss(files.training) ?? job.trainingLoss;
  const validationLoss = finalLoss(files.validation) ?? job.validationLosses[0];
  if (trainingLoss !== undefined) metrics.trainingLoss = trainingLoss;
  if (validationLoss !== undefined) metrics.validationLoss = validationLoss;
  const finished: Partial<JobRecord> = {
    status: 'done',
    endedAt: now().toISOString(),
    jobStatus: 'Completed',
    modelArn: job.outputModelArn,
    ...metrics,
    metricsFiles: {
      ...(files.training ? { training: files.training.key } : {}),
      ...(files.validation ? { validation: files.validation.key } : {}),
    },
    ...(files.training ? { trainingSteps: files.training.points.length } : {}),
    ...(job.endTime ? { jobEndedAt: job.endTime.toISOString() } : {}),
  };
  const next = nextStep(run.config, stage, part, Math.max(1, recordedParts(run, stage).length));
  if (next.kind !== 'final') return startNext(run, next, job, finished, metrics, deps);
  const provision = run.config.provisioning.enabled;
  const done = await runs.transition(
    run.runId,
    'training',
    provision ? 'provisioning' : 'succeeded',
    (current) => ({ modelArn: job.outputModelArn, stages: withCurrentJob(current, finished) }),
    { type: 'job.completed', detail: { jobArn: job.jobArn, modelArn: job.outputModelArn, ...metrics } },
    { unless: aboutJobOf(run) },
  );
  if (!done) return 'duplicate';
  if (provision) await announceModel(done, deps);
  return 'completed';
}

/**
 * A chained run's job is done but the run is not: the stage's next sequential job (training -> submitting) or the
 * next stage's data preparation (training -> preparing) starts from this job's model. One conditional transition
 * records the finished job and the next job's base model; the follow-up message goes after it (a lost one is sent
 * again by resendLostFollowUp when a later signal about this job arrives).
 */
async function startNext(
  run: Run,
  next: Exclude<ReturnType<typeof nextStep>, { kind: 'final' }>,
  job: JobView,
  finished: Partial<JobRecord>,
  metrics: { trainingLoss?: number; validationLoss?: number },
  deps: MonitorDeps,
): Promise<MonitorOutcome> {
  const { runs } = deps;
  // Recording the next job (or stage) makes it the current one; built from the run as the write finds it (RunPatch).
  const recordNext = (current: Run): Partial<Run> => {
    let stages = withCurrentJob(current, finished);
    if (next.kind === 'stage') stages = withPrepare({ stages }, next.stage, { status: 'pending' });
    stages = withJob({ stages }, next.stage, next.kind === 'part' ? next.part : 0, {
      status: 'pending',
      attempt: 1,
      baseModelIdentifier: job.outputModelArn,
    });
    return { stages };
  };
  const detail = { jobArn: job.jobArn, modelArn: job.outputModelArn, ...metrics, next };
  if (next.kind === 'part') {
    const moved = await runs.transition(
      run.runId,
      'training',
      'submitting',
      recordNext,
      { type: 'job.completed', detail },
      { unless: aboutJobOf(run) },
    );
    if (!moved) return 'duplicate';
    await announceNextPart(moved, deps);
    return 'completed';
  }
  const moved = await runs.transition(
    run.runId,
    'training',
    'preparing',
    recordNext,
    { type: 'job.completed', detail },
    { unless: aboutJobOf(run) },
  );
  if (!moved) return 'duplicate';
  await requestStage(moved, deps);
  return 'completed';
}

async function announceNextPart(run: Run, { send }: MonitorDeps): Promise<void> {
  const stage = currentStage(run);
  const manifestKey = recordedParts(run, stage)[currentPart(run)]?.manifestKey ?? stageKeys(run.runId, stage).manifest;
  await send(DatasetPrepared, run.runId, { manifestKey, stage });
}

async function requestStage(run: Run, { send }: MonitorDeps): Promise<void> {
  await send(StageRequested, run.runId, { stage: currentStage(run) });
}

/**
 * Known recoverable failure texts: the per-record token limit at the job's batch size (docs/bedrock-api.md §6.4, §8.1).
 */
const TOKEN_LIMIT = /token (?:count|length) (\d+) exceeds (?:total )?limit of (\d+)/i;
const BATCH_SIZE = /batch ?size/i;

async function failedJob(run: Run, job: JobView, deps: MonitorDeps): Promise<MonitorOutcome> {
  const { runs, now } = deps;
  const stage = currentStage(run);
  const message = job.failureMessage ?? 'no failure message';
  const remediation = planRemediation(run, message);
  if (remediation) {
    const at = now().toISOString();
    const current = currentJob(run)!;
    const previousJobs = [
      ...(current.previousJobs ?? []),
      { jobArn: job.jobArn, failureMessage: message, attempt: current.attempt },
    ];
    const next = await runs.transition(
      run.runId,
      'training',
      'submitting',
      (found) => ({
        stages: withCurrentJob(found, {
          status: 'pending',
          attempt: current.attempt + 1,
          ...CLEARED_ATTEMPT,
          hyperParameters: remediation.hyperParameters,
          previousJobs,
          remediation: { ...remediation.change, failureMessage: message, at },
        }),
      }),
      { type: 'job.remediated', detail: { jobArn: job.jobArn, failureMessage: message, ...remediation.change } },
      { unless: aboutJobOf(run) },
    );
    if (!next) return 'duplicate';
    await deps.send(JobRequested, run.runId, { stage, reason: 'remediation', retry: 0 });
    return 'remediating';
  }
  const tokenLimit = TOKEN_LIMIT.test(message) || BATCH_SIZE.test(message);
  const note = tokenLimit ? ' (a batch-size/token-limit failure; reduce batchSize, see docs/bedrock-api.md §8.1)' : '';
  const hint = jobFailureHint(run, message, tokenLimit);
  await failRun(
    runs,
    run,
    'training',
    {
      stage: 'train',
      reason: `training job ${job.jobName} failed: ${message}${note}`,
      hint,
      record: 'job',
      also: (current) => ({ stages: withCurrentJob(current, { jobStatus: 'Failed' }) }),
    },
    now(),
    { jobArn: job.jobArn, failureMessage: message },
    { unless: aboutJobOf(run) },
  );
  return 'failed';
}

/** What to change after Bedrock failed the job: the setting behind the failure message, where it is a known one. */
function jobFailureHint(run: Run, message: string, tokenLimit: boolean): string {
  const stage = currentStage(run);
  const at = run.config.stages ? `stages[${stage}].` : '';
  const resume = `then btp resume ${run.runId} --from train`;
  if (tokenLimit)
    return `set a smaller training.hyperParameters.batchSize (or ${at}hyperParameters.batchSize), or ${at}prep.filters.maxTokens, ${resume}`;
  if (/\brecords?\b/i.test(message) && /more than|maximum|exceed|quota|limit/i.test(message))
    return (
      `keep each job within the model's record quota: ${run.config.stages ? `stages[${stage}].maxRecordsPerJob or ` : ''}` +
      `${at}split.train (or declare the account's quota in training.quotas so the preflight checks it), and run again`
    );
  return `change the setting Bedrock's message names (the data, training.hyperParameters), ${resume}`;
}

/**
 * The batch-size trap's remedy, once per stage and only when the configuration allows: the largest batch size whose
 * per-record token limit holds the largest record (as estimated at submit, or as Bedrock reported it).
 */
export function planRemediation(
  run: Run,
  failureMessage: string,
): { hyperParameters: Record<string, string>; change: { setting: string; from: string; to: string } } | undefined {
  const training = stageConfig(run.config, currentStage(run)).training;
  if (!training.autoRemediate) return undefined;
  const job = currentJob(run);
  if (job?.remediation) return undefined; // resubmit once
  const tokenMatch = TOKEN_LIMIT.exec(failureMessage);
  if (!tokenMatch && !BATCH_SIZE.test(failureMessage)) return undefined;
  const hyperParameters = job?.hyperParameters ?? training.hyperParameters;
  const current = Number(hyperParameters.batchSize ?? '1');
  const model = findBaseModel(baseModelIdOf(job?.baseModelIdentifier ?? training.baseModelId));
  const spec = model && customizationSpec(model, training.customizationType);
  if (!spec) return undefined;
  const submitted = job?.preflight;
  const largest = Math.max(
    submitted?.train.maxRecordTokens ?? 0,
    submitted?.validation?.maxRecordTokens ?? 0,
    Number(tokenMatch?.[1] ?? 0),
  );
  const safe = safeBatchSize(spec, largest);
  if (safe === undefined || safe >= current) return undefined;
  return {
    hyperParameters: { ...hyperParameters, batchSize: String(safe) },
    change: { setting: 'batchSize', from: String(current), to: String(safe) },
  };
}

/**
 * Flags a job running longer than training.maxJobHours, once (a warning and an event; the job is not stopped).
 * Returns the run as it now is, so the caller's next write does not undo the flag.
 */
async function flagIfOverdue(run: Run, job: JobView, { runs, now, settings }: MonitorDeps): Promise<Run> {
  const current = currentJob(run);
  if (current?.overdue) return run;
  const started = job.creationTime ?? new Date(current?.startedAt ?? run.updatedAt);
  const hours = ((now().getTime() - started.getTime()) / 3_600_000) * settings.timeScale;
  const max = run.config.training.maxJobHours;
  if (hours <= max) return run;
  const warning = `training job ${job.jobName} has run ${hours.toFixed(1)} h, over training.maxJobHours (${max} h)`;
  const overdue = { at: now().toISOString(), hours };
  const flagged = await runs.update(
    run.runId,
    'training',
    (current) => ({
      warnings: [...(current.warnings ?? []), warning],
      stages: withCurrentJob(current, { overdue }),
    }),
    { type: 'job.overdue', detail: { jobArn: job.jobArn, hours, maxJobHours: max } },
    // Once: a copy of the signal that read the run before another copy flagged it flags nothing.
    { unless: (current) => aboutJobOf(run)(current) || currentJob(current)?.overdue !== undefined },
  );
  return flagged ?? run;
}

async function schedulePoll(
  run: Run,
  jobArn: string,
  attempt: number,
  poll: number,
  delaySeconds: number,
  { send }: MonitorDeps,
  correlationId?: string,
  retry = 0,
) {
  await send(JobPoll, run.runId, { jobArn, attempt, poll, retry }, { correlationId, delaySeconds });
}

async function recordPoll(run: Run, poll: number, { runs }: MonitorDeps): Promise<void> {
  // The job's record as the write finds it: another copy's write since this read (the overdue flag) stays.
  await runs.update(
    run.runId,
    'training',
    (current) => ({ stages: withCurrentJob(current, { lastPoll: poll }) }),
    undefined,
    {
      unless: aboutJobOf(run),
    },
  );
}

async function announceModel(run: Run, { send }: MonitorDeps): Promise<void> {
  await send(ModelReady, run.runId, { modelArn: run.modelArn!, retry: 0 });
}

/**
 * A step that changed the run and then died before sending its follow-up message leaves the run waiting for a
 * message that never comes. A later signal about the same job notices and sends it again (the receiver is idempotent).
 */
async function resendLostFollowUp(run: Run, signal: JobSignal, deps: MonitorDeps): Promise<void> {
  const current = currentJob(run);
  if (signal.jobArn === current?.jobArn) {
    if (run.status === 'provisioning' && run.modelArn && !run.provisionedModelArn) await announceModel(run, deps);
    return;
  }
  if (run.status === 'submitting' && current?.previousJobs?.some((j) => j.jobArn === signal.jobArn)) {
    const stage = currentStage(run);
    await deps.send(JobRequested, run.runId, { stage, reason: 'remediation', retry: 0 });
    return;
  }
  // A chained run moved on from this (completed) job, and the message that starts the next job or stage may be lost.
  if (!allJobs(run).some((j) => j.jobArn === signal.jobArn && j.status === 'done')) return;
  if (run.status === 'submitting' && current?.jobArn === undefined) await announceNextPart(run, deps);
  if (run.status === 'preparing' && currentPrepare(run)?.plan === undefined) await requestStage(run, deps);
}

/**
 * Cancels a run: stops its job if one is running, moves the run to `cancelled`, and hands a live throughput or
 * custom model deployment to the provision step for deletion; an experiment's variants are cancelled with it. A
 * queued retry or a late poll then finds the run cancelled and stops.
 */
export async function cancelRun(
  runId: string,
  reason: string,
  deps: MonitorDeps,
): Promise<'cancelled' | 'already-final' | 'unknown-run'> {
  const { runs, bedrock, now, send } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  const jobArn = currentJob(run)?.jobArn;
  if (run.status === 'training' && jobArn) {
    try {
      await bedrock.stopJob(jobArn);
    } catch (err) {
      // A job that already ended cannot be stopped (ConflictException, docs/bedrock-api.md §4.2); the cancel still
      // holds.
      if (!isBedrockError(err, 'conflict', 'not-found', 'validation')) throw err;
    }
  }
  let cancelled: Run | undefined = run;
  if (!isTerminal(run.status)) {
    cancelled = await runs.transition(
      runId,
      run.status,
      'cancelled',
      {
        failure: {
          stage: 'cancel',
          reason,
          hint: 'the run was cancelled on request and cannot be resumed; to train, start a new run (btp run <file>)',
          at: now().toISOString(),
        },
      },
      {
        type: 'run.cancelled',
        detail: { reason, jobArn },
      },
    );
    if (!cancelled) return cancelRun(runId, reason, deps); // it moved meanwhile: look again
  } else if (run.status !== 'cancelled' && !run.throughputExpiresAt) {
    return 'already-final';
  }
  // An experiment's variants go with it (after it, so no variant's end settles it as failed first).
  for (const child of cancelled.children ?? []) await cancelRun(child.runId, `experiment ${runId}: ${reason}`, deps);
  if (cancelled.provisionedModelArn && cancelled.throughputExpiresAt) {
    await send(ThroughputExpire, runId, {
      provisionedModelArn: cancelled.provisionedModelArn,
      expiresAt: now().toISOString(),
    });
  }
  if (cancelled.status === 'cancelled' && cancelled.deploymentArn && !cancelled.provision?.deletedAt) {
    // A deployment costs nothing idle but holds a slot of the account's deployment quota: provision deletes it.
    await send(ThroughputExpire, runId, {
      provisionedModelArn: cancelled.deploymentArn,
      expiresAt: now().toISOString(),
    });
  }
  return 'cancelled';
}
