import { JobRequested, JobSubmitted, ModelReady } from '../../shared/messages/pipeline';
import type { Run } from '../../shared/runs/run';
import { queuedDelaySeconds, retryDelaySeconds } from '../../shared/orchestration/backoff';
import { budgetProblem, estimateCost } from '../../shared/orchestration/cost';
import { ArtifactError } from '../../shared/artifacts';
import { loadPreparedDataset, type DatasetFile, type PreparedDataset } from '../../shared/orchestration/dataset';
import { customModelName, jobClientToken, jobName } from '../../shared/orchestration/naming';
import {
  isBedrockError,
  isRetryable,
  type CreateJobRequest,
  type OrchestrationDeps,
} from '../../shared/orchestration/ports';
import { preflight, preflightHint } from '../../shared/orchestration/preflight';
import { startVariants, startsVariants } from '../../shared/orchestration/variants';
import { catalogAt } from '../../shared/orchestration/settings';
import { servingFor } from '../../shared/orchestration/serving';
import { baseModelIdOf } from '../../shared/catalog/lookup';
import { stageKeys } from '../../shared/runs/keys';
import {
  aboutJobOf,
  CLEARED_ATTEMPT,
  currentJob,
  currentPart,
  currentStage,
  failRun,
  recordedParts,
  recordRetry,
  withCurrentJob,
} from '../../shared/runs/record';
import { stageConfig } from '../../shared/config/run-config';

export type SubmitDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'objects' | 'send' | 'count' | 'settings' | 'now' | 'random'
>;

/**
 * What made submit look at the run: the prepared dataset, or its own delayed retry (queued, throttled, remediation).
 */
export type SubmitTrigger =
  | { kind: 'prepared'; manifestKey: string; stage: number; correlationId?: string }
  | {
      kind: 'requested';
      stage: number;
      reason: 'queued' | 'throttled' | 'remediation' | 'resume' | 'redrive';
      retry: number;
      correlationId?: string;
    };

export type SubmitOutcome = 'submitted' | 'variants' | 'duplicate' | 'queued' | 'throttled' | 'failed' | 'skipped';

/**
 * Submits the run's current training attempt, once. Preflight and cost estimate first (a failing preflight or a
 * blown budget fails the run in seconds, before Bedrock is called); then CreateModelCustomizationJob with a job name
 * and clientRequestToken derived from (run, stage, attempt), so a redelivery finds the same job instead of making a
 * second. The concurrent-jobs quota puts the run in `queued` and retries later; throttling backs off; access denied
 * fails with a hint about the role.
 */
export async function submitJob(runId: string, trigger: SubmitTrigger, deps: SubmitDeps): Promise<SubmitOutcome> {
  const { runs, objects, settings, now } = deps;
  const stage = trigger.stage;
  let run = await runs.get(runId);
  if (!run) throw new Error(`run ${runId} does not exist (yet): retry`);
  if (stage !== currentStage(run)) return 'skipped'; // a late message about an earlier stage of a chained run
  // A stage's sequential jobs (stages.ts) each have their own records, job name and token.
  const part = currentPart(run);

  if (run.status === 'training') {
    // Already submitted. If the job.submitted message was lost (a crash after the transition), the monitor has
    // never polled: send it again. The monitor ignores it once its poll chain has started.
    const job = currentJob(run);
    if (job?.jobArn && job.lastPoll === undefined) await announce(run, stage, deps, trigger.correlationId);
    return 'duplicate';
  }
  if (run.status === 'queued') {
    if (run.waiting) return 'skipped'; // queued for another slot (a throughput): its training is done
    if (trigger.kind !== 'requested' || trigger.reason !== 'queued') return 'duplicate'; // the delayed retry is already on its way
    run = await runs.transition(
      runId,
      'queued',
      'submitting',
      {},
      { type: 'submit.retry', detail: { retry: trigger.retry } },
    );
    if (!run) return 'duplicate';
  }
  if (run.status !== 'submitting') return 'skipped';
  // An experiment's last stage is trained by its variants' child runs, not by a job of the parent's.
  if (startsVariants(run)) return (await startVariants(run, deps, trigger.correlationId)) ? 'variants' : 'duplicate';

  const job = currentJob(run);
  const attempt = job?.attempt ?? 1;
  // Every write below is about this job: a copy of the message that read the run before another copy submitted the
  // job, and writes after the run has moved on to its next part or stage (submitting again), writes nothing.
  const onThisJob = { unless: aboutJobOf(run) };
  // The part's own manifest when the stage trains in sequential jobs, else the stage's, as the split recorded them.
  const manifestKey = recordedParts(run, stage)[part]?.manifestKey ?? run.stages[stage]?.prepare.split?.manifestKey;
  if (!manifestKey) {
    await failRun(
      runs,
      run,
      'submitting',
      {
        stage: 'submit',
        reason: `stage ${stage} has no prepared data recorded`,
        hint: 'prepare the data again: run the dataset again (btp run <file>, or a new run.requested)',
        record: 'job',
      },
      now(),
      {},
      onThisJob,
    );
    return 'failed';
  }
  const training = stageConfig(run.config, stage).training;
  const baseModelIdentifier = job?.baseModelIdentifier ?? training.baseModelId;
  const hyperParameters = job?.hyperParameters ?? training.hyperParameters;

  let dataset: PreparedDataset;
  try {
    dataset = await loadPreparedDataset(objects, settings.artifactsBucket, manifestKey);
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    const hint =
      'the prepared data is missing or unreadable: run the dataset again (btp run <file>) to prepare it afresh';
    await failRun(
      runs,
      run,
      'submitting',
      { stage: 'submit', reason: err.message, hint, record: 'job' },
      now(),
      {},
      onThisJob,
    );
    return 'failed';
  }

  const perJob = run.config.stages?.[stage]?.maxRecordsPerJob;
  const pf = preflight({
    runId,
    training,
    baseModelId: baseModelIdOf(baseModelIdentifier),
    modelIdentifier: baseModelIdentifier,
    hyperParameters,
    dataset,
    at: catalogAt(settings, now),
    ...(perJob ? { maxRecordsPerJob: { value: perJob, setting: `stages[${stage}].maxRecordsPerJob` } } : {}),
    ...(settings.recordQuotas ? { deploymentQuotas: settings.recordQuotas } : {}),
  });
  if (pf.errors.length > 0) {
    await failRun(
      runs,
      run,
      'submitting',
      {
        stage: 'submit',
        reason: `preflight failed: ${pf.errors.join('; ')}`,
        hint: preflightHint(pf.errors),
        record: 'job',
      },
      now(),
      {
        errors: pf.errors,
        warnings: pf.warnings,
      },
      onThisJob,
    );
    return 'failed';
  }
  const estimate = estimateCost({
    modelId: pf.model!.id,
    trainingTokens: dataset.train.stats.tokens,
    epochs: pf.values?.epochCount ?? 1,
    provisioning: run.config.provisioning,
    serving: servingFor(run.config, pf.model!.id),
  });
  const overBudget = budgetProblem(estimate, training.budgetUsd);
  if (overBudget) {
    const hint = `raise training.budgetUsd, or lower the cost: fewer records (split.train) or epochs (training.hyperParameters.epochCount)`;
    await failRun(
      runs,
      run,
      'submitting',
      { stage: 'submit', reason: overBudget, hint, record: 'job' },
      now(),
      { costEstimate: estimate },
      onThisJob,
    );
    return 'failed';
  }

  const key = { runId, stage, attempt, ...(part ? { part } : {}) };
  const outputS3Uri = `s3://${settings.artifactsBucket}/${stageKeys(runId, stage).output}`;
  if (job?.preflight?.attempt !== attempt) {
    const at = now().toISOString();
    const figures = (f: DatasetFile) => ({ key: f.key, ...f.stats });
    const recorded = await runs.update(
      runId,
      'submitting',
      (current) => ({
        warnings: [...new Set([...(current.warnings ?? []), ...pf.warnings])],
        stages: withCurrentJob(current, {
          status: 'running',
          attempt,
          startedAt: job?.startedAt ?? at,
          preflight: {
            attempt,
            manifestKey,
            train: figures(dataset.train),
            ...(dataset.validation ? { validation: figures(dataset.validation) } : {}),
            warnings: pf.warnings,
            costEstimate: estimate,
          },
        }),
      }),
      { type: 'preflight.passed', detail: { attempt, warnings: pf.warnings, costEstimateUsd: estimate.totalUsd } },
      // Two copies that both read the run before either recorded the preflight: the second records nothing.
      { unless: (current) => onThisJob.unless(current) || currentJob(current)?.preflight?.attempt === attempt },
    );
    if (!recorded) return 'duplicate';
    run = recorded;
  }

  const request = {
    jobName: jobName(key),
    customModelName: customModelName(key),
    roleArn: settings.bedrockRoleArn,
    clientRequestToken: jobClientToken(key),
    baseModelIdentifier,
    customizationType: training.customizationType,
    trainingS3Uri: dataset.train.s3Uri,
    ...(dataset.validation ? { validationS3Uri: dataset.validation.s3Uri } : {}),
    outputS3Uri,
    hyperParameters,
    tags: {
      'btp:run-id': runId,
      'btp:stage': String(stage),
      'btp:attempt': String(attempt),
      ...(part ? { 'btp:part': String(part) } : {}),
    },
  };
  let jobArn: string;
  try {
    jobArn = await createOrFindJob(request, deps);
  } catch (err) {
    if (isBedrockError(err, 'quota')) {
      const retry = trigger.kind === 'requested' && trigger.reason === 'queued' ? trigger.retry + 1 : 0;
      const queued = await runs.transition(
        runId,
        'submitting',
        'queued',
        (current) => ({ stages: withCurrentJob(current, { queued: { at: now().toISOString(), retries: retry } }) }),
        { type: 'job.queued', detail: { reason: err.message, retry } },
        onThisJob,
      );
      if (!queued) return 'duplicate';
      const delaySeconds = queuedDelaySeconds(retry, settings, deps.random);
      await requestAgain(run, stage, 'queued', retry, delaySeconds, deps, trigger.correlationId);
      return 'queued';
    } else if (isRetryable(err)) {
      const retry = trigger.kind === 'requested' && trigger.reason === 'throttled' ? trigger.retry + 1 : 0;
      if (retry > settings.maxThrottleRetries) throw err; // let SQS retry it; the sweeper drives the run again later
      // Recorded on the run (`btp status` shows it), which also tells the sweeper a retry is on its way.
      if (!(await recordRetry(runs, run, 'submitting', 'submit', err, retry, now(), onThisJob))) return 'duplicate';
      const delaySeconds = retryDelaySeconds(retry, settings, deps.random);
      await requestAgain(run, stage, 'throttled', retry, delaySeconds, deps, trigger.correlationId);
      return 'throttled';
    } else if (isBedrockError(err, 'access-denied')) {
      const reason =
        `Bedrock denied CreateModelCustomizationJob (${err.message}). Check that the role ${settings.bedrockRoleArn} ` +
        `(BTP_BEDROCK_ROLE_ARN) trusts bedrock.amazonaws.com, may read ${dataset.train.s3Uri} and write ${outputS3Uri}, ` +
        `and that the submit function may iam:PassRole it; and that model access to ${baseModelIdentifier} is enabled.`;
      const hint = `fix the role or model access named above, then btp resume ${runId} --from train`;
      await failRun(runs, run, 'submitting', { stage: 'submit', reason, hint, record: 'job' }, now(), {}, onThisJob);
      return 'failed';
    } else if (isBedrockError(err, 'validation', 'conflict', 'not-found')) {
      await failRun(
        runs,
        run,
        'submitting',
        {
          stage: 'submit',
          reason: `Bedrock refused the job: ${err.message}`,
          hint: `change the setting Bedrock names (training.baseModelId, training.hyperParameters), then btp resume ${runId} --from train`,
          record: 'job',
        },
        now(),
        { code: err.code },
        onThisJob,
      );
      return 'failed';
    } else {
      throw err; // an unknown error: the message returns to the queue
    }
  }

  const startedAt = now().toISOString();
  const submittedRun = await runs.transition(
    runId,
    'submitting',
    'training',
    (current) => ({
      stages: withCurrentJob(current, { status: 'running', startedAt, jobArn, jobStatus: 'InProgress' }),
    }),
    { type: 'job.submitted', detail: { jobArn, jobName: request.jobName, attempt, stage, ...(part ? { part } : {}) } },
    onThisJob,
  );
  if (!submittedRun) return 'duplicate';
  deps.count('JobsSubmitted', 1); // once per job: only the delivery that recorded it gets here
  await announce(submittedRun, stage, deps, trigger.correlationId);
  return 'submitted';
}

/** Creates the attempt's job, or finds it when an earlier delivery created it and died before recording it. */
async function createOrFindJob(request: CreateJobRequest, { bedrock }: SubmitDeps): Promise<string> {
  try {
    return await bedrock.createJob(request);
  } catch (err) {
    if (!isBedrockError(err, 'name-in-use')) throw err;
    return (await bedrock.getJob(request.jobName)).jobArn;
  }
}

async function announce(run: Run, stage: number, { send }: SubmitDeps, correlationId?: string): Promise<void> {
  const job = currentJob(run);
  if (!job?.jobArn) throw new Error(`run ${run.runId}: the submitted job has no ARN recorded`);
  await send(JobSubmitted, run.runId, { jobArn: job.jobArn, attempt: job.attempt, stage }, { correlationId });
}

async function requestAgain(
  run: Run,
  stage: number,
  reason: 'queued' | 'throttled',
  retry: number,
  delaySeconds: number,
  { send }: SubmitDeps,
  correlationId?: string,
): Promise<void> {
  await send(JobRequested, run.runId, { stage, reason, retry }, { correlationId, delaySeconds });
}

export type ResumeOutcome = SubmitOutcome | 'provisioning' | 'not-failed' | 'no-model' | 'unknown-run' | 'experiment';

/**
 * Resumes a failed run from a named stage, reusing what earlier stages left: `train` submits a new attempt (a new job
 * name, so it never collides with the failed job) on the prepared data already in S3, with optional hyperparameter
 * changes; `provision` reuses the trained model and hands it to the provision step.
 */
export async function resumeRun(
  runId: string,
  request: {
    fromStage: 'train' | 'provision';
    hyperParameters?: Record<string, string> | undefined;
    requestedBy?: string | undefined;
  },
  deps: SubmitDeps,
): Promise<ResumeOutcome> {
  const { runs, send } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  // An experiment's last stage is its variants' runs: a failed variant is resumed as its own run.
  if (startsVariants(run)) return 'experiment';
  const stage = currentStage(run);
  if (request.fromStage === 'train') {
    if (run.status === 'submitting')
      return submitJob(runId, { kind: 'requested', stage, reason: 'resume', retry: 0 }, deps); // a redelivered resume
    if (run.status !== 'failed') return 'not-failed';
    const previous = currentJob(run);
    const hyperParameters = {
      ...(previous?.hyperParameters ?? stageConfig(run.config, stage).training.hyperParameters),
      ...request.hyperParameters,
    };
    // A new attempt of the current job: what the failed attempt's job left is cleared, its base model kept.
    const resumed = await runs.transition(
      runId,
      'failed',
      'submitting',
      (current) => ({
        failure: undefined,
        stages: withCurrentJob(current, {
          status: 'pending',
          attempt: previous ? previous.attempt + 1 : 1,
          hyperParameters,
          ...CLEARED_ATTEMPT,
          ...(run.failure ? { resumedFrom: run.failure } : {}),
        }),
      }),
      {
        type: 'run.resumed',
        detail: { fromStage: 'train', requestedBy: request.requestedBy, previousFailure: run.failure },
      },
    );
    if (!resumed) return 'duplicate';
    return submitJob(runId, { kind: 'requested', stage, reason: 'resume', retry: 0 }, deps);
  }
  if (run.status !== 'failed') return 'not-failed';
  if (!run.modelArn) return 'no-model';
  const resumed = await runs.transition(
    runId,
    'failed',
    'provisioning',
    {
      failure: undefined,
      // A deleted throughput or deployment (a failed one is deleted) is bought again, a live one followed to service.
      ...(run.provision?.deletedAt || !run.throughputExpiresAt
        ? { provisionedModelArn: undefined, throughputExpiresAt: undefined }
        : {}),
      ...(run.provision?.deletedAt ? { deploymentArn: undefined } : {}),
    },
    {
      type: 'run.resumed',
      detail: { fromStage: 'provision', requestedBy: request.requestedBy, previousFailure: run.failure },
    },
  );
  if (!resumed) return 'duplicate';
  await send(ModelReady, runId, { modelArn: run.modelArn });
  return 'provisioning';
}
