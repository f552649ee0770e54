import { resolveRunConfig, variantConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { settleExperiment, startVariants, variantRuns } from '../../../shared/orchestration/variants';
import { Run } from '../../../shared/runs/run';
import { cancelRun } from '../../../services/monitor/monitor';
import { submitJob } from '../../../services/submit/submit';
import { makeRun, makeWorld } from '../../helpers/orchestration/fakes';

const FOUR = [
  { name: 'ft-1ep', hyperParameters: { epochCount: '1' } },
  { name: 'ft-5ep', hyperParameters: { epochCount: '5' } },
  { name: 'cpt-ft-1ep', hyperParameters: { epochCount: '1' }, continuedPreTraining: true },
  { name: 'cpt-ft-5ep', hyperParameters: { epochCount: '5' }, continuedPreTraining: true },
];
const STAGES: RunConfigInput['stages'] = [
  { customizationType: 'CONTINUED_PRE_TRAINING', prep: { template: { kind: 'text' } } },
  { dataset: { key: 'inputs/dolly.jsonl' }, customizationType: 'FINE_TUNING', hyperParameters: { batchSize: '2' } },
];

describe('variants: configuration', () => {
  it("gives each variant the fine-tuning stage's configuration with its own hyperparameters, and no stages", () => {
    const config = resolveRunConfig({ stages: STAGES, variants: FOUR });
    const v = variantConfig(config, config.variants![3]!);
    expect(v.training.customizationType).toBe('FINE_TUNING');
    expect(v.training.hyperParameters).toEqual({ epochCount: '5', batchSize: '2', learningRate: '0.00001' });
    expect(v.stages).toBeUndefined();
    expect(v.variants).toBeUndefined();
  });

  it('refuses a repeated name, pre-training without stages, and stages no variant uses', () => {
    expect(() => resolveRunConfig({ variants: [{ name: 'a' }, { name: 'a' }] })).toThrow(/is used twice/);
    expect(() => resolveRunConfig({ variants: [{ name: 'a', continuedPreTraining: true }] })).toThrow(/needs `stages`/);
    expect(() => resolveRunConfig({ stages: STAGES, variants: [{ name: 'a' }] })).toThrow(/trained for none/);
    expect(() => resolveRunConfig({ variants: [{ name: 'Not OK' }] })).toThrow(/lower-case/);
  });
});

/** An experiment of the four recipe variants whose shared pre-training is trained and whose last stage is prepared. */
function preparedExperiment(): Run {
  const base = makeRun('r-exp', { stages: STAGES, variants: FOUR });
  const stage0 = { ...base.stages[0]!, jobs: [{ status: 'done' as const, attempt: 1, modelArn: 'arn:cpt-model' }] };
  const stage1 = {
    ...base.stages[0]!,
    prepare: { ...base.stages[0]!.prepare, split: { ...base.stages[0]!.prepare.split!, manifestKey: 'm1' } },
    jobs: [{ status: 'pending' as const, attempt: 1, baseModelIdentifier: 'arn:cpt-model' }],
  };
  return { ...base, stages: [stage0, stage1] };
}

describe('variants: child runs', () => {
  it("makes one child per variant on the parent's prepared data, from the pre-trained model where asked", () => {
    const children = variantRuns(preparedExperiment(), '2026-01-01T00:00:00.000Z', 'artifacts');
    expect(children.map((c) => c.runId)).toEqual(['r-exp-v0', 'r-exp-v1', 'r-exp-v2', 'r-exp-v3']);
    for (const c of children) expect(Run.parse(c)).toEqual(c); // the run record's schema holds
    expect(children.map((c) => c.stages[0]!.prepare.split!.manifestKey)).toEqual(['m1', 'm1', 'm1', 'm1']);
    expect(children.map((c) => c.stages[0]!.jobs[0]!.baseModelIdentifier)).toEqual([
      undefined,
      undefined,
      'arn:cpt-model',
      'arn:cpt-model',
    ]);
    expect(children.map((c) => c.config.training.hyperParameters.epochCount)).toEqual(['1', '5', '1', '5']);
    expect(children.map((c) => c.source.key)).toEqual(Array(4).fill('inputs/dolly.jsonl'));
    expect(children[2]!.variant).toEqual({
      name: 'cpt-ft-1ep',
      index: 2,
      hyperParameters: { epochCount: '1', batchSize: '2', learningRate: '0.00001' },
      pretrained: { stage: 0, modelArn: 'arn:cpt-model' },
    });
  });

  it('starts the variants once: a redelivered dataset.prepared creates and moves nothing again', async () => {
    const w = makeWorld();
    await w.runs.create(preparedExperiment(), { type: 'test' });
    const trigger = { kind: 'prepared' as const, manifestKey: 'm1', stage: 1 };
    expect(await submitJob('r-exp', trigger, w.deps)).toBe('variants');
    const parent = (await w.runs.get('r-exp'))!;
    expect(parent.status).toBe('training');
    expect(parent.children).toHaveLength(4);
    expect(parent.stages[1]!.jobs).toEqual([]);
    expect(w.take('dataset.prepared').map((s) => s.message.runId)).toEqual([
      'r-exp-v0',
      'r-exp-v1',
      'r-exp-v2',
      'r-exp-v3',
    ]);
    expect(await submitJob('r-exp', trigger, w.deps)).toBe('duplicate');
    expect(w.take('dataset.prepared')).toHaveLength(0);
    expect(w.bedrock.jobs.size).toBe(0); // the parent submitted no job of its own
  });

  it('survives a crash between creating the children and moving the parent', async () => {
    const w = makeWorld();
    const parent = preparedExperiment();
    await w.runs.create(parent, { type: 'test' });
    const [first] = variantRuns(parent, w.now().toISOString(), 'artifacts');
    await w.runs.create(first!, { type: 'test' }); // an earlier delivery got this far
    expect(await startVariants(parent, w.deps)).toBe(true);
    expect(w.take('dataset.prepared')).toHaveLength(4);
    expect((await w.runs.get('r-exp'))!.children).toHaveLength(4);
  });
});

describe('variants: the experiment ends with its last variant', () => {
  async function started() {
    const w = makeWorld();
    await w.runs.create(preparedExperiment(), { type: 'test' });
    await submitJob('r-exp', { kind: 'prepared', manifestKey: 'm1', stage: 1 }, w.deps);
    w.take();
    const end = async (runId: string, to: 'succeeded' | 'failed') => {
      await w.runs.transition(runId, 'submitting', 'training', {}, { type: 'test' });
      const failure = { stage: 'train', reason: 'boom', at: w.now().toISOString() };
      return w.runs.transition(runId, 'training', to, to === 'failed' ? { failure } : {}, { type: 'test' });
    };
    return { w, end };
  }

  it('waits while a variant runs, then succeeds when all four did', async () => {
    const { w, end } = await started();
    for (const i of [0, 1, 2]) {
      const child = (await end(`r-exp-v${i}`, 'succeeded'))!;
      expect(await settleExperiment(child, w.deps)).toBe('waiting');
    }
    const last = (await end('r-exp-v3', 'succeeded'))!;
    expect(await settleExperiment(last, w.deps)).toBe('settled');
    expect(await settleExperiment(last, w.deps)).toBe('already-settled'); // a redelivered notification
    expect((await w.runs.get('r-exp'))!.status).toBe('succeeded');
  });

  it('fails naming the variants that did not succeed', async () => {
    const { w, end } = await started();
    for (const i of [0, 2, 3]) await end(`r-exp-v${i}`, 'succeeded');
    const failed = (await end('r-exp-v1', 'failed'))!;
    expect(await settleExperiment(failed, w.deps)).toBe('settled');
    const parent = (await w.runs.get('r-exp'))!;
    expect(parent.status).toBe('failed');
    expect(parent.failure?.reason).toBe('1 of 4 variants did not succeed: ft-5ep (r-exp-v1) failed: boom');
  });

  it('cancels its variants when it is cancelled', async () => {
    const { w } = await started();
    expect(await cancelRun('r-exp', 'not needed', w.deps)).toBe('cancelled');
    const statuses = await Promise.all([0, 1, 2, 3].map(async (i) => (await w.runs.get(`r-exp-v${i}`))!.status));
    expect(statuses).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect((await w.runs.get('r-exp-v0'))!.failure?.reason).toBe('experiment r-exp: not needed');
  });
});
