import { EvaluationRequested, ModelReady, ThroughputExpire, ThroughputPoll } from '../../shared/messages/pipeline';
import type { Run } from '../../shared/runs/run';
import { backoffSeconds, retryDelaySeconds, sqsDelay } from '../../shared/orchestration/backoff';
import {
  deploymentClientToken,
  deploymentName,
  runIdNameProblem,
  throughputClientToken,
  throughputName,
} from '../../shared/orchestration/naming';
import { resolveRunConfig } from '../../shared/config/run-config';
import {
  isBedrockError,
  isRetryable,
  type BedrockCallError,
  type CreateThroughputRequest,
  type OrchestrationDeps,
} from '../../shared/orchestration/ports';
import { PROVISIONED_THROUGHPUT_QUOTAS } from '../../shared/catalog/models';
import { DEPLOYMENT_SLOT_QUOTA, queueForSlot, THROUGHPUT_SLOT_QUOTA, waitsFor } from '../../shared/orchestration/slots';
import { runBase } from '../../shared/runs/keys';
import { currentStage, failRun, recordRetry, withProvision } from '../../shared/runs/record';
import { evaluationPlan, requestEvaluation } from '../../shared/orchestration/evaluation';
import { servedModelOf, servingFor } from '../../shared/orchestration/serving';

export type ProvisionDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'send' | 'count' | 'settings' | 'now' | 'random'
>;

export type ProvisionOutcome =
  'created' | 'duplicate' | 'stale' | 'failed' | 'cancelled' | 'queued' | 'throttled' | 'unknown-run';

/**
 * Buys Provisioned Throughput for the run's new custom model (a custom model can only be used through it, api
 * §11.1), once: the name and clientRequestToken derive from the run, so a redelivery gets the same throughput. A
 * no-commitment throughput is billed by the hour until deleted, so it gets a time to live at once, enforced twice:
 * by a delayed `throughput.expire` message and by the scheduled sweeper, which needs nothing but the runs table.
 * A commitment term is bought only when the configuration names one.
 */
export async function provisionModel(
  runId: string,
  modelArn: string,
  deps: ProvisionDeps,
  correlationId?: string,
  retry = 0,
): Promise<ProvisionOutcome> {
  const { runs, now, settings } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  if (run.modelArn !== modelArn) return 'stale';
  // A run queued for a throughput (or deployment) slot is tried from `queued`, and moves on only once it has one.
  const serving = servingFor(run.config, modelArn);
  const queued = waitsFor(run, serving === 'deployment' ? 'deployment' : 'throughput');
  if (run.status !== 'provisioning' && !queued) return 'stale';
  const stage = currentStage(run);
  const p = run.config.provisioning;
  if (serving === 'deployment') return deployModel(run, modelArn, queued, deps, correlationId, retry);
  if (run.provisionedModelArn && run.provision?.modelArn === modelArn) {
    // Created by an earlier delivery; make sure it is being watched.
    await schedulePoll(run, run.provisionedModelArn, 1, settings.throughputPollSeconds, deps, correlationId);
    return 'duplicate';
  }
  const name = throughputName(runId, stage);
  let arn: string;
  try {
    arn = await createOrFindThroughput(
      {
        name,
        clientRequestToken: throughputClientToken(runId, stage, (run.provision?.attempts ?? 0) + 1),
        modelId: modelArn,
        modelUnits: p.modelUnits,
        ...(p.commitmentDuration ? { commitmentDuration: p.commitmentDuration } : {}),
        tags: { 'btp:run-id': runId },
      },
      deps,
    );
  } catch (err) {
    if (isBedrockError(err, 'quota') && waitable(p)) {
      // Every no-commitment slot of the account is taken: wait for one (a time to live frees one within hours).
      const reason = `${err.message} The model ${modelArn} is trained; the run waits for a throughput to be deleted.`;
      const wait = { slot: 'throughput' as const, quota: THROUGHPUT_SLOT_QUOTA, reason };
      const delaySeconds = await queueForSlot(runs, run, 'provisioning', wait, deps);
      if (delaySeconds === undefined) return 'duplicate';
      await deps.send(ModelReady, runId, { modelArn, retry: 0 }, { correlationId, delaySeconds });
      return 'queued';
    } else if (isBedrockError(err, 'quota')) {
      const reason =
        `Provisioned Throughput quota reached (${err.message}). The model ${modelArn} is trained; raise the quota ` +
        `or change provisioning (modelUnits, commitmentDuration), then post model.provision for run ${runId}.`;
      const hint = `raise the quota, or change provisioning.modelUnits / provisioning.commitmentDuration, then btp resume ${runId} --from provision`;
      await failRun(runs, run, run.status, { stage: 'provision', reason, hint, record: 'provision' }, now());
      return 'failed';
    } else if (isBedrockError(err, 'access-denied', 'validation', 'not-found', 'conflict')) {
      await failRun(
        runs,
        run,
        run.status,
        {
          stage: 'provision',
          reason: `Bedrock refused the throughput: ${err.message}`,
          hint: `change what Bedrock names (provisioning.modelUnits, provisioning.commitmentDuration, the provision role), then btp resume ${runId} --from provision`,
          record: 'provision',
        },
        now(),
        {
          code: err.code,
        },
      );
      return 'failed';
    } else if (isRetryable(err) && retry < settings.maxThrottleRetries) {
      return retryLater(run, modelArn, err, retry + 1, deps, correlationId);
    } else {
      throw err; // unknown, or retried for long enough: SQS retries it, and the sweeper drives the run again later
    }
  }
  const at = now();
  // The time to live runs on the clock Bedrock's time runs on: modelled hours, fast against the local emulator.
  const ttlMs = Math.max((p.ttlHours * 3_600_000) / settings.timeScale, settings.minTtlSeconds * 1000);
  const expiresAt = p.commitmentDuration ? undefined : new Date(at.getTime() + ttlMs).toISOString();
  const patch: Partial<Run> = {
    provisionedModelArn: arn,
    ...(expiresAt ? { throughputExpiresAt: expiresAt } : {}),
    provision: {
      status: 'running',
      attempts: (run.provision?.attempts ?? 0) + 1,
      startedAt: at.toISOString(),
      modelArn,
      modelUnits: p.modelUnits,
      ...(p.commitmentDuration ? { commitmentDuration: p.commitmentDuration } : {}),
      ttlHours: p.ttlHours,
    },
  };
  const event = {
    type: 'throughput.created',
    detail: { provisionedModelArn: arn, modelUnits: p.modelUnits, expiresAt },
  };
  const recorded = await recordServingOnce(run, queued, patch, event, runs, (r) => r.provisionedModelArn === arn);
  if (recorded === 'duplicate') return 'duplicate'; // a concurrent delivery recorded it meanwhile
  if (!recorded) {
    // The run left its status while we bought (a cancel): do not leave an hourly bill behind.
    if (!p.commitmentDuration) await deleteQuietly(arn, deps);
    return 'cancelled';
  }
  await schedulePoll(recorded, arn, 1, settings.throughputPollSeconds, deps, correlationId);
  if (expiresAt) await scheduleExpiry(runId, arn, expiresAt, deps, correlationId);
  return 'created';
}

/**
 * Records what now serves the run's model: a run that waited for a slot leaves `queued` in the same write, any other
 * stays `provisioning`. Undefined when the run has moved meanwhile (a cancel) or another delivery has recorded the
 * same throughput or deployment (`recorded`): two deliveries of model.ready buy one under the run's clientRequestToken,
 * and only one may record it, or its event would be written twice.
 */
function recordServing(
  runId: string,
  queued: boolean,
  patch: Partial<Run>,
  event: { type: string; detail: Record<string, unknown> },
  runs: ProvisionDeps['runs'],
  recorded: (run: Run) => boolean,
): Promise<Run | undefined> {
  return queued
    ? runs.transition(runId, 'queued', 'provisioning', { ...patch, waiting: undefined }, event, { unless: recorded })
    : runs.update(runId, 'provisioning', patch, event, { unless: recorded });
}

/**
 * Records what this delivery bought (recordServing), or says why not: 'duplicate' when another delivery recorded it,
 * undefined when the run has moved on (a cancel). A copy of model.ready whose create met the full quota just before a
 * slot freed may move the run to `queued` after this delivery read it in `provisioning`: the run then waits for the
 * very throughput or deployment this delivery holds, so it is recorded from `queued` rather than deleted.
 */
async function recordServingOnce(
  run: Run,
  queued: boolean,
  patch: Partial<Run>,
  event: { type: string; detail: Record<string, unknown> },
  runs: ProvisionDeps['runs'],
  recorded: (run: Run) => boolean,
): Promise<Run | 'duplicate' | undefined> {
  const done = await recordServing(run.runId, queued, patch, event, runs, recorded);
  if (done) return done;
  const latest = await runs.get(run.runId);
  if (latest && recorded(latest)) return 'duplicate';
  const slot = patch.deploymentArn ? 'deployment' : 'throughput';
  if (queued || !latest || latest.modelArn !== run.modelArn || !waitsFor(latest, slot)) return undefined;
  const fromQueued = await recordServing(run.runId, true, patch, event, runs, recorded);
  if (fromQueued) return fromQueued;
  const again = await runs.get(run.runId);
  return again && recorded(again) ? 'duplicate' : undefined;
}

/** Creates the run's throughput, or finds it when an earlier delivery created it (its name is the run's). */
async function createOrFindThroughput(req: CreateThroughputRequest, { bedrock }: ProvisionDeps): Promise<string> {
  try {
    return await bedrock.createThroughput(req);
  } catch (err) {
    if (!(isBedrockError(err, 'validation', 'conflict') && /name|exist|in use/i.test(err.message))) throw err;
    return (await bedrock.getThroughput(req.name)).arn;
  }
}

/**
 * A full quota that a slot freeing up will satisfy: the count of no-commitment throughputs. A commitment needs model
 * units AWS support grants, and a no-commitment throughput of more model units than the quota allows never fits.
 */
function waitable(p: Run['config']['provisioning']): boolean {
  const perThroughput = PROVISIONED_THROUGHPUT_QUOTAS.modelUnitsPerNoCommitmentThroughput.value;
  return !p.commitmentDuration && (perThroughput == null || p.modelUnits <= perThroughput);
}

/**
 * Follows a throughput to InService or Failed (the run fails and the throughput is deleted; so too when it is still
 * Creating when its time to live ends). In service, the run moves to `evaluating` (the evaluate step tries the model)
 * when `provisioning.evaluateSamples` > 0 and its last stage has test records, else it succeeds.
 */
export async function pollThroughput(
  runId: string,
  arn: string,
  poll: number,
  deps: ProvisionDeps,
): Promise<'in-service' | 'creating' | 'failed' | 'stale' | 'throttled'> {
  const { runs, bedrock, now, settings } = deps;
  const run = await runs.get(runId);
  if (run?.status === 'evaluating' && servedModelOf(run)?.arn === arn && run.evaluation?.status === 'pending') {
    // A redelivery of the poll that moved the run: the crash that brought it back may have come before the request
    // below was sent, and nothing else would send it. A second request is harmless (evaluate is idempotent).
    await requestEvaluation(runId, arn, { retry: 0 }, deps);
    return 'in-service';
  }
  // The poll follows what serves the model: its throughput, or its deployment (whose Active reads as InService).
  if (!run || run.status !== 'provisioning' || servedModelOf(run)?.arn !== arn) return 'stale';
  const deployment = run.deploymentArn === arn;
  const lastPoll = run.provision?.lastPoll;
  if (lastPoll !== undefined && poll <= lastPoll) return 'stale'; // a copy of a poll already made
  // Every write below is about this throughput or deployment: once the run is served by another (a resume bought a
  // new one while this poll waited for Bedrock's answer), the write is refused.
  const onThis = { unless: (current: Run) => servedModelOf(current)?.arn !== arn };
  let status: string;
  let failureMessage: string | undefined;
  try {
    if (deployment) {
      const d = await bedrock.getDeployment!(arn);
      ({ failureMessage } = d);
      status = d.status === 'Active' ? 'InService' : d.status;
    } else ({ status, failureMessage } = await bedrock.getThroughput(arn));
  } catch (err) {
    if (isBedrockError(err, 'not-found')) {
      // Gone before it was ever seen in service (deleted by someone, or by a step that thought the run had moved on):
      // no later poll can find it, so the run fails with the way on instead of polling a missing resource for ever.
      const what = deployment ? 'Custom model deployment' : 'Provisioned Throughput';
      await failRun(
        runs,
        run,
        'provisioning',
        {
          stage: 'provision',
          reason: `${what} ${arn} no longer exists: it was deleted before it was in service`,
          hint: `the model is trained; ${deployment ? 'deploy it' : 'buy throughput'} again: btp resume ${runId} --from provision`,
          record: 'provision',
          also: withProvision({ deletedAt: now().toISOString() }),
        },
        now(),
        {},
        onThis,
      );
      return 'failed';
    }
    if (!isRetryable(err)) throw err;
    // The throughput is being created whatever the API answers now: look again after a capped, jittered backoff.
    await recordRetry(runs, run, 'provisioning', 'provision', err, poll, now());
    const delaySeconds = retryDelaySeconds(Math.min(poll, settings.maxThrottleRetries), settings, deps.random);
    await schedulePoll(run, arn, poll + 1, delaySeconds, deps);
    return 'throttled';
  }
  if (status === 'InService') {
    const at = now().toISOString();
    // Try the model on held-out test records when there are some to try and somewhere to ask; else the run is done.
    const plan = deps.send.reaches(EvaluationRequested) ? evaluationPlan(run) : undefined;
    const done = await runs.transition(
      runId,
      'provisioning',
      plan ? 'evaluating' : 'succeeded',
      (current) => ({
        ...withProvision({ status: 'done', endedAt: at, inServiceAt: at })(current),
        ...(plan ? { evaluation: { status: 'pending', attempts: 0, plan } } : {}),
      }),
      deployment
        ? {
            type: 'deployment.active',
            detail: { deploymentArn: arn, ...(plan ? { evaluateSamples: plan.samples } : {}) },
          }
        : {
            type: 'throughput.in-service',
            detail: { provisionedModelArn: arn, ...(plan ? { evaluateSamples: plan.samples } : {}) },
          },
      onThis,
    );
    if (!done) return 'stale';
    // A crash between the transition and this send brings this poll back: the branch above sends it then.
    if (plan) await requestEvaluation(runId, arn, { retry: 0 }, deps);
    return 'in-service';
  }
  if (status === 'Failed') {
    const what = deployment ? 'Custom model deployment' : 'Provisioned Throughput';
    await failRun(
      runs,
      run,
      'provisioning',
      {
        stage: 'provision',
        reason: `${what} ${arn} failed: ${failureMessage ?? 'no failure message'}`,
        hint: `the model is trained; ${deployment ? 'deploy it' : 'buy throughput'} again: btp resume ${runId} --from provision`,
        record: 'provision',
      },
      now(),
      {},
      onThis,
    );
    if (deployment) await deleteDeployment(runId, arn, deps);
    else await expireThroughput(runId, arn, deps, { force: true });
    return 'failed';
  }
  if (!deployment && run.throughputExpiresAt && Date.parse(run.throughputExpiresAt) <= now().getTime()) {
    // Still not in service when its time to live ended (stuck Creating): nothing may use it before it is to be deleted,
    // and the expiry leaves a throughput that is not in service to this poll, so the poll deletes it and fails the run.
    await failRun(
      runs,
      run,
      'provisioning',
      {
        stage: 'provision',
        reason:
          `Provisioned Throughput ${arn} was still ${status} when its time to live ` +
          `(provisioning.ttlHours: ${run.config.provisioning.ttlHours}) ended; it was deleted`,
        hint: `the model is trained; raise provisioning.ttlHours if creation takes that long, then btp resume ${runId} --from provision`,
        record: 'provision',
      },
      now(),
      {},
      onThis,
    );
    await expireThroughput(runId, arn, deps, { force: true });
    return 'failed';
  }
  await schedulePoll(
    run,
    arn,
    poll + 1,
    backoffSeconds(Math.min(poll, 3), {
      baseSeconds: settings.throughputPollSeconds,
      maxSeconds: 900,
      jitter: 0.1,
      random: deps.random,
    }),
    deps,
  );
  // Recording the poll keeps the run's updatedAt fresh while the throughput is created, so the sweeper knows it is
  // watched, and makes a copy of this poll a duplicate.
  const polled = (current: Run) =>
    current.provision
      ? { provision: { ...current.provision, lastPoll: Math.max(poll, current.provision.lastPoll ?? 0) } }
      : {};
  if (run.provision) await runs.update(runId, 'provisioning', polled, undefined, onThis);
  return 'creating';
}

export type ExpireOutcome =
  'deleted' | 'waiting' | 'already-deleted' | 'commitment' | 'deployment-kept' | 'unknown-run';

/**
 * Deletes a run's no-commitment throughput once its time to live is over (or at once with `force`, for a cancel or
 * a failed throughput). The run's record is the truth: an expiry message for a throughput the run no longer holds,
 * or that was already deleted, does nothing; a message that arrives early is delayed again.
 */
export async function expireThroughput(
  runId: string,
  arn: string,
  deps: ProvisionDeps,
  opts: { force?: boolean } = {},
): Promise<ExpireOutcome> {
  const { runs, now } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  if (run.deploymentArn === arn) {
    // A deployment has no time to live (it costs nothing idle); a cancelled run's is deleted, freeing its quota slot.
    if (run.status !== 'cancelled' && !opts.force) return 'deployment-kept';
    return deleteDeployment(runId, arn, deps);
  }
  if (run.provisionedModelArn !== arn || !run.throughputExpiresAt) return 'already-deleted';
  // A commitment term cannot be deleted before it ends (docs/bedrock-api.md §4.3, §11.1); it never gets a time to live
  // anyway.
  if (run.config.provisioning.commitmentDuration) return 'commitment';
  const remaining = (new Date(run.throughputExpiresAt).getTime() - now().getTime()) / 1000;
  if (!opts.force && run.status !== 'cancelled' && remaining > 0) {
    await scheduleExpiry(runId, arn, run.throughputExpiresAt, deps);
    return 'waiting';
  }
  if (!opts.force && run.status === 'provisioning') {
    // Not seen in service yet: the run's poll decides (in service, the run moves on and the next expiry deletes it;
    // failed, or still Creating past its time to live, the poll deletes it). Deleting it now would fail a run whose
    // model is trained only because its throughput was slow to come up, or its poll slow to look.
    const { delaySeconds } = sqsDelay(Math.max(1, deps.settings.throughputPollSeconds));
    const payload = { provisionedModelArn: arn, expiresAt: run.throughputExpiresAt };
    await deps.send(ThroughputExpire, runId, payload, { delaySeconds });
    return 'waiting';
  }
  await deleteQuietly(arn, deps);
  const at = now().toISOString();
  // Built from the run as the write finds it: a poll may have noted itself on the provision record meanwhile.
  const patch = (current: Run): Partial<Run> => ({
    throughputExpiresAt: undefined,
    ...withProvision({ deletedAt: at })(current),
  });
  const event = {
    type: 'throughput.deleted',
    detail: { provisionedModelArn: arn, expiresAt: run.throughputExpiresAt, forced: Boolean(opts.force) },
  };
  if (run.status === 'provisioning') {
    // Deleted (forced) before it was ever in service: the run cannot succeed with it.
    await failRun(
      runs,
      run,
      'provisioning',
      {
        stage: 'provision',
        reason: `throughput ${arn} was deleted before it was in service`,
        hint: `raise provisioning.ttlHours, then btp resume ${runId} --from provision`,
        record: 'provision',
        also: patch,
      },
      now(),
    );
  } else {
    await runs.update(runId, run.status, patch, event);
  }
  // The hours it was held (modelled hours against the local emulator's fast clock), the figure its bill follows.
  const since = run.provision?.startedAt;
  if (since)
    deps.count('ThroughputHours', ((Date.parse(at) - Date.parse(since)) / 3_600_000) * deps.settings.timeScale);
  return 'deleted';
}

/**
 * Serves the run's model with a custom model deployment (on demand, billed per token: no hourly bill, so no time to
 * live), once: the name and clientRequestToken derive from the run, as a throughput's do. The deployment is followed
 * by the same poll as a throughput, to Active, and then evaluated the same way. Throttling and transient errors back
 * off as a throughput's creation does.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html
 */
async function deployModel(
  run: Run,
  modelArn: string,
  queued: boolean,
  deps: ProvisionDeps,
  correlationId: string | undefined,
  retry: number,
): Promise<ProvisionOutcome> {
  const { runs, bedrock, now, settings } = deps;
  const { runId } = run;
  const stage = currentStage(run);
  const p = run.config.provisioning;
  if (run.deploymentArn && run.provision?.modelArn === modelArn && !run.provision.deletedAt) {
    await schedulePoll(run, run.deploymentArn, 1, settings.throughputPollSeconds, deps, correlationId);
    return 'duplicate';
  }
  const refuse = async (reason: string, hint: string, code?: string) => {
    await failRun(
      runs,
      run,
      run.status,
      { stage: 'provision', reason, hint, record: 'provision' },
      now(),
      code ? { code } : undefined,
    );
    return 'failed' as const;
  };
  const instead = `or serve it with Provisioned Throughput (provisioning.serving: "provisioned-throughput"), then btp resume ${runId} --from provision`;
  if (!bedrock.createDeployment || !bedrock.getDeployment)
    return refuse('this deployment of the pipeline cannot create custom model deployments', instead);
  const name = deploymentName(runId, stage);
  let arn: string;
  try {
    arn = await bedrock.createDeployment({
      name,
      clientRequestToken: deploymentClientToken(runId, stage, (run.provision?.attempts ?? 0) + 1),
      modelArn,
      tags: { 'btp:run-id': runId },
    });
  } catch (err) {
    if (isBedrockError(err, 'validation', 'conflict') && /name|exist|in use/i.test(err.message)) {
      arn = (await bedrock.getDeployment(name)).arn; // this run's deployment already exists
    } else if (isBedrockError(err, 'quota')) {
      // Every deployment slot of the account is taken: wait for one. Deployments have no time to live, so the slot
      // frees when the gate, a cleanup or a user deletes one; `btp status` shows what the run waits for.
      const reason =
        `${err.message} The model ${modelArn} is trained; the run waits for a custom model deployment to be ` +
        'deleted (btp cleanup, or delete an unused one), or for the quota to be raised.';
      const wait = { slot: 'deployment' as const, quota: DEPLOYMENT_SLOT_QUOTA, reason };
      const delaySeconds = await queueForSlot(runs, run, 'provisioning', wait, deps);
      if (delaySeconds === undefined) return 'duplicate';
      await deps.send(ModelReady, runId, { modelArn, retry: 0 }, { correlationId, delaySeconds });
      return 'queued';
    } else if (isBedrockError(err, 'access-denied', 'validation', 'not-found')) {
      return refuse(
        `Bedrock refused the deployment: ${err.message}`,
        `change what Bedrock names, ${instead}`,
        err.code,
      );
    } else if (isRetryable(err) && retry < settings.maxThrottleRetries) {
      return retryLater(run, modelArn, err, retry + 1, deps, correlationId);
    } else {
      throw err; // unknown, or retried for long enough: SQS retries it, and the sweeper drives the run again later
    }
  }
  const at = now().toISOString();
  const patch: Partial<Run> = {
    deploymentArn: arn,
    provision: {
      status: 'running',
      attempts: (run.provision?.attempts ?? 0) + 1,
      startedAt: at,
      modelArn,
      modelUnits: p.modelUnits,
      via: 'deployment',
      ttlHours: p.ttlHours,
    },
  };
  const event = { type: 'deployment.created', detail: { deploymentArn: arn, modelArn } };
  const recorded = await recordServingOnce(run, queued, patch, event, runs, (r) => r.deploymentArn === arn);
  if (recorded === 'duplicate') return 'duplicate'; // a concurrent delivery recorded it meanwhile
  if (!recorded) {
    // The run left its status while we deployed (a cancel): free the quota slot the deployment holds.
    await deleteQuietly(arn, deps, 'deployment');
    return 'cancelled';
  }
  await schedulePoll(recorded, arn, 1, settings.throughputPollSeconds, deps, correlationId);
  return 'created';
}

/**
 * Deletes the run's custom model deployment (a failed one, or the gate's decision) and records when on the run's
 * provision record; the ARN stays on the run, as a deleted throughput's does. Deleting one already gone is done.
 */
export async function deleteDeployment(
  runId: string,
  arn: string,
  deps: ProvisionDeps,
): Promise<'deleted' | 'already-deleted' | 'unknown-run'> {
  const { runs, now } = deps;
  const run = await runs.get(runId);
  if (!run) return 'unknown-run';
  if (run.deploymentArn !== arn || run.provision?.deletedAt) return 'already-deleted';
  await deleteQuietly(arn, deps, 'deployment');
  const at = now().toISOString();
  await runs.update(runId, run.status, withProvision({ deletedAt: at }), {
    type: 'deployment.deleted',
    detail: { deploymentArn: arn },
  });
  return 'deleted';
}

/**
 * A throttled or transient failure to buy what serves the model: the retry is recorded on the run and model.ready is
 * sent again after a jittered backoff; `duplicate` when another delivery moved the run meanwhile.
 */
async function retryLater(
  run: Run,
  modelArn: string,
  err: BedrockCallError,
  retry: number,
  deps: ProvisionDeps,
  correlationId: string | undefined,
): Promise<'throttled' | 'duplicate'> {
  const { runs, settings, now } = deps;
  if (!(await recordRetry(runs, run, run.status, 'provision', err, retry, now()))) return 'duplicate';
  const delaySeconds = retryDelaySeconds(retry, settings, deps.random);
  await deps.send(ModelReady, run.runId, { modelArn, retry }, { correlationId, delaySeconds });
  return 'throttled';
}

/** Deletes a throughput or a deployment; one already gone is deleted too. */
async function deleteQuietly(
  arn: string,
  { bedrock }: ProvisionDeps,
  what: 'throughput' | 'deployment' = 'throughput',
): Promise<void> {
  try {
    await (what === 'deployment' ? bedrock.deleteDeployment?.(arn) : bedrock.deleteThroughput(arn));
  } catch (err) {
    if (!isBedrockError(err, 'not-found')) throw err; // already gone: the goal is met
  }
}

async function schedulePoll(
  run: Run,
  arn: string,
  poll: number,
  delaySeconds: number,
  { send }: ProvisionDeps,
  correlationId?: string,
) {
  await send(ThroughputPoll, run.runId, { provisionedModelArn: arn, poll }, { correlationId, delaySeconds });
}

async function scheduleExpiry(
  runId: string,
  arn: string,
  expiresAt: string,
  { send, now }: ProvisionDeps,
  correlationId?: string,
) {
  const remaining = (new Date(expiresAt).getTime() - now().getTime()) / 1000;
  const { delaySeconds } = sqsDelay(Math.max(0, remaining));
  await send(ThroughputExpire, runId, { provisionedModelArn: arn, expiresAt }, { correlationId, delaySeconds });
}

/**
 * Buys throughput for an existing custom model (the `model.provision` control message), recorded on a run: the
 * run's own model after its throughput was deleted, or any custom model under a new run id.
 */
export async function provisionExistingModel(
  runId: string,
  request: {
    modelArn: string;
    modelUnits?: number | undefined;
    ttlHours?: number | undefined;
    requestedBy?: string | undefined;
  },
  deps: ProvisionDeps,
  correlationId?: string,
): Promise<ProvisionOutcome | 'busy' | 'invalid-run-id'> {
  const { runs, now, settings } = deps;
  const problem = runIdNameProblem(runId);
  if (problem) return 'invalid-run-id';
  const at = now().toISOString();
  const overrides = {
    ...(request.modelUnits ? { modelUnits: request.modelUnits } : {}),
    ...(request.ttlHours ? { ttlHours: request.ttlHours } : {}),
  };
  const run = await runs.get(runId);
  const detail = { modelArn: request.modelArn, requestedBy: request.requestedBy, ...overrides };
  if (!run) {
    await runs.create(
      {
        runId,
        status: 'provisioning',
        version: 1,
        createdAt: at,
        updatedAt: at,
        source: { bucket: settings.artifactsBucket, key: runBase(runId) },
        config: resolveRunConfig({ provisioning: { enabled: true, ...overrides } }),
        artifactsPrefix: `s3://${settings.artifactsBucket}/${runBase(runId)}`,
        stages: [],
        modelArn: request.modelArn,
      },
      { type: 'model.provision.requested', detail },
    );
  } else if (run.status === 'provisioning') {
    if (run.modelArn !== request.modelArn) return 'busy';
  } else {
    // A live throughput, or a live deployment (which costs nothing idle, and already serves the model), is in use.
    const deployed = run.deploymentArn !== undefined && !run.provision?.deletedAt;
    if (run.throughputExpiresAt || deployed || (run.status !== 'succeeded' && run.status !== 'failed')) return 'busy';
    const config = { ...run.config, provisioning: { ...run.config.provisioning, enabled: true, ...overrides } };
    const moved = await runs.transition(
      runId,
      run.status,
      'provisioning',
      {
        modelArn: request.modelArn,
        provisionedModelArn: undefined,
        deploymentArn: undefined,
        failure: undefined,
        config,
      },
      { type: 'model.provision.requested', detail },
    );
    if (!moved) return 'duplicate';
  }
  return provisionModel(runId, request.modelArn, deps, correlationId);
}
