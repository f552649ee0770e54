import { resolveRunConfig, stageConfig, stageCount } from '../../../shared/config/run-config';
import { jobName } from '../../../shared/orchestration/naming';
import { stageKeys } from '../../../shared/runs/keys';
import { currentPart, currentStage, withJob, withPrepare } from '../../../shared/runs/record';
import { nextStep, planParts, stageSource } from '../../../shared/runs/stages';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

/** The 2024 Titan recipe's chain: continued pre-training, then fine-tuning (Titan is the model that has both). */
const twoStage = () =>
  resolveRunConfig(TITAN_2024, {
    training: { customizationType: 'CONTINUED_PRE_TRAINING' },
    stages: [
      { prep: { template: { kind: 'text' } }, split: { validation: 0, test: 0 }, maxRecordsPerJob: 100_000 },
      {
        dataset: { key: 'inputs/dolly.jsonl' },
        customizationType: 'FINE_TUNING',
        prep: { template: { kind: 'dolly' } },
        hyperParameters: { epochCount: '2' },
      },
    ],
  });

describe('chained runs: stage and part planning', () => {
  it("splits a corpus over one job's quota into equal sequential parts: the seed's five jobs of 100,000", () => {
    const parts = planParts(500_000, 100_000);
    expect(parts).toHaveLength(5);
    expect(parts.map((p) => p.end - p.start)).toEqual([100_000, 100_000, 100_000, 100_000, 100_000]);
    expect(parts[4]!.end).toBe(500_000);
  });

  it('keeps parts within the maximum and within one record of each other, covering every record once', () => {
    const parts = planParts(1_001, 250);
    expect(parts.map((p) => p.end - p.start)).toEqual([201, 200, 200, 200, 200]);
    parts.forEach((p, i) => expect(p.start).toBe(i === 0 ? 0 : parts[i - 1]!.end));
    expect(parts.at(-1)!.end).toBe(1_001);
  });

  it('makes one part without a maximum, or when the set fits', () => {
    expect(planParts(10, undefined)).toEqual([{ part: 0, start: 0, end: 10 }]);
    expect(planParts(100_000, 100_000)).toEqual([{ part: 0, start: 0, end: 100_000 }]);
  });

  it('goes part by part, then stage by stage, then to the final model', () => {
    const config = twoStage();
    expect(stageCount(config)).toBe(2);
    expect(nextStep(config, 0, 0, 3)).toEqual({ kind: 'part', stage: 0, part: 1 });
    expect(nextStep(config, 0, 2, 3)).toEqual({ kind: 'stage', stage: 1 });
    expect(nextStep(config, 1, 0, 1)).toEqual({ kind: 'final' });
    expect(nextStep(resolveRunConfig(), 0, 0, 1)).toEqual({ kind: 'final' }); // a single-stage run, as today
  });

  it("gives each stage its configuration: the run's own with the stage's overrides", () => {
    const config = twoStage();
    const cpt = stageConfig(config, 0);
    expect(cpt.training.customizationType).toBe('CONTINUED_PRE_TRAINING');
    expect(cpt.prep.template.kind).toBe('text');
    expect(cpt.split).toMatchObject({ train: 10_000, validation: 0, test: 0 });
    const ft = stageConfig(config, 1);
    expect(ft.training.customizationType).toBe('FINE_TUNING');
    expect(ft.prep.template.kind).toBe('dolly');
    expect(ft.split.validation).toBe(1_000);
    expect(ft.training.hyperParameters).toEqual({ epochCount: '2', batchSize: '1', learningRate: '0.00001' });
    expect(ft.training.baseModelId).toBe('amazon.titan-text-lite-v1:0:4k');
    expect(ft.stages).toBeUndefined();
    const single = resolveRunConfig();
    expect(stageConfig(single, 0)).toBe(single);
  });

  it("reads stage 0 from the run's source and later stages from their dataset, in the source bucket by default", () => {
    const config = twoStage();
    const source = { bucket: 'datasets-bucket', key: 'datasets/jawiki.jsonl', etag: 'e' };
    expect(stageSource({ source, config }, 0)).toBe(source);
    expect(stageSource({ source, config }, 1)).toEqual({ bucket: 'datasets-bucket', key: 'inputs/dolly.jsonl' });
  });

  it('refuses stages that break the dataset rule or carry an invalid override', () => {
    expect(() => resolveRunConfig({ stages: [{ dataset: { key: 'a.jsonl' } }] })).toThrow(
      /stage 0 trains on the run's own source/,
    );
    expect(() => resolveRunConfig({ stages: [{}, {}] })).toThrow(/every stage after the first names its dataset/);
    expect(() => resolveRunConfig({ stages: [{ split: { train: -1 } }] })).toThrow(
      /"stages",\s*0,\s*"split",\s*"train"/,
    );
  });

  it("puts every stage's artifacts under stages/<n>/", () => {
    expect(stageKeys('r-1', 0).prepared('train')).toBe('runs/r-1/stages/0/prepared/train.jsonl');
    expect(stageKeys('r-1', 1).prepared('train')).toBe('runs/r-1/stages/1/prepared/train.jsonl');
    expect(stageKeys('r-1', 1).manifest).toBe('runs/r-1/stages/1/manifest.json');
    expect(stageKeys('r-1', 0).output).toBe('runs/r-1/stages/0/output/');
  });

  it('derives the current stage and part from the records: the last stage started, its last job', () => {
    let run = { stages: withPrepare({ stages: [] }, 0, { status: 'running' }) };
    expect([currentStage(run), currentPart(run)]).toEqual([0, 0]);
    run = { stages: withJob(run, 0, 0, { status: 'done' }) };
    run = { stages: withJob(run, 0, 1, { status: 'pending' }) };
    expect([currentStage(run), currentPart(run)]).toEqual([0, 1]);
    run = { stages: withPrepare(run, 1, { status: 'pending' }) };
    expect([currentStage(run), currentPart(run)]).toEqual([1, 0]);
    expect(() => withJob(run, 1, 1, { status: 'pending' })).toThrow(/part 1 cannot be recorded yet/);
    expect(currentStage({ stages: [] })).toBe(0); // a run made by model.provision
  });

  it('names each sequential job by run, stage, part and attempt, and single-stage jobs as before', () => {
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 1 })).toBe('btp-r-1-s0-a1');
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 1, part: 0 })).toBe('btp-r-1-s0-a1');
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 2, part: 3 })).toBe('btp-r-1-s0p3-a2');
  });
});
