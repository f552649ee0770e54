import {
  BASE_MODELS,
  type BaseModel,
  type CustomizationSpec,
  type CustomizationType,
  type HyperParameterSpec,
  type TokenLimitRow,
} from './models';

const FOUNDATION_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model\/(.+)$/;

/** The base model for a customization id (`amazon.titan-text-lite-v1:0:4k`) or its foundation-model ARN. */
export function findBaseModel(idOrArn: string, models: readonly BaseModel[] = BASE_MODELS): BaseModel | undefined {
  const id = FOUNDATION_ARN.exec(idOrArn)?.[2] ?? idOrArn;
  return models.find((m) => m.id === id);
}

/**
 * The base model whose on-demand inference id was given where the customization id belongs, so the caller can say
 * which id to use instead (a mistake the service answers only with a terse ValidationException).
 */
export function findByInferenceId(idOrArn: string, models: readonly BaseModel[] = BASE_MODELS): BaseModel | undefined {
  const id = FOUNDATION_ARN.exec(idOrArn)?.[2] ?? idOrArn;
  return models.find((m) => m.inferenceId === id);
}

export function customizationSpec(model: BaseModel, type: CustomizationType): CustomizationSpec | undefined {
  return model.customizations.find((c) => c.type === type);
}

export type TokenLimit =
  { defined: true; row: TokenLimitRow } | { defined: false; reason: string; outcome?: 'job-fails-during-training' };

/**
 * The per-record token limit at a batch size, or why there is none. `batchSize` undefined means the model's
 * default (or, for models without a batchSize hyperparameter, the row that always applies).
 */
export function tokenLimitFor(model: BaseModel, type: CustomizationType, batchSize?: number): TokenLimit {
  const spec = customizationSpec(model, type);
  if (!spec) return { defined: false, reason: `${model.id} does not support ${type}` };
  const size = batchSize ?? spec.hyperParameters.find((h) => h.name === 'batchSize')?.default ?? undefined;
  const row = spec.tokenLimits.find(
    (r) => r.batchSizes === null || (size !== undefined && size >= r.batchSizes[0] && size <= r.batchSizes[1]),
  );
  if (row) return { defined: true, row };
  if (spec.tokenLimits.length === 0) {
    return { defined: false, reason: `no per-record token limit is published for ${model.id} ${type}` };
  }
  const covered = spec.tokenLimits
    .map((r) => (r.batchSizes ? `${r.batchSizes[0]}-${r.batchSizes[1]}` : 'any'))
    .join(', ');
  const result: TokenLimit = {
    defined: false,
    reason: `no token limit is defined for ${model.id} ${type} at batchSize ${size}; limits are defined for batch sizes ${covered}`,
  };
  if (spec.undefinedBatchSize) result.outcome = spec.undefinedBatchSize.outcome;
  return result;
}

/**
 * Bedrock's failure text for a record over its limit (docs/bedrock-api.md §6.4), or undefined when it fits. The input
 * side is
 * checked first, then the output side, then the sum, the order the texts are listed in.
 */
export function tokenLimitViolation(
  row: Pick<TokenLimitRow, 'maxTokens' | 'maxInputTokens' | 'maxOutputTokens'>,
  inputTokens: number,
  outputTokens: number,
): string | undefined {
  if (row.maxInputTokens !== undefined && inputTokens > row.maxInputTokens) {
    return `Maximum input token count ${inputTokens} exceeds limit of ${row.maxInputTokens}`;
  }
  if (row.maxOutputTokens !== undefined && outputTokens > row.maxOutputTokens) {
    return `Maximum output token count ${outputTokens} exceeds limit of ${row.maxOutputTokens}`;
  }
  if (row.maxTokens !== undefined && inputTokens + outputTokens > row.maxTokens) {
    // A record with no output (continued pre-training) is reported as input, as Bedrock's input-only text reads.
    return outputTokens === 0
      ? `Maximum input token count ${inputTokens} exceeds limit of ${row.maxTokens}`
      : `Max sum of input and output token length ${inputTokens + outputTokens} exceeds total limit of ${row.maxTokens}`;
  }
  return undefined;
}

export type HyperParameterCheck = { ok: true; values: Record<string, number> } | { ok: false; errors: string[] };

/**
 * Checks names, types and ranges of a `hyperParameters` map (strings on the wire, docs/bedrock-api.md §1) and fills in
 * defaults.
 * Values are parsed strictly: `"2.5"` is not an int, `"1e-5"` is a float, `" 3"` or `""` is neither.
 */
export function checkHyperParameters(spec: CustomizationSpec, given: Record<string, string> = {}): HyperParameterCheck {
  const errors: string[] = [];
  const values: Record<string, number> = {};
  const known = new Map(spec.hyperParameters.map((h) => [h.name, h]));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      errors.push(`Unknown hyperparameter ${name}; supported: ${[...known.keys()].join(', ')}`);
    }
  }
  for (const h of spec.hyperParameters) {
    const raw = given[h.name];
    if (raw === undefined) {
      if (h.default !== null) values[h.name] = h.default;
      continue;
    }
    const parsed = parseHyperParameter(h, raw);
    if (typeof parsed === 'string') errors.push(parsed);
    else values[h.name] = parsed;
  }
  return errors.length ? { ok: false, errors } : { ok: true, values };
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseHyperParameter(h: HyperParameterSpec, raw: string): number | string {
  const ok = h.type === 'int' ? INT.test(raw) : FLOAT.test(raw);
  if (!ok) return `Hyperparameter ${h.name} must be ${h.type === 'int' ? 'an integer' : 'a number'}, got "${raw}"`;
  const value = Number(raw);
  if (value < h.min || value > h.max) {
    return `Hyperparameter ${h.name} value ${raw} is out of range; it must be between ${h.min} and ${h.max}`;
  }
  return value;
}

const CUSTOM_MODEL_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]+:\d{12}:custom-model\/(.+)\/[a-z0-9]{12}$/;
/**
 * The catalog id of the base model behind a foundation-model id or ARN or a custom-model ARN (docs/bedrock-api.md §12
 * ARN formats).
 */
export function baseModelIdOf(identifier: string): string {
  return CUSTOM_MODEL_ARN.exec(identifier)?.[2] ?? FOUNDATION_ARN.exec(identifier)?.[2] ?? identifier;
}
