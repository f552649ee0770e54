import type { RunConfig } from '../config/run-config';
import { customizationSpec, findBaseModel, tokenLimitFor, type DataFormat, type TokenLimitRow } from '../catalog';
import { InputError } from './errors';

/**
 * What transform needs to know about the base model, resolved once per run from the catalog: the line format it
 * trains on (docs/bedrock-api.md §7.1) and the per-record token limit at the run's batch size (docs/bedrock-api.md
 * §7.2).
 */
export interface RecordRules {
  config: RunConfig;
  dataFormat: DataFormat;
  /** The catalog's limit row, or a limit of our own from `prep.filters.maxTokens`; undefined: no token filter. */
  tokenLimit?: Pick<TokenLimitRow, 'maxTokens' | 'maxInputTokens' | 'maxOutputTokens'>;
  /** Words the model reserves: a prompt holding one would fail the job (Nova, docs/bedrock-api.md §7.1). */
  reservedWords?: readonly string[];
  warnings: string[];
}

export function resolveRecordRules(config: RunConfig): RecordRules {
  const warnings: string[] = [];
  const { baseModelId, customizationType, hyperParameters } = config.training;
  const model = findBaseModel(baseModelId);
  const spec = model && customizationSpec(model, customizationType);
  const dataFormat: DataFormat =
    spec?.dataFormat ?? (customizationType === 'CONTINUED_PRE_TRAINING' ? 'input' : 'prompt-completion');
  if (!model)
    warnings.push(
      `base model ${baseModelId} is not in the catalog: records are written as ${dataFormat} with no token limit`,
    );
  if (config.prep.template.kind === 'text' && dataFormat !== 'input') {
    throw new InputError(
      `prep.template.kind "text" makes continued pre-training records, but ${baseModelId} ${customizationType} trains on ${dataFormat}`,
      {},
      "set training.customizationType (or the stage's customizationType) to CONTINUED_PRE_TRAINING, or prep.template.kind " +
        'to "dolly" or "fields" for fine-tuning',
    );
  }
  let tokenLimit: RecordRules['tokenLimit'];
  if (config.prep.filters.maxTokens !== undefined) {
    tokenLimit = { maxTokens: config.prep.filters.maxTokens };
  } else if (model) {
    const batchSize = hyperParameters.batchSize === undefined ? undefined : Number(hyperParameters.batchSize);
    const limit = tokenLimitFor(model, customizationType, batchSize);
    if (limit.defined) tokenLimit = limit.row;
    else warnings.push(`no per-record token limit applies: ${limit.reason}`);
  }
  const reservedWords = spec?.reservedWords?.words;
  return { config, dataFormat, tokenLimit, ...(reservedWords ? { reservedWords } : {}), warnings };
}
