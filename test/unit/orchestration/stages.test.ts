import { resolveRunConfig, stageConfig, stageCount } from '../../../shared/config/run-config';
import { jobName, parseJobName, stageKey } from '../../../shared/orchestration/naming';
import { nextStep, planParts, stageArtifactKeys, stageSource } from '../../../shared/orchestration/stages';

const twoStage = () =>
  resolveRunConfig({
    training: { customizationType: 'CONTINUED_PRE_TRAINING' },
    stages: [
      { prep: { template: { kind: 'text' } }, split: { validation: 0, test: 0 }, maxRecordsPerJob: 100_000 },
      { dataset: { key: 'inputs/dolly.jsonl' }, customizationType: 'FINE_TUNING', prep: { template: { kind: 'dolly' } }, hyperParameters: { epochCount: '2' } },
    ],
  });

describe('chained runs: stage and part planning', () => {
  it('splits a corpus over one job\'s quota into equal sequential parts: the seed\'s five jobs of 100,000', () => {
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

  it('gives each stage its configuration: the run\'s own with the stage\'s overrides', () => {
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

  it('reads stage 0 from the run\'s source and later stages from their dataset, in the source bucket by default', () => {
    const config = twoStage();
    const source = { bucket: 'datasets-bucket', key: 'datasets/jawiki.jsonl', etag: 'e' };
    expect(stageSource({ source, config }, 0)).toBe(source);
    expect(stageSource({ source, config }, 1)).toEqual({ bucket: 'datasets-bucket', key: 'inputs/dolly.jsonl' });
  });

  it('refuses stages that break the dataset rule or carry an invalid override', () => {
    expect(() => resolveRunConfig({ stages: [{ dataset: { key: 'a.jsonl' } }] })).toThrow(/stage 0 trains on the run's own source/);
    expect(() => resolveRunConfig({ stages: [{}, {}] })).toThrow(/every stage after the first names its dataset/);
    expect(() => resolveRunConfig({ stages: [{ split: { train: -1 } }] })).toThrow(/"stages",\s*0,\s*"split",\s*"train"/);
  });

  it('keeps stage 0 at today\'s artifact paths and puts later stages under stages/<n>/', () => {
    expect(stageArtifactKeys('r-1', 0).prepared('train')).toBe('runs/r-1/prepared/train.jsonl');
    expect(stageArtifactKeys('r-1', 1).prepared('train')).toBe('runs/r-1/stages/1/prepared/train.jsonl');
    expect(stageArtifactKeys('r-1', 1).manifest).toBe('runs/r-1/stages/1/manifest.json');
  });

  it('names each sequential job by run, stage, part and attempt, and single-stage jobs as before', () => {
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 1 })).toBe('btp-r-1-s0-a1');
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 1, part: 0 })).toBe('btp-r-1-s0-a1');
    expect(jobName({ runId: 'r-1', stage: 0, attempt: 2, part: 3 })).toBe('btp-r-1-s0p3-a2');
    expect(parseJobName('btp-r-1-s0p3-a2')).toEqual({ runId: 'r-1', stage: 0, part: 3, attempt: 2 });
    expect(parseJobName('btp-r-1-s1-a1')).toEqual({ runId: 'r-1', stage: 1, attempt: 1 });
    expect(stageKey('train', 0)).toBe('train');
    expect(stageKey('train', 0, 2)).toBe('train.2');
    expect(stageKey('prepare', 1)).toBe('prepare-1');
    expect(stageKey('submit', 1, 1)).toBe('submit-1.1');
  });
});
