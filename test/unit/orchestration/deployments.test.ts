import { evaluateModel } from '../../../services/evaluate/evaluate';
import { observeJob } from '../../../services/monitor/monitor';
import { pollThroughput, provisionModel } from '../../../services/provision/provision';
import { submitJob } from '../../../services/submit/submit';
import { sweep } from '../../../services/sweeper/sweeper';
import type { RunConfigInput } from '../../../shared/config/run-config';
import { makeRun, makeWorld, putPrepared } from '../../helpers/orchestration/fakes';
import { holdAt } from '../../helpers/orchestration/hold';
import { BedrockCallError } from '../../../shared/orchestration/ports';

/**
 * A run served by a custom model deployment instead of Provisioned Throughput (provisioning.serving): the steps that
 * handle a throughput (the poll, evaluation, the gate, the sweeper's re-drives) handle the deployment the same way.
 */
const RUN = 'run-od';
const prepared = { kind: 'prepared', manifestKey: `runs/${RUN}/stages/0/manifest.json`, stage: 0 } as const;
const DEPLOYED: RunConfigInput = { provisioning: { serving: 'deployment', evaluateSamples: 4 } };

function given(config: RunConfigInput = DEPLOYED) {
  const w = makeWorld();
  const run = makeRun(RUN, config);
  run.stages[0]!.prepare.counts!.test = 4;
  run.stages[0]!.prepare.split!.test.records = 4;
  w.runs.items.set(RUN, run);
  putPrepared(w.objects, RUN, { test: 4 });
  return w;
}

/** Submit and train: the run is provisioning, with its model trained. Returns the model's ARN. */
async function trained(w: ReturnType<typeof given>) {
  await submitJob(RUN, prepared, w.deps);
  const job = w.bedrock.complete(`btp-${RUN}-s0-a1`);
  await observeJob({ kind: 'poll', runId: RUN, jobArn: job.jobArn, attempt: 1, poll: 1 }, w.deps);
  return job.outputModelArn!;
}

const run = async (w: ReturnType<typeof makeWorld>) => (await w.runs.get(RUN))!;

describe('a run served by a custom model deployment', () => {
  it('creates one deployment (no throughput), follows it to Active, and evaluates through it', async () => {
    const w = given();
    const modelArn = await trained(w);
    // when the model is provisioned, twice (a redelivery)
    expect(await provisionModel(RUN, modelArn, w.deps)).toBe('created');
    expect(await provisionModel(RUN, modelArn, w.deps)).toBe('duplicate');
    // then one deployment serves it, and no throughput was bought
    const [deployment, ...more] = [...w.bedrock.deployments.values()];
    expect(more).toEqual([]);
    expect(w.bedrock.live()).toEqual([]);
    expect(deployment).toMatchObject({ modelArn, name: `btp-${RUN}-s0-od` });
    expect(await run(w)).toMatchObject({ deploymentArn: deployment!.arn, provision: { via: 'deployment' } });
    expect((await run(w)).throughputExpiresAt).toBeUndefined();
    // and the poll follows it to Active, then evaluation invokes the deployment's ARN
    expect(await pollThroughput(RUN, deployment!.arn, 1, w.deps)).toBe('creating');
    deployment!.status = 'Active';
    expect(await pollThroughput(RUN, deployment!.arn, 2, w.deps)).toBe('in-service');
    expect(w.runs.eventTypes(RUN)).toEqual(expect.arrayContaining(['deployment.created', 'deployment.active']));
    const [request] = w.take('evaluation.requested');
    expect(request!.message.payload).toEqual({ provisionedModelArn: deployment!.arn, retry: 0 });
    expect(await evaluateModel(RUN, deployment!.arn, w.deps)).toBe('evaluated');
    expect(w.bedrock.invocations.map((i) => i.modelId)).toEqual(Array(4).fill(deployment!.arn));
    expect((await run(w)).status).toBe('succeeded');
  });

  it.each([
    ['a deployment', DEPLOYED, 'deployment.created'],
    ['a throughput', { provisioning: { evaluateSamples: 4 } }, 'throughput.created'],
  ] as const)('records %s once when two model.ready deliveries race', async (_, config, created) => {
    // given a trained model and two deliveries of its model.ready handled at the same time
    const w = given(config);
    const modelArn = await trained(w);
    // when both buy (one resource, under the run's clientRequestToken) and record it
    const outcomes = await Promise.all([provisionModel(RUN, modelArn, w.deps), provisionModel(RUN, modelArn, w.deps)]);
    // then one records it and the other finds it recorded: one event, one resource, nothing deleted
    expect(outcomes.sort()).toEqual(['created', 'duplicate']);
    expect(w.runs.eventTypes(RUN).filter((t) => t === created)).toHaveLength(1);
    const live = config === DEPLOYED ? [...w.bedrock.deployments.values()] : [...w.bedrock.throughputs.values()];
    expect(live.map((r) => r.deleted ?? false)).toEqual([false]);
  });

  it('records the deployment a copy made after another copy queued the run for a slot, instead of deleting it', async () => {
    const w = given();
    const modelArn = await trained(w);
    const { deps: held, arrived, release } = holdAt(w.deps, 'createDeployment');
    const copyB = provisionModel(RUN, modelArn, held);
    await arrived;
    w.bedrock.failNext.createDeployment = [
      new BedrockCallError('quota', 'ServiceQuotaExceededException', 'The account has its maximum of deployments.'),
    ];
    expect(await provisionModel(RUN, modelArn, w.deps)).toBe('queued');
    release();
    expect(await copyB).toBe('created');
    const r = await run(w);
    expect(r).toMatchObject({ status: 'provisioning', deploymentArn: expect.any(String) });
    expect(r.waiting).toBeUndefined();
    expect([...w.bedrock.deployments.values()].filter((d) => !d.deleted)).toHaveLength(1);
    expect(w.runs.eventTypes(RUN).filter((t) => t.startsWith('deployment.'))).toEqual([
      'deployment.queued',
      'deployment.created',
    ]);
  });

  it('fails the run with a hint and deletes a deployment that failed', async () => {
    const w = given();
    await provisionModel(RUN, await trained(w), w.deps);
    const deployment = [...w.bedrock.deployments.values()][0]!;
    Object.assign(deployment, { status: 'Failed', failureMessage: 'no capacity (emulated)' });
    expect(await pollThroughput(RUN, deployment.arn, 1, w.deps)).toBe('failed');
    const r = await run(w);
    expect(r.status).toBe('failed');
    expect(r.failure?.reason).toContain(`Custom model deployment ${deployment.arn} failed: no capacity (emulated)`);
    expect(r.failure?.hint).toContain(`deploy it again: btp resume ${RUN} --from provision`);
    expect(deployment.deleted).toBe(true);
    expect(r.provision?.deletedAt).toBeDefined();
  });

  it("the gate deletes a losing model's deployment, once", async () => {
    const w = given({ ...DEPLOYED, evaluation: { gate: { appliesTo: 'every-run' } } });
    await provisionModel(RUN, await trained(w), w.deps);
    const deployment = [...w.bedrock.deployments.values()][0]!;
    deployment.status = 'Active';
    await pollThroughput(RUN, deployment.arn, 1, w.deps);
    w.bedrock.answer = () => 'I do not know.'; // English: under the gate's share of Japanese answers
    expect(await evaluateModel(RUN, deployment.arn, w.deps)).toBe('evaluated');
    const r = await run(w);
    expect(r.gate).toMatchObject({ decision: 'delete', deploymentDeletedAt: expect.any(String) });
    expect(deployment.deleted).toBe(true);
    // a redelivered request deletes nothing more
    expect(await evaluateModel(RUN, deployment.arn, w.deps)).toBe('duplicate');
    expect(w.bedrock.calls.filter((c) => c === 'deleteDeployment')).toHaveLength(1);
    expect(w.runs.eventTypes(RUN).filter((t) => t === 'gate.deployment-deleted')).toHaveLength(1);
  });

  it("the sweeper re-drives a stale run's deployment poll and its lost evaluation request", async () => {
    const w = given();
    await provisionModel(RUN, await trained(w), w.deps);
    const deployment = [...w.bedrock.deployments.values()][0]!;
    w.take(); // the poll is lost
    w.advance(w.deps.settings.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).redriven).toEqual([`${RUN}: provisioning`]);
    const [poll] = w.take('throughput.poll');
    expect(poll!.message.payload).toMatchObject({ provisionedModelArn: deployment.arn });
    deployment.status = 'Active';
    expect(await pollThroughput(RUN, deployment.arn, 1, w.deps)).toBe('in-service');
    w.take(); // the evaluation request is lost
    w.advance(w.deps.settings.staleAfterSeconds + 1);
    expect((await sweep(w.deps)).reevaluated).toEqual([RUN]);
    const [again] = w.take('evaluation.requested');
    expect(again!.message.payload).toEqual({ provisionedModelArn: deployment.arn, retry: 0 });
  });
});
