import { findBaseModel } from '../../../shared/catalog/lookup';
import { resolveRunConfig } from '../../../shared/config/run-config';
import type { DatasetFile, PreparedDataset } from '../../../shared/orchestration/dataset';
import { preflight } from '../../../shared/orchestration/preflight';

/** Nova 2 Lite: catalogued for fine-tuning, with its sample counts and a validation set the job does not use. */
const NOVA2 = 'amazon.nova-2-lite-v1:0:256k';
const file = (name: DatasetFile['name'], records: number): DatasetFile => ({
  name,
  key: `runs/r/stages/0/prepared/${name}.jsonl`,
  s3Uri: `s3://artifacts/runs/r/stages/0/prepared/${name}.jsonl`,
  stats: { records, bytes: records * 400, tokens: records * 120, maxRecordTokens: 300 },
});
const dataset = (train: number, validation: number): PreparedDataset => ({
  manifestKey: 'runs/r/stages/0/manifest.json',
  train: file('train', train),
  ...(validation > 0 ? { validation: file('validation', validation) } : {}),
});
const check = (train: number, validation: number) =>
  preflight({
    runId: 'r',
    training: resolveRunConfig({ training: { baseModelId: NOVA2 } }).training,
    baseModelId: NOVA2,
    hyperParameters: { epochCount: '2', learningRate: '0.00001' },
    dataset: dataset(train, validation),
    at: new Date('2026-12-03T00:00:00Z'),
  });

describe('Nova 2 Lite in the catalog', () => {
  it('is a fine-tunable Nova model on the conversation format, served by Provisioned Throughput', () => {
    const model = findBaseModel(NOVA2)!;
    expect(model).toMatchObject({ name: 'Nova 2 Lite', family: 'amazon-nova', inferenceId: 'amazon.nova-2-lite-v1:0' });
    expect(model.customizations[0]).toMatchObject({ type: 'FINE_TUNING', dataFormat: 'bedrock-conversation-2024' });
    expect(model.lifecycle.serving.value).toBe('provisioned-throughput');
    expect(model.customizations[0]!.records.minTotal.source.confirmed).toBe(false);
  });

  it('passes a job of 1,000 training records and no validation set', () => {
    const { errors, warnings } = check(1_000, 0);
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => /validation set/.test(w))).toEqual([]);
  });

  it('warns that a validation set is not used, naming the setting that leaves it out', () => {
    const { errors, warnings } = check(1_000, 100);
    expect(errors).toEqual([]);
    expect(warnings).toContainEqual(
      expect.stringMatching(/Nova 2 Lite does not use a validation set.*100 validation.*split\.validation/),
    );
  });

  it('refuses fewer than 200 samples', () => {
    expect(check(150, 0).errors).toEqual(['150 records is below the minimum of 200 for Nova 2 Lite']);
  });
});
