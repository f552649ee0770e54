import { ArtifactError } from './parse';

/**
 * The metrics files a model customization job writes under its output location, as documented in "Analyze the
 * results of a model customization job" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html):
 *   <output>/model-customization-job-<jobId>/training_artifacts/step_wise_training_metrics.csv
 *   <output>/model-customization-job-<jobId>/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv
 * with the columns step_number, epoch_number, training_loss (validation_loss in the validation file) and perplexity.
 * The monitor records the last row's loss and the report draws every row, both through `readJobMetrics`, so the loss
 * on the run and the curve in the report come from the same file and the same parse.
 */

/** One row of a metrics file. */
export interface LossPoint {
  step: number;
  epoch: number;
  loss: number;
}

export interface MetricsFile {
  key: string;
  points: LossPoint[];
}

export interface JobMetrics {
  training?: MetricsFile;
  validation?: MetricsFile;
}

export type MetricsKind = 'training' | 'validation';

/** The job's files: its own folder under the output location (an output prefix may hold earlier jobs' too). */
export function jobMetricsKeys(outputPrefix: string, jobArn: string): Record<MetricsKind, string> {
  const jobId = jobArn.split('/').at(-1) ?? '';
  const base = `${outputPrefix.endsWith('/') ? outputPrefix : `${outputPrefix}/`}model-customization-job-${jobId}/`;
  return {
    training: `${base}training_artifacts/step_wise_training_metrics.csv`,
    validation: `${base}validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
  };
}

/** Reads a job's metrics files; a file the job did not write (yet) is absent. */
export async function readJobMetrics(
  getText: (key: string) => Promise<string | undefined>,
  outputPrefix: string,
  jobArn: string,
): Promise<JobMetrics> {
  const keys = jobMetricsKeys(outputPrefix, jobArn);
  const [training, validation] = await Promise.all([getText(keys.training), getText(keys.validation)]);
  const metrics: JobMetrics = {};
  if (training !== undefined)
    metrics.training = { key: keys.training, points: parseMetricsCsv(training, 'training', keys.training) };
  if (validation !== undefined)
    metrics.validation = { key: keys.validation, points: parseMetricsCsv(validation, 'validation', keys.validation) };
  return metrics;
}

/**
 * A metrics file's rows. The columns are found by their documented names in the header (perplexity, which some models
 * leave out, is not read); a file without them, or a row that is not numbers, is an error naming the key and line.
 */
export function parseMetricsCsv(text: string, kind: MetricsKind, key: string): LossPoint[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const column = (name: string) => {
    const at = header.indexOf(name);
    if (at < 0) throw new ArtifactError(`${key} line 1: no ${name} column in the header "${lines[0] ?? ''}"`, key);
    return at;
  };
  const cols = { step: column('step_number'), epoch: column('epoch_number'), loss: column(`${kind}_loss`) };
  const points: LossPoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const cells = lines[i]!.split(',');
    const cell = (name: keyof typeof cols) => {
      const v = Number(cells[cols[name]]?.trim() || NaN);
      if (!Number.isFinite(v))
        throw new ArtifactError(
          `${key} line ${i + 1}: ${name === 'loss' ? `${kind}_loss` : `${name}_number`} is "${cells[cols[name]] ?? ''}", not a number`,
          key,
        );
      return v;
    };
    points.push({ step: cell('step'), epoch: cell('epoch'), loss: cell('loss') });
  }
  return points;
}

/** The loss the job ended with: its file's last row. */
export const finalLoss = (file: MetricsFile | undefined): number | undefined => file?.points.at(-1)?.loss;
