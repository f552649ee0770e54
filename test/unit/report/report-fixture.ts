import { RunConfig } from '../../../shared/config/run-config';
import { parseMetricsCsv, readManifest, type ReportInputs } from '../../../shared/report/inputs';
import type { Run } from '../../../shared/runs/run';

/** A finished run as the report sees it: counts with reasons, a manifest, metrics CSVs in Bedrock's layout. */
export const finishedRun = (over: Partial<Run> = {}): Run => ({
  runId: 'run-report-1',
  status: 'succeeded',
  version: 9,
  createdAt: '2025-06-01T09:00:00.000Z',
  updatedAt: '2025-06-01T11:00:00.000Z',
  source: { bucket: 'btp-datasets', key: 'datasets/dolly-ja.jsonl' },
  config: RunConfig.parse({ training: { hyperParameters: { epochCount: '2', batchSize: '4', learningRate: '0.00001' }, budgetUsd: 50 } }),
  artifactsPrefix: 's3://btp-artifacts/runs/run-report-1/',
  stages: {},
  counts: { input: 1000, kept: 900, filtered: 80, rejected: 20, byReason: { 'filtered:too_long': 50, 'filtered:duplicate': 30, 'rejected:bad_json': 20 }, train: 700, validation: 100, test: 50 },
  costEstimateUsd: 3.456,
  jobArn: 'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/abc123def456',
  modelArn: 'arn:aws:bedrock:us-east-1:000000000000:custom-model/amazon.titan-text-lite-v1:0:4k/m1',
  metrics: { trainingLoss: 0.61, validationLoss: 0.74 },
  ...over,
});

export const manifestJson = {
  runId: 'run-report-1',
  counts: { input: 1000, kept: 900, filtered: 80, rejected: 20, byReason: { 'filtered:too_long': 50 } },
  byCategory: { open_qa: 300, general_qa: 250, classification: 150, 'brainstorming <b>': 100, summarization: 100 },
  lengths: {
    unit: 'characters',
    limit: 1500,
    p50: 310,
    max: 2900,
    histogram: [
      { from: 0, to: 250, count: 400 },
      { from: 250, to: 500, count: 300 },
      { from: 500, to: 1000, count: 150 },
      { from: 1000, to: 1500, count: 60 },
      { from: 1500, to: 3000, count: 50 },
    ],
  },
};

export const trainingCsv = ['step_number,epoch_number,training_loss,perplexity', ...Array.from({ length: 40 }, (_, i) => `${i},${Math.floor(i / 20)},${(2.4 * Math.exp(-i / 12) + 0.6).toFixed(4)},1`)].join('\n');
export const validationCsv = 'step_number,epoch_number,validation_loss,perplexity\n19,0,1.1,3\n39,1,0.74,2.1\n';

export const reportInputs = (over: Partial<ReportInputs> = {}): ReportInputs => ({
  run: finishedRun(),
  manifest: readManifest(manifestJson),
  training: parseMetricsCsv(trainingCsv),
  validation: parseMetricsCsv(validationCsv),
  evaluationSamples: [{ prompt: '日本の首都は？', reference: '東京です。', completion: '東京です。' }],
  generatedAt: '2025-06-01T12:00:00.000Z',
  ...over,
});
