import type { ObjectStore } from './ports';

export interface CsvMetrics {
  key: string;
  rows: number;
  /** Loss of the last row (the model Bedrock keeps is the one at the end of training). */
  finalLoss?: number;
  finalEpoch?: number;
}

export interface JobMetrics {
  training?: CsvMetrics;
  validation?: CsvMetrics;
}

/**
 * Reads a job's metric files from its output location, tolerating the layouts seen in the wild (api §9):
 *   <output>/model-customization-job-<jobId>/training_artifacts/step_wise_training_metrics.csv      (documented)
 *   .../validation_artifacts/post_fine_tuning_validation/validation_metrics.csv                     (documented)
 *   .../validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv          (AWS sample code)
 *   <output>/<jobId>/training_artifacts/..., .../post_training_validation/...                        (2023 model docs)
 * and the column sets `step_number,epoch_number,training_loss[,perplexity]` (Titan) or without perplexity (Nova).
 */
export async function readJobMetrics(objects: ObjectStore, bucket: string, outputPrefix: string, jobArn: string): Promise<JobMetrics> {
  const jobId = jobArn.split('/').at(-1) ?? '';
  const keys = await objects.listKeys(bucket, outputPrefix);
  // Prefer this job's folder: an output prefix may hold an earlier attempt's files too.
  const mine = keys.filter((k) => jobId && k.includes(jobId));
  const pool = mine.length > 0 ? mine : keys;
  const pick = (name: string) => pool.filter((k) => k.endsWith(`/${name}`) || k === name).sort()[0];
  const result: JobMetrics = {};
  const trainingKey = pick('step_wise_training_metrics.csv');
  if (trainingKey) result.training = parseMetricsCsv(trainingKey, (await objects.getText(bucket, trainingKey)) ?? '', 'training_loss');
  const validationKey = pick('validation_metrics.csv');
  if (validationKey) result.validation = parseMetricsCsv(validationKey, (await objects.getText(bucket, validationKey)) ?? '', 'validation_loss');
  return result;
}

export function parseMetricsCsv(key: string, text: string, lossColumn: string): CsvMetrics {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return { key, rows: 0 };
  const header = lines[0]!.split(',').map((h) => h.trim().toLowerCase());
  // The loss column by name; else, as AWS's sample reads it, the second-to-last column when the last is perplexity.
  let lossAt = header.indexOf(lossColumn);
  if (lossAt < 0) lossAt = header.findIndex((h) => h.endsWith('loss'));
  if (lossAt < 0) lossAt = header.at(-1) === 'perplexity' ? header.length - 2 : header.length - 1;
  const epochAt = header.indexOf('epoch_number');
  const rows = lines.slice(1).map((l) => l.split(','));
  const last = rows.at(-1);
  const metrics: CsvMetrics = { key, rows: rows.length };
  const loss = last ? Number(last[lossAt]) : NaN;
  if (Number.isFinite(loss)) metrics.finalLoss = loss;
  const epoch = last && epochAt >= 0 ? Number(last[epochAt]) : NaN;
  if (Number.isFinite(epoch)) metrics.finalEpoch = epoch;
  return metrics;
}
