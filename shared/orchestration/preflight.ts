import {
  checkHyperParameters,
  customizationSpec,
  findBaseModel,
  findByInferenceId,
  tokenLimitFor,
} from '../catalog/lookup';
import type { BaseModel, CustomizationSpec } from '../catalog/models';
import type { TrainingConfig } from '../config/run-config';
import type { PreparedDataset } from './dataset';
import { runIdNameProblem } from './naming';
import { recordLimitProblems, type DeploymentRecordQuotas } from './record-limits';

export interface PreflightInput {
  runId: string;
  training: TrainingConfig;
  /**
   * The catalog id of the model the job customizes (for a later stage: the base model of the previous stage's output).
   */
  baseModelId: string;
  hyperParameters: Record<string, string>;
  dataset: PreparedDataset;
  /** The stage's `maxRecordsPerJob` and its setting's path, when set (record-limits.ts). */
  maxRecordsPerJob?: { value: number; setting: string };
  /** Record quotas the deployment declares for models the catalog publishes none for (record-limits.ts). */
  deploymentQuotas?: DeploymentRecordQuotas;
}

export interface PreflightResult {
  errors: string[];
  warnings: string[];
  model?: BaseModel;
  spec?: CustomizationSpec;
  /** Hyperparameters as numbers, defaults filled in (when they check out). */
  values?: Record<string, number>;
}

/**
 * Everything that can be known to fail before a job is paid for: the model and customization type, the
 * hyperparameters against their documented ranges, the Titan batch-size trap (docs/bedrock-api.md §8.1), each record
 * against the
 * per-record token limit at the chosen batch size (docs/bedrock-api.md §7.2), and the dataset against the record and
 * file-size
 * quotas (the account's raised quotas in `training.quotas` win over the catalog).
 */
export function preflight(input: PreflightInput): PreflightResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const { training, dataset } = input;
  const trap = (message: string) => (training.knownTraps === 'fail' ? errors : warnings).push(message);

  const nameProblem = runIdNameProblem(input.runId);
  if (nameProblem) errors.push(nameProblem);

  const model = findBaseModel(input.baseModelId);
  if (!model) {
    const byInference = findByInferenceId(input.baseModelId);
    errors.push(
      byInference
        ? `${input.baseModelId} is the on-demand inference id; customization needs ${byInference.id}`
        : `base model ${input.baseModelId} is not in the model catalog (shared/catalog/models.ts)`,
    );
    return { errors, warnings };
  }
  const spec = customizationSpec(model, training.customizationType);
  if (!spec) {
    errors.push(`${model.name} (${model.id}) does not support ${training.customizationType}`);
    return { errors, warnings, model };
  }
  const result: PreflightResult = { errors, warnings, model, spec };

  const hp = checkHyperParameters(spec, input.hyperParameters);
  if (!hp.ok) errors.push(...hp.errors);
  else result.values = hp.values;

  const batchSize = hp.ok ? hp.values.batchSize : undefined;
  const { train, validation } = dataset;
  const maxRecordTokens = Math.max(train.stats.maxRecordTokens, validation?.stats.maxRecordTokens ?? 0);
  if (hp.ok) {
    const limit = tokenLimitFor(model, training.customizationType, batchSize);
    if (!limit.defined && limit.outcome === 'job-fails-during-training') {
      trap(
        `batchSize ${batchSize} is inside the documented range but ${model.name} has no per-record token limit for it, ` +
          `so the job would fail after it starts (docs/bedrock-api.md §8.1: ${limit.reason}). Use a batch size the limits cover.`,
      );
    } else if (limit.defined) {
      const max = limit.row.maxTokens ?? (limit.row.maxInputTokens ?? Infinity) + (limit.row.maxOutputTokens ?? 0);
      if (maxRecordTokens > max) {
        trap(
          `the largest record has about ${maxRecordTokens} tokens (estimated), over ${model.name}'s limit of ${max} per ` +
            `record at batchSize ${batchSize ?? 'default'} (docs/bedrock-api.md §7.2); use a smaller batch size or shorter records`,
        );
      }
    }
  }

  if (train.stats.records === 0) errors.push(`the training file ${train.s3Uri} has no records`);

  const limits = recordLimitProblems({
    model,
    spec,
    training,
    trainRecords: train.stats.records,
    validationRecords: validation?.stats.records ?? 0,
    ...(input.maxRecordsPerJob ? { maxRecordsPerJob: input.maxRecordsPerJob } : {}),
    ...(input.deploymentQuotas ? { deploymentQuotas: input.deploymentQuotas } : {}),
  });
  errors.push(...limits.errors);
  warnings.push(...limits.warnings);
  const records = spec.records;
  const minTotal = records.minTotal.value;
  const total = train.stats.records + (validation?.stats.records ?? 0);
  if (minTotal !== null && total < minTotal)
    errors.push(`${total} records is below the minimum of ${minTotal} for ${model.name}`);

  const maxTrainBytes = spec.fileSize.maxTrainingBytes.value;
  if (maxTrainBytes !== null && train.stats.bytes > maxTrainBytes) {
    errors.push(
      `the training file is ${train.stats.bytes} bytes, over the ${maxTrainBytes}-byte limit for ${model.name} ${spec.type}`,
    );
  }
  const maxValBytes = spec.fileSize.maxValidationBytes.value;
  if (validation && maxValBytes !== null && validation.stats.bytes > maxValBytes) {
    errors.push(
      `the validation file is ${validation.stats.bytes} bytes, over the ${maxValBytes}-byte limit for ${model.name}`,
    );
  }
  return result;
}

/**
 * The Titan batch-size trap's fix: the largest batch size whose per-record token limit still holds the largest
 * record (so the job keeps as much of the requested speed as it safely can). Undefined when no batch size fits.
 */
export function safeBatchSize(spec: CustomizationSpec, maxRecordTokens: number): number | undefined {
  let best: number | undefined;
  for (const row of spec.tokenLimits) {
    if (!row.batchSizes) continue;
    const max = row.maxTokens ?? (row.maxInputTokens ?? Infinity) + (row.maxOutputTokens ?? 0);
    if (maxRecordTokens <= max) best = Math.max(best ?? 0, row.batchSizes[1]);
  }
  return best;
}
