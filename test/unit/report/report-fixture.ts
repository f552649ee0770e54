import { EvaluationSample, parseMetricsCsv, SplitManifest } from '../../../shared/artifacts';
import { resolveRunConfig } from '../../../shared/config/run-config';
import type { ReportInputs } from '../../../shared/report/inputs';
import type { Run } from '../../../shared/runs/run';
import { ARTIFACTS, runPipeline } from '../../helpers/prep/pipeline';
import { stage0 } from '../../helpers/orchestration/fakes';

/**
 * A finished run as the report sees it, its data prepared by the real steps (ingest, transform, split, in memory)
 * from a small dolly-shaped input with records of every outcome: kept in five categories, too long, duplicated, not
 * JSON and missing a field. The metrics CSVs are in Bedrock's documented layout.
 */
const CATEGORIES = ['open_qa', 'general_qa', 'classification', 'brainstorming <b>', 'summarization'];
const inputOf = (categories: string[]) => {
  const record = (i: number, output = `答え ${i}: テストです。`) =>
    JSON.stringify({
      instruction: `質問 ${i}: これは何ですか？`,
      input: '',
      output,
      category: categories[i % categories.length],
    });
  return [
    ...Array.from({ length: 60 }, (_, i) => record(i)),
    ...Array.from({ length: 6 }, (_, i) => record(100 + i, '長'.repeat(400))),
    ...Array.from({ length: 4 }, (_, i) => record(i)),
    '{"instruction": "not closed',
    JSON.stringify({ instruction: 'no response', category: categories[0] }),
  ].join('\n');
};

export const RUN_CONFIG = {
  prep: { filters: { maxChars: 300 } },
  split: { train: 40, validation: 10, test: 5 },
  training: { hyperParameters: { epochCount: '2', batchSize: '4', learningRate: '0.00001' }, budgetUsd: 50 },
};

export interface ReportFixture {
  run: Run;
  /** manifest.json as split wrote it. */
  manifestText: string;
  manifest: SplitManifest;
}

/** `categories`: the five categories the records cycle through (English dolly names unless given). */
export async function reportFixture(opts: { categories?: string[] } = {}): Promise<ReportFixture> {
  const r = await runPipeline(inputOf(opts.categories ?? CATEGORIES), 'datasets/dolly-ja.jsonl', RUN_CONFIG);
  const prepared = r.run!;
  const manifestText = r.objects.text(ARTIFACTS, `runs/${prepared.runId}/stages/0/manifest.json`);
  // The finished run's stage 0: the data preparation as the pipeline recorded it, then the job.
  const [stage] = finishedRun().stages;
  const run = finishedRun({
    config: prepared.config,
    stages: [{ prepare: prepared.stages[0]!.prepare, jobs: stage!.jobs }],
  });
  return { run, manifestText, manifest: SplitManifest.parse(JSON.parse(manifestText)) };
}

/** A finished run: counts and config come from the fixture's prepared data. */
export const finishedRun = (over: Partial<Run> = {}): Run => ({
  runId: 'run-report-1',
  status: 'succeeded',
  version: 9,
  createdAt: '2025-06-01T09:00:00.000Z',
  updatedAt: '2025-06-01T11:00:00.000Z',
  source: { bucket: 'btp-datasets', key: 'datasets/dolly-ja.jsonl' },
  config: resolveRunConfig(RUN_CONFIG),
  artifactsPrefix: 's3://btp-artifacts/runs/run-report-1/',
  stages: stage0('run-report-1', {
    costEstimateUsd: 3.456,
    job: {
      status: 'done',
      jobArn:
        'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/abc123def456',
      modelArn: 'arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-lite-v1:0:4k/m1',
      trainingLoss: 0.61,
      validationLoss: 0.74,
    },
  }),
  modelArn: 'arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-lite-v1:0:4k/m1',
  ...over,
});

export const trainingCsv = [
  'step_number,epoch_number,training_loss,perplexity',
  ...Array.from({ length: 40 }, (_, i) => `${i},${Math.floor(i / 20)},${(2.4 * Math.exp(-i / 12) + 0.6).toFixed(4)},1`),
].join('\n');
export const validationCsv = 'step_number,epoch_number,validation_loss,perplexity\n19,0,1.1,3\n39,1,0.74,2.1\n';
export const samples: EvaluationSample[] = [
  EvaluationSample.parse({
    index: 0,
    kind: 'prompt-completion',
    prompt: '日本の首都は？',
    reference: '東京です。',
    modelOutput: '東京です。',
  }),
];

export const reportInputs = (f: ReportFixture, over: Partial<ReportInputs> = {}): ReportInputs => ({
  run: f.run,
  manifest: f.manifest,
  training: parseMetricsCsv(trainingCsv, 'training', 'step_wise_training_metrics.csv'),
  validation: parseMetricsCsv(validationCsv, 'validation', 'validation_metrics.csv'),
  evaluationSamples: samples,
  generatedAt: '2025-06-01T12:00:00.000Z',
  ...over,
});
