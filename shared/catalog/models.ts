/**
 * The project's single source of facts about Bedrock base models for customization: what each supports, the
 * data format it trains on, its hyperparameters, and its dataset limits. Every figure carries its source: the public
 * AWS page it comes from (`url`) and the section of docs/bedrock-api.md that describes it (`ref`). Where no page
 * confirms a figure, or none gives one, the data says so (`confirmed: false`, or `value: null` with a note). Nothing
 * here is invented: defaults used where a figure is unknown belong to the caller (the emulator's options, the
 * preflight's config).
 */

import { LIFECYCLES, type Lifecycle } from './lifecycle';

/** The public AWS pages the figures below come from. */
export const SOURCES = {
  prepare: 'https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html',
  quotas: 'https://docs.aws.amazon.com/general/latest/gr/bedrock.html',
  hyperParameters: 'https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html',
  titanHyperParameters: 'https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-titan-text.html',
  cohereHyperParameters: 'https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-cohere-command.html',
  novaData: 'https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html',
  createJob: 'https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html',
  titanInference: 'https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html',
  provisionedThroughput: 'https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html',
  createThroughput: 'https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateProvisionedModelThroughput.html',
} as const;

export type CustomizationType =
  'FINE_TUNING' | 'CONTINUED_PRE_TRAINING' | 'DISTILLATION' | 'REINFORCEMENT_FINE_TUNING' | 'IMPORTED';

/** One JSON object per line; see docs/bedrock-api.md §7.1 for each layout. */
export type DataFormat = 'prompt-completion' | 'input' | 'bedrock-conversation-2024' | 'claude-messages';

/** Which response body InvokeModel gives for the family (docs/bedrock-api.md §11.2 documents Titan's). */
export type ModelFamily = 'titan-text' | 'cohere-command' | 'meta-llama' | 'amazon-nova' | 'anthropic-claude';

export interface Source {
  /** The section of docs/bedrock-api.md that describes the figure. */
  ref: string;
  /** The public AWS page the figure comes from. */
  url: string;
  /** false where no page confirms the figure, or it is an inference rather than a stated figure. */
  confirmed: boolean;
  note?: string;
}

/** A figure that may be unknown: `value: null` means no published figure was found. */
export interface Figure<T> {
  value: T | null;
  source: Source;
}

export interface HyperParameterSpec {
  /** The API name, as sent (as a string) in `hyperParameters`. */
  name: string;
  type: 'int' | 'float';
  min: number;
  max: number;
  /** null where the docs give none. */
  default: number | null;
  source: Source;
}

/**
 * Per-record token limits for a range of batch sizes. `batchSizes` is inclusive [min, max]; `null` means the model
 * has no batchSize hyperparameter and the row always applies. `maxTokens` limits input + output together,
 * `maxInputTokens` / `maxOutputTokens` each side; a row may carry any of them.
 */
export interface TokenLimitRow {
  batchSizes: [number, number] | null;
  maxTokens?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  source: Source;
}

export interface CustomizationSpec {
  type: CustomizationType;
  dataFormat: DataFormat;
  hyperParameters: HyperParameterSpec[];
  /** Rows of per-record limits; a batch size no row covers has no defined limit (see `undefinedBatchSize`). */
  tokenLimits: TokenLimitRow[];
  /**
   * What happens with a batch size the hyperparameter range accepts but no token-limit row covers. Only set where
   * docs/bedrock-api.md describes it (docs/bedrock-api.md §8.1, the Titan batch-size trap).
   */
  undefinedBatchSize?: { outcome: 'job-fails-during-training'; source: Source };
  /** Words the prompt may not contain: a record holding one fails the job (Nova's reserved keywords). */
  reservedWords?: { words: readonly string[]; source: Source };
  /** The job accepts a validation set but does not use it (Nova 2 Lite): preflight warns that it is ignored. */
  validationIgnored?: Source;
  records: {
    minTotal: Figure<number>;
    maxTraining: Figure<number>;
    maxValidation: Figure<number>;
    maxTotal: Figure<number>;
  };
  fileSize: {
    maxTrainingBytes: Figure<number>;
    maxValidationBytes: Figure<number>;
  };
}

export interface BaseModel {
  /** The id customization uses (with the context-window suffix), e.g. `amazon.titan-text-lite-v1:0:4k`. */
  id: string;
  idSource: Source;
  /** The on-demand inference id, when different: a common mistake is to customize with it. */
  inferenceId?: string;
  name: string;
  provider: string;
  family: ModelFamily;
  customizations: CustomizationSpec[];
  /** Largest `maxTokenCount` (or equivalent) accepted at inference, where documented. */
  maxOutputTokensAtInference: Figure<number>;
  /** Active, Legacy or EOL by date, regions, successor, and how its custom models are served (lifecycle.ts). */
  lifecycle: Lifecycle;
}

const GB = 1024 ** 3;
const MB = 1024 ** 2;

const unknown = <T>(note: string, ref = 'docs/bedrock-api.md §7.2, §14', url: string = SOURCES.prepare): Figure<T> => ({
  value: null,
  source: { ref, url, confirmed: false, note },
});
const figure = <T>(value: T, ref: string, url: string, confirmed = true, note?: string): Figure<T> => ({
  value,
  source: note === undefined ? { ref, url, confirmed } : { ref, url, confirmed, note },
});

// ---- hyperparameters (docs/bedrock-api.md §8, docs cm-hp-*) ----

/** A hyperparameter's range and default; `ref` is a section of docs/bedrock-api.md and the page it cites. */
type HpRef = { ref: string; url: string };
const hp = (
  name: string,
  type: 'int' | 'float',
  min: number,
  max: number,
  dflt: number | null,
  src: HpRef,
  confirmed = true,
  note?: string,
): HyperParameterSpec => ({
  name,
  type,
  min,
  max,
  default: dflt,
  source: note === undefined ? { ...src, confirmed } : { ...src, confirmed, note },
});

const TITAN_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.titanHyperParameters };
const titanHyperParameters: HyperParameterSpec[] = [
  hp('epochCount', 'int', 1, 10, 5, TITAN_HP_REF),
  hp(
    'batchSize',
    'int',
    1,
    64,
    1,
    TITAN_HP_REF,
    true,
    'The range is documented as 1-64, but token limits are defined only for small batch sizes: see tokenLimits and docs/bedrock-api.md §8.1.',
  ),
  hp('learningRate', 'float', 0, 1, 0.00001, TITAN_HP_REF),
  hp('learningRateWarmupSteps', 'int', 0, 250, 5, TITAN_HP_REF),
];

const LLAMA2_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.hyperParameters };
const llama2HyperParameters: HyperParameterSpec[] = [
  hp('epochCount', 'int', 1, 10, 5, LLAMA2_HP_REF),
  hp('batchSize', 'int', 1, 1, 1, LLAMA2_HP_REF),
  hp('learningRate', 'float', 0.000005, 0.1, 0.0001, LLAMA2_HP_REF),
];

// The Llama 3.1 page gives no types; int/float follow the same names on the Llama 2 page.
const LLAMA31_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.hyperParameters };
const llama31HyperParameters: HyperParameterSpec[] = [
  hp('epochCount', 'int', 1, 10, 5, LLAMA31_HP_REF, true, 'type not stated on the page; int as for Llama 2'),
  hp('batchSize', 'int', 1, 1, 1, LLAMA31_HP_REF, true, 'type not stated on the page; int as for Llama 2'),
  hp(
    'learningRate',
    'float',
    0.000005,
    0.1,
    0.0001,
    LLAMA31_HP_REF,
    true,
    'type not stated on the page; float as for Llama 2',
  ),
];

const COHERE_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.cohereHyperParameters };
const cohereHyperParameters = (maxBatch: number): HyperParameterSpec[] => [
  hp('epochCount', 'int', 1, 100, 1, COHERE_HP_REF),
  hp('batchSize', 'int', 8, maxBatch, 8, COHERE_HP_REF),
  hp(
    'learningRate',
    'float',
    0.000005,
    0.1,
    0.00001,
    COHERE_HP_REF,
    true,
    'with a validation dataset, AWS recommends not providing a value',
  ),
  hp('earlyStoppingThreshold', 'float', 0, 0.1, 0.01, COHERE_HP_REF),
  hp('earlyStoppingPatience', 'int', 1, 10, 6, COHERE_HP_REF),
  hp('evalPercentage', 'float', 5, 50, 20, COHERE_HP_REF),
];

const HAIKU_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.hyperParameters };
const NO_TYPE = 'type not stated on the page';
const haikuHyperParameters: HyperParameterSpec[] = [
  hp('epochCount', 'int', 1, 10, 2, HAIKU_HP_REF, true, NO_TYPE),
  hp('batchSize', 'int', 4, 256, 32, HAIKU_HP_REF, true, NO_TYPE),
  hp('learningRateMultiplier', 'float', 0.1, 2, 1, HAIKU_HP_REF, true, NO_TYPE),
  hp('earlyStoppingThreshold', 'float', 0, 0.1, 0.001, HAIKU_HP_REF, true, NO_TYPE),
  hp('earlyStoppingPatience', 'int', 1, 10, 2, HAIKU_HP_REF, true, NO_TYPE),
];

// Nova has no batchSize hyperparameter on Bedrock (docs/bedrock-api.md §8).
const NOVA_HP_REF: HpRef = { ref: 'docs/bedrock-api.md §8', url: SOURCES.hyperParameters };
const novaHyperParameters: HyperParameterSpec[] = [
  hp('epochCount', 'int', 1, 5, 2, NOVA_HP_REF),
  hp('learningRate', 'float', 0.000001, 0.0001, 0.00001, NOVA_HP_REF),
  hp('learningRateWarmupSteps', 'int', 0, 100, 10, NOVA_HP_REF),
];

// ---- Titan dataset limits (docs/bedrock-api.md §7.2) ----

const TITAN_LIMIT_REF = 'docs/bedrock-api.md §7.2';
const TITAN_TRAP_SOURCE: Source = {
  ref: 'docs/bedrock-api.md §8.1',
  url: SOURCES.prepare,
  confirmed: false,
  note: 'Inference from a docs inconsistency (batchSize 1-64 accepted, token limits defined only for small batch sizes); no report of the actual failure text was found.',
};
const titanRecords = {
  minTotal: unknown<number>('no Titan record minimum found (docs/bedrock-api.md §14 item 2)'),
  maxTraining: unknown<number>(
    'default quota not published; account-specific (Service Quotas L-3B82104D FT / L-91554672 CPT, docs/bedrock-api.md §7.2)',
    'docs/bedrock-api.md §7.2, §14',
    SOURCES.quotas,
  ),
  maxValidation: unknown<number>(
    'default quota not published; account-specific (docs/bedrock-api.md §7.2)',
    'docs/bedrock-api.md §7.2, §14',
    SOURCES.quotas,
  ),
  maxTotal: unknown<number>(
    '"Sum of training and validation records" quota; default value not found (docs/bedrock-api.md §14 item 2)',
    'docs/bedrock-api.md §7.2, §14',
    SOURCES.quotas,
  ),
};
const titanFileSize = (type: 'FINE_TUNING' | 'CONTINUED_PRE_TRAINING') => ({
  maxTrainingBytes: figure(type === 'FINE_TUNING' ? 1 * GB : 10 * GB, TITAN_LIMIT_REF, SOURCES.prepare),
  maxValidationBytes: figure(100 * MB, TITAN_LIMIT_REF, SOURCES.prepare),
});
// The CPT record is `{"input": ...}`: the page's per-record limit is applied to it as the whole record.
const CPT_TOKENS_NOTE =
  'The page gives one per-record table; applying it to continued pre-training records is an inference.';

const titanLimitSource = (confirmed: boolean, note?: string): Source =>
  note
    ? { ref: TITAN_LIMIT_REF, url: SOURCES.prepare, confirmed, note }
    : { ref: TITAN_LIMIT_REF, url: SOURCES.prepare, confirmed };
const titanLiteTokenRows = (confirmed: boolean, note?: string): TokenLimitRow[] => [
  { batchSizes: [1, 2], maxTokens: 4096, source: titanLimitSource(confirmed, note) },
  { batchSizes: [3, 6], maxTokens: 2048, source: titanLimitSource(confirmed, note) },
];
const titanExpressTokenRows = (confirmed: boolean, note?: string): TokenLimitRow[] => [
  { batchSizes: [1, 1], maxTokens: 4096, source: titanLimitSource(confirmed, note) },
  { batchSizes: [2, 4], maxTokens: 2048, source: titanLimitSource(confirmed, note) },
];

const titan = (rows: (confirmed: boolean, note?: string) => TokenLimitRow[]): CustomizationSpec[] => [
  {
    type: 'FINE_TUNING',
    dataFormat: 'prompt-completion',
    hyperParameters: titanHyperParameters,
    tokenLimits: rows(true),
    undefinedBatchSize: { outcome: 'job-fails-during-training', source: TITAN_TRAP_SOURCE },
    records: titanRecords,
    fileSize: titanFileSize('FINE_TUNING'),
  },
  {
    type: 'CONTINUED_PRE_TRAINING',
    dataFormat: 'input',
    hyperParameters: titanHyperParameters,
    tokenLimits: rows(false, CPT_TOKENS_NOTE),
    undefinedBatchSize: { outcome: 'job-fails-during-training', source: TITAN_TRAP_SOURCE },
    records: titanRecords,
    fileSize: titanFileSize('CONTINUED_PRE_TRAINING'),
  },
];

// ---- other families ----

const COHERE_LIMIT_REF = 'docs/bedrock-api.md §7.2';
const COHERE_LIMIT_URL = `${SOURCES.prepare}#quotas-cm-cohere-command`;
const cohere = (maxBatch: number): CustomizationSpec[] => [
  {
    type: 'FINE_TUNING',
    dataFormat: 'prompt-completion',
    hyperParameters: cohereHyperParameters(maxBatch),
    tokenLimits: [
      {
        batchSizes: [8, maxBatch],
        maxInputTokens: 4096,
        maxOutputTokens: 2048,
        source: { ref: COHERE_LIMIT_REF, url: COHERE_LIMIT_URL, confirmed: true },
      },
    ],
    records: {
      minTotal: unknown('no minimum stated'),
      maxTraining: figure(10_000, COHERE_LIMIT_REF, COHERE_LIMIT_URL),
      maxValidation: figure(1_000, COHERE_LIMIT_REF, COHERE_LIMIT_URL),
      maxTotal: unknown('not stated separately'),
    },
    fileSize: {
      maxTrainingBytes: unknown('not stated (docs/bedrock-api.md §7.2)'),
      maxValidationBytes: unknown('not stated (docs/bedrock-api.md §7.2)'),
    },
  },
];

const llama2: CustomizationSpec[] = [
  {
    type: 'FINE_TUNING',
    dataFormat: 'prompt-completion',
    hyperParameters: llama2HyperParameters,
    tokenLimits: [],
    records: {
      minTotal: unknown('Llama 2 limits are no longer on the page (models EOL), docs/bedrock-api.md §14 item 3'),
      maxTraining: unknown('Llama 2 limits are no longer on the page (models EOL), docs/bedrock-api.md §14 item 3'),
      maxValidation: unknown('Llama 2 limits are no longer on the page (models EOL), docs/bedrock-api.md §14 item 3'),
      maxTotal: unknown('Llama 2 limits are no longer on the page (models EOL), docs/bedrock-api.md §14 item 3'),
    },
    fileSize: {
      maxTrainingBytes: unknown('not stated, docs/bedrock-api.md §14 item 3'),
      maxValidationBytes: unknown('not stated, docs/bedrock-api.md §14 item 3'),
    },
  },
];

const LLAMA31_LIMIT_REF = 'docs/bedrock-api.md §7.2';
const LLAMA31_LIMIT_URL = `${SOURCES.prepare}#quotas-cm-meta-llama-3-1`;
const llama31: CustomizationSpec[] = [
  {
    type: 'FINE_TUNING',
    dataFormat: 'prompt-completion',
    hyperParameters: llama31HyperParameters,
    tokenLimits: [
      {
        batchSizes: [1, 1],
        maxTokens: 16_000,
        maxInputTokens: 16_000,
        maxOutputTokens: 16_000,
        source: { ref: LLAMA31_LIMIT_REF, url: LLAMA31_LIMIT_URL, confirmed: true },
      },
    ],
    records: {
      minTotal: figure(
        100,
        LLAMA31_LIMIT_REF,
        LLAMA31_LIMIT_URL,
        true,
        'sum of training and validation records; adjustable',
      ),
      maxTraining: unknown('only the sum is stated'),
      maxValidation: unknown('only the sum is stated'),
      maxTotal: figure(10_000, LLAMA31_LIMIT_REF, LLAMA31_LIMIT_URL, true, 'adjustable'),
    },
    fileSize: {
      maxTrainingBytes: unknown('not stated (docs/bedrock-api.md §7.2)'),
      maxValidationBytes: unknown('not stated (docs/bedrock-api.md §7.2)'),
    },
  },
];

const NOVA_LIMIT_REF = 'docs/bedrock-api.md §7.2';
const nova: CustomizationSpec[] = [
  {
    type: 'FINE_TUNING',
    dataFormat: 'bedrock-conversation-2024',
    hyperParameters: novaHyperParameters,
    reservedWords: {
      words: ['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]'],
      source: {
        ref: 'docs/bedrock-api.md §7.1',
        url: SOURCES.novaData,
        confirmed: true,
        note: 'reserved keywords: a user or system prompt that holds one makes the job fail on data issues',
      },
    },
    tokenLimits: [
      {
        batchSizes: null,
        maxTokens: 32_000,
        source: { ref: NOVA_LIMIT_REF, url: SOURCES.novaData, confirmed: true, note: 'stated as a 32k context length' },
      },
    ],
    records: {
      minTotal: figure(8, NOVA_LIMIT_REF, SOURCES.novaData),
      maxTraining: unknown('only the sample count is stated'),
      maxValidation: unknown('only the sample count is stated'),
      maxTotal: figure(20_000, NOVA_LIMIT_REF, SOURCES.novaData),
    },
    fileSize: {
      maxTrainingBytes: unknown('not stated for text (docs/bedrock-api.md §7.2)'),
      maxValidationBytes: unknown('not stated for text (docs/bedrock-api.md §7.2)'),
    },
  },
];

/**
 * Nova 2 Lite fine-tunes on the same conversation format as Nova 1 (with optional reasoning content), and the job does
 * not use a validation set. Its sample counts are not on the Bedrock pages read here: the figures are the ones the
 * project was given (200 to 20,000), unconfirmed.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html
 */
const NOVA2_DATA_URL = 'https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html';
const NOVA2_COUNT_NOTE = 'not stated on the pages read here; the figure the project was given for Nova 2 Lite';
const nova2Lite: CustomizationSpec[] = [
  {
    ...nova[0]!,
    tokenLimits: [],
    validationIgnored: {
      ref: NOVA_LIMIT_REF,
      url: NOVA2_DATA_URL,
      confirmed: true,
      note: 'current limitations: a validation set may be accepted but is not supported during SFT training',
    },
    records: {
      minTotal: figure(200, NOVA_LIMIT_REF, NOVA2_DATA_URL, false, NOVA2_COUNT_NOTE),
      maxTraining: unknown('only the sample count is stated'),
      maxValidation: unknown('a validation set is not used'),
      maxTotal: figure(20_000, NOVA_LIMIT_REF, NOVA2_DATA_URL, false, NOVA2_COUNT_NOTE),
    },
  },
];

const HAIKU_LIMIT_REF = 'docs/bedrock-api.md §7.2';
const HAIKU_LIMIT_URL = `${SOURCES.prepare}#anthropic-claude-3-haiku`;
const haiku: CustomizationSpec[] = [
  {
    type: 'FINE_TUNING',
    dataFormat: 'claude-messages',
    hyperParameters: haikuHyperParameters,
    tokenLimits: [
      {
        batchSizes: [4, 256],
        maxTokens: 32_000,
        source: { ref: HAIKU_LIMIT_REF, url: HAIKU_LIMIT_URL, confirmed: true },
      },
    ],
    records: {
      minTotal: figure(32, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL),
      maxTraining: figure(10_000, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL, true, 'adjustable'),
      maxValidation: figure(1_000, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL, true, 'adjustable'),
      maxTotal: figure(10_000, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL, true, 'adjustable'),
    },
    fileSize: {
      maxTrainingBytes: figure(10 * GB, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL),
      maxValidationBytes: figure(1 * GB, HAIKU_LIMIT_REF, HAIKU_LIMIT_URL),
    },
  },
];

const ID_REF = 'docs/bedrock-api.md §6.1';
const idSeen: Source = {
  ref: ID_REF,
  url: SOURCES.createJob,
  confirmed: true,
  note: 'seen in ListFoundationModels output / provider code',
};
const idFromThirdParty: Source = {
  ref: `${ID_REF}, §14 item 9`,
  url: SOURCES.createJob,
  confirmed: false,
  note: 'only from third-party code',
};
const idInNovaGuide: Source = {
  ref: ID_REF,
  url: SOURCES.createJob,
  confirmed: true,
  note: 'listed as a model_type in the Nova user guide',
};
const TITAN_INFERENCE_REF = 'docs/bedrock-api.md §11.2';
const titanInference = (maxTokens: number) => figure(maxTokens, TITAN_INFERENCE_REF, SOURCES.titanInference);

const MODELS: ReadonlyArray<Omit<BaseModel, 'lifecycle'>> = [
  {
    id: 'amazon.titan-text-lite-v1:0:4k',
    idSource: { ref: `${ID_REF}, §12`, url: SOURCES.createJob, confirmed: true },
    inferenceId: 'amazon.titan-text-lite-v1',
    name: 'Titan Text G1 - Lite',
    provider: 'Amazon',
    family: 'titan-text',
    customizations: titan(titanLiteTokenRows),
    maxOutputTokensAtInference: titanInference(4096),
  },
  {
    id: 'amazon.titan-text-express-v1:0:8k',
    idSource: { ref: ID_REF, url: SOURCES.createJob, confirmed: true },
    inferenceId: 'amazon.titan-text-express-v1',
    name: 'Titan Text G1 - Express',
    provider: 'Amazon',
    family: 'titan-text',
    customizations: titan(titanExpressTokenRows),
    maxOutputTokensAtInference: titanInference(8192),
  },
  {
    id: 'cohere.command-text-v14:7:4k',
    idSource: idSeen,
    inferenceId: 'cohere.command-text-v14',
    name: 'Cohere Command',
    provider: 'Cohere',
    family: 'cohere-command',
    customizations: cohere(8),
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'cohere.command-light-text-v14:7:4k',
    idSource: idSeen,
    inferenceId: 'cohere.command-light-text-v14',
    name: 'Cohere Command Light',
    provider: 'Cohere',
    family: 'cohere-command',
    customizations: cohere(32),
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'meta.llama2-13b-v1:0:4k',
    idSource: idSeen,
    inferenceId: 'meta.llama2-13b-v1',
    name: 'Llama 2 13B',
    provider: 'Meta',
    family: 'meta-llama',
    customizations: llama2,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'meta.llama2-70b-v1:0:4k',
    idSource: idSeen,
    inferenceId: 'meta.llama2-70b-v1',
    name: 'Llama 2 70B',
    provider: 'Meta',
    family: 'meta-llama',
    customizations: llama2,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'meta.llama3-1-8b-instruct-v1:0:128k',
    idSource: idFromThirdParty,
    inferenceId: 'meta.llama3-1-8b-instruct-v1:0',
    name: 'Llama 3.1 8B Instruct',
    provider: 'Meta',
    family: 'meta-llama',
    customizations: llama31,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'meta.llama3-1-70b-instruct-v1:0:128k',
    idSource: idFromThirdParty,
    inferenceId: 'meta.llama3-1-70b-instruct-v1:0',
    name: 'Llama 3.1 70B Instruct',
    provider: 'Meta',
    family: 'meta-llama',
    customizations: llama31,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'amazon.nova-micro-v1:0:128k',
    idSource: idInNovaGuide,
    inferenceId: 'amazon.nova-micro-v1:0',
    name: 'Nova Micro',
    provider: 'Amazon',
    family: 'amazon-nova',
    customizations: nova,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'amazon.nova-lite-v1:0:300k',
    idSource: idInNovaGuide,
    inferenceId: 'amazon.nova-lite-v1:0',
    name: 'Nova Lite',
    provider: 'Amazon',
    family: 'amazon-nova',
    customizations: nova,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'amazon.nova-pro-v1:0:300k',
    idSource: idInNovaGuide,
    inferenceId: 'amazon.nova-pro-v1:0',
    name: 'Nova Pro',
    provider: 'Amazon',
    family: 'amazon-nova',
    customizations: nova,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'amazon.nova-2-lite-v1:0:256k',
    idSource: {
      ref: ID_REF,
      url: 'https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-fine-tuning.html#custom-model-supported',
      confirmed: true,
      note: 'listed in the table of models that can be fine-tuned',
    },
    inferenceId: 'amazon.nova-2-lite-v1:0',
    name: 'Nova 2 Lite',
    provider: 'Amazon',
    family: 'amazon-nova',
    customizations: nova2Lite,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
  {
    id: 'anthropic.claude-3-haiku-20240307-v1:0:200k',
    idSource: idFromThirdParty,
    inferenceId: 'anthropic.claude-3-haiku-20240307-v1:0',
    name: 'Claude 3 Haiku',
    provider: 'Anthropic',
    family: 'anthropic-claude',
    customizations: haiku,
    maxOutputTokensAtInference: unknown(
      'no published figure found',
      'docs/bedrock-api.md §11.2',
      SOURCES.titanInference,
    ),
  },
];

export const BASE_MODELS: readonly BaseModel[] = MODELS.map((m) => {
  const lifecycle = LIFECYCLES[m.id];
  if (!lifecycle) throw new Error(`the catalog has no lifecycle for ${m.id} (shared/catalog/lifecycle.ts)`);
  return { ...m, lifecycle };
});

/**
 * Account-level Provisioned Throughput facts (docs/bedrock-api.md §11.1). The no-commitment figures come from an older,
 * undated
 * version of the Provisioned Throughput page; the current one no longer states them.
 */
export const PROVISIONED_THROUGHPUT_QUOTAS = {
  noCommitmentThroughputsPerAccount: figure(
    2,
    'docs/bedrock-api.md §11.1',
    SOURCES.provisionedThroughput,
    false,
    'an older version of the page',
  ),
  modelUnitsPerNoCommitmentThroughput: figure(
    1,
    'docs/bedrock-api.md §11.1',
    SOURCES.provisionedThroughput,
    false,
    'an older version of the page',
  ),
  commitmentModelUnits: figure(
    0,
    'docs/bedrock-api.md §11.1',
    SOURCES.createThroughput,
    true,
    'by default an account has no model units for commitment purchases',
  ),
} as const;
