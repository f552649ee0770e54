import {
  baseModelIdOf,
  checkHyperParameters,
  customizationSpec,
  findBaseModel,
  findByInferenceId,
  tokenLimitFor,
} from '../catalog/lookup';
import { catalogDay, lifecycleChecked, lifecycleOn } from '../catalog/lifecycle';
import { BASE_MODELS, type BaseModel, type CustomizationSpec, type CustomizationType } from '../catalog/models';
import { stageConfig, stageCount, type RunConfig, type TrainingConfig } from '../config/run-config';
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
  /** The day the catalog's lifecycle is read at: today in AWS, BTP_CATALOG_DATE on a local stack playing the past. */
  at: Date;
  /** The identifier the job is given, when it is a custom model (a later stage starts from one). */
  modelIdentifier?: string;
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

  const checked = checkModel(input.modelIdentifier ?? input.baseModelId, training.customizationType, input.at);
  errors.push(...checked.errors);
  warnings.push(...checked.warnings);
  const { model, spec } = checked;
  if (!model) return { errors, warnings };
  if (!spec) return { errors, warnings, model };
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

  if (spec.validationIgnored && validation && validation.stats.records > 0) {
    warnings.push(
      `${model.name} does not use a validation set (${spec.validationIgnored.url}): the job is given its ` +
        `${validation.stats.records} validation records, but they neither train nor validate it; set split.validation ` +
        'to 0 to keep them out of the job',
    );
  }

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

export interface ModelCheck {
  errors: string[];
  warnings: string[];
  model?: BaseModel;
  spec?: CustomizationSpec;
}

/**
 * What can be known from the model alone, before any data is read (so ingest runs it too, and a run on a model
 * Bedrock no longer offers fails in seconds): the base model is in the catalog, offered on the catalog date and not
 * at its end of life (nor the base of a custom model: a custom model works only until its base model's EOL,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html), and supports the customization type.
 * A Legacy model, or one whose lifecycle the catalog has not confirmed, is a warning.
 */
export function checkModel(identifier: string, type: CustomizationType, at: Date): ModelCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const id = baseModelIdOf(identifier);
  const custom = id !== identifier && identifier.includes(':custom-model/') ? `custom model ${identifier}: ` : '';
  const model = findBaseModel(id);
  if (!model) {
    const byInference = findByInferenceId(id);
    errors.push(
      byInference
        ? `${id} is the on-demand inference id; customization needs ${byInference.id}`
        : `base model ${id} is not in the model catalog (shared/catalog/models.ts)`,
    );
    return { errors, warnings };
  }
  const day = catalogDay(at)!;
  const state = lifecycleOn(model.lifecycle, at);
  const { successor, endOfLife } = model.lifecycle;
  const instead = successor ? `; use ${successor.id} (${findBaseModel(successor.id)?.name ?? 'its successor'})` : '';
  if (state.status === 'not-yet-available') {
    errors.push(
      `${custom}${model.name} (${model.id}) was not offered for customization on ${day}, the catalog date ` +
        `(from ${model.lifecycle.availableFrom.value})`,
    );
  } else if (state.status === 'end-of-life') {
    const known = endOfLife.source.confirmed ? '' : ' (the latest date known; docs/bedrock-api.md §15)';
    errors.push(
      `${custom ? `${custom}its base model ` : ''}${model.name} (${model.id}) reached end of life on ${state.since}` +
        `${known}: Bedrock refuses ${custom ? 'the custom model' : 'it'} from that day${instead}. To replay the ` +
        `2024 recipe on the local stack, set the catalog date (npm start -- --catalog-date 2024-02-01)`,
    );
  } else if (state.status === 'legacy') {
    warnings.push(
      `${custom}${model.name} (${model.id}) is Legacy since ${state.since}` +
        `${endOfLife.value ? ` and reaches end of life on ${endOfLife.value}` : ''}: new customers cannot use it and ` +
        `accounts lose access after inactivity${instead}`,
    );
  } else if (!lifecycleChecked(model.lifecycle)) {
    warnings.push(`the lifecycle of ${model.name} (${model.id}) is not in the catalog: check ${LIFECYCLE_PAGE}`);
  }
  const spec = customizationSpec(model, type);
  if (!spec) {
    const offering = BASE_MODELS.filter(
      (m) => customizationSpec(m, type) && lifecycleOn(m.lifecycle, at).status === 'active',
    );
    errors.push(
      `${model.name} (${model.id}) has no ${type} on Bedrock` +
        (type === 'CONTINUED_PRE_TRAINING'
          ? `: continued pre-training is documented only for Titan Text G1 - Lite and Express (docs/bedrock-api.md §6.1)` +
            (offering.length
              ? `; on ${day} it is offered for ${offering.map((m) => m.id).join(', ')}`
              : `, none of which is offered on ${day}`)
          : ''),
    );
    return { errors, warnings, model };
  }
  return { errors, warnings, model, spec };
}

const LIFECYCLE_PAGE = 'https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html';

/**
 * The model checks of every stage of a run, as one reason, or undefined when there is nothing to refuse: what ingest
 * checks before reading any data. Every stage customizes the run's base model (a later stage starts from the
 * previous stage's custom model, whose base it is).
 */
export function modelProblems(config: RunConfig, at: Date): string | undefined {
  const { errors } = modelChecks(config, at);
  return errors.length ? errors.join('; ') : undefined;
}

/**
 * Each stage's model checks, errors and warnings (a Legacy model, a lifecycle the catalog lacks), each said once and
 * prefixed with its stage in a chained run, and the judge model's (config `evaluation.judge`), which must be one the
 * catalog knows: what `btp run --config` shows before it uploads anything.
 */
export function modelChecks(config: RunConfig, at: Date): { errors: string[]; warnings: string[] } {
  const n = stageCount(config);
  const errors: string[] = [];
  const warnings: string[] = [];
  const add = (into: string[], i: number, message: string) => {
    if (!into.some((p) => p.endsWith(message))) into.push(n > 1 ? `stage ${i}: ${message}` : message);
  };
  for (let i = 0; i < n; i++) {
    const { baseModelId, customizationType } = stageConfig(config, i).training;
    const checked = checkModel(baseModelId, customizationType, at);
    for (const e of checked.errors) add(errors, i, e);
    for (const w of checked.warnings) add(warnings, i, w);
  }
  const judge = config.evaluation.judge?.modelId;
  if (judge && !findByInferenceId(judge))
    errors.push(
      `evaluation.judge.modelId ${judge} is not a model the catalog knows by its on-demand id, so neither its ` +
        `request body nor its price is known; set evaluation.judge.modelId to one of ` +
        BASE_MODELS.flatMap((m) => (m.inferenceId ? [m.inferenceId] : [])).join(', '),
    );
  return { errors, warnings };
}

/**
 * What to change after a failed preflight: every error names its setting ("set X", "use a smaller batch size"...);
 * the hint repeats the first such advice and says how to run again.
 */
export function preflightHint(errors: string[]): string {
  const advice = errors
    .map((e) => /(?:;|:) ((?:set|use|if your account)[^;]*)$/.exec(e)?.[1])
    .filter((a): a is string => a !== undefined);
  const change = advice.length > 0 ? advice.join('; ') : 'change the settings the preflight names';
  return `${change}; then upload the data again with the new configuration (btp run <file> --config <run.json>)`;
}
