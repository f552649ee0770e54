import { z } from 'zod';

/**
 * A run's configuration, resolved by ingest (message > sidecar `<key>.run.json` > profile under `datasets/<profile>/` >
 * these defaults) and recorded on the run. Defaults follow the seed recipe: Titan Text G1 - Lite fine-tuned on
 * databricks-dolly-15k-ja with 10,000 training / 1,000 validation records.
 */
export const PrepConfig = z.object({
  /** Input format; `auto` detects JSON Lines, JSON array, CSV/TSV and Parquet (gzip or not) from the bytes. */
  format: z.enum(['auto', 'jsonl', 'json', 'csv', 'tsv', 'parquet']).default('auto'),
  /** Text encoding to convert from when the file is not UTF-8 (e.g. `shift_jis`, `utf-16le`). */
  encoding: z.string().optional(),
  /** How records map to the model's format. */
  template: z
    .object({
      kind: z.enum(['dolly', 'fields', 'text']).default('dolly'),
      instructionField: z.string().default('instruction'),
      inputField: z.string().default('input'),
      outputField: z.string().default('output'),
      /** For `fields`: prompt and completion taken as they are from these fields. */
      promptField: z.string().default('prompt'),
      completionField: z.string().default('completion'),
      /** For `text` (continued pre-training): the document field. */
      textField: z.string().default('text'),
      /** Prefix and separator of the seed recipe for records with an input. */
      inputPrefix: z.string().default('入力:'),
      knowledgeSeparator: z.string().default('\n知識:'),
    })
    .prefault({}),
  filters: z
    .object({
      /** Prompt plus completion, in Unicode code points; records over it are dropped, never cut. */
      maxChars: z.number().int().positive().default(1500),
      /** Estimated tokens per record; defaults to the base model's limit for the batch size. */
      maxTokens: z.number().int().positive().optional(),
      dropEmpty: z.boolean().default(true),
      dropDuplicates: z.boolean().default(true),
    })
    .prefault({}),
  /** Field used for category counts and optional stratification. */
  categoryField: z.string().default('category'),
  /** The largest chunk for parallel transform, in bytes of input (after gunzip). */
  chunkBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /**
   * A file that chunkBytes would leave in fewer than `fanOut` chunks is cut into `fanOut` chunks instead, none smaller
   * than `minChunkBytes`, so a mid-sized file is transformed by several functions at once. Only where a chunk can be
   * read by itself (uncompressed UTF-8 text, Parquet); a gzip or converted chunk is read from the start of the file.
   */
  fanOut: z.number().int().positive().default(8),
  minChunkBytes: z.number().int().positive().default(8 * 1024 * 1024),
});
export type PrepConfig = z.infer<typeof PrepConfig>;

export const SplitConfig = z.object({
  train: z.number().int().nonnegative().default(10_000),
  validation: z.number().int().nonnegative().default(1_000),
  test: z.number().int().nonnegative().default(50),
  seed: z.string().default('btp-default-seed'),
  stratifyBy: z.string().optional(),
  /** When fewer eligible records than asked: shrink every set by the same ratio (with a warning), or fail. */
  whenShort: z.enum(['shrink', 'fail']).default('shrink'),
});
export type SplitConfig = z.infer<typeof SplitConfig>;

export const TrainingConfig = z.object({
  baseModelId: z.string().default('amazon.titan-text-lite-v1:0:4k'),
  customizationType: z.enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING']).default('FINE_TUNING'),
  /** Bedrock hyperparameters as strings, as Bedrock takes them. Defaults come from the model catalog. */
  hyperParameters: z.record(z.string(), z.string()).default({ epochCount: '1', batchSize: '1', learningRate: '0.00001' }),
  /** Stop-loss for cost: a run whose estimate exceeds it is not submitted. */
  budgetUsd: z.number().positive().optional(),
  maxJobHours: z.number().positive().default(12),
  /** Resubmit once with a corrected setting after a known recoverable failure (the Titan batch-size trap). */
  autoRemediate: z.boolean().default(true),
  /**
   * What the preflight does with a setting known to fail jobs after they start (Titan Lite batchSize > 6, api §8.1):
   * `fail` the run at once, or `warn` and let Bedrock decide (the monitor then remediates). The trap is an inference
   * from the docs, not a documented behaviour, so a user who knows better can opt out.
   */
  knownTraps: z.enum(['fail', 'warn']).default('fail'),
  /** Quotas the account has raised (Service Quotas); they win over the catalog's published defaults. */
  quotas: z
    .object({
      maxTrainingRecords: z.number().int().positive().optional(),
      maxValidationRecords: z.number().int().positive().optional(),
      maxTotalRecords: z.number().int().positive().optional(),
    })
    .default({}),
});
export type TrainingConfig = z.infer<typeof TrainingConfig>;

export const ProvisioningConfig = z.object({
  enabled: z.boolean().default(true),
  modelUnits: z.number().int().positive().default(1),
  /** No-commitment throughput is billed by the hour until deleted: every one gets a time to live. */
  ttlHours: z.number().positive().default(2),
  /** Commitment terms cost months of fees; allowed only when set explicitly. */
  commitmentDuration: z.enum(['OneMonth', 'SixMonths']).optional(),
  /**
   * Once the throughput is in service, send this many held-out test records (the last stage's `prepared/test.jsonl`)
   * to the new model and keep its answers in `runs/<id>/evaluation/samples.jsonl`; 0 skips the evaluate step.
   */
  evaluateSamples: z.number().int().nonnegative().default(5),
});
export type ProvisioningConfig = z.infer<typeof ProvisioningConfig>;

/**
 * One stage of a chained run (continued pre-training on a corpus, then fine-tuning on an instruction set...). Each
 * stage's job starts from the previous stage's model. The rule for datasets: stage 0 trains on the run's own source
 * (the uploaded or requested object) and names no dataset; every later stage names its dataset, a key in the run's
 * source bucket (the datasets bucket) unless `bucket` is given. A stage's `prep` and `split` are partial
 * configurations deep-merged over the run's own, as are its `hyperParameters`; the run's `training.baseModelId` is
 * stage 0's base model.
 */
export const StageConfig = z.object({
  dataset: z.object({ bucket: z.string().min(3).optional(), key: z.string().min(1) }).optional(),
  customizationType: z.enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING']).optional(),
  prep: z.record(z.string(), z.unknown()).optional(),
  split: z.record(z.string(), z.unknown()).optional(),
  hyperParameters: z.record(z.string(), z.string()).optional(),
  /**
   * A training set larger than this becomes sequential jobs of (about) equal parts, each starting from the previous
   * part's model: a corpus over one job's record quota (the seed recipe's five jobs of 100,000 records).
   */
  maxRecordsPerJob: z.number().int().positive().optional(),
});
export type StageConfig = z.infer<typeof StageConfig>;

export const RunConfig = z
  .object({
    prep: PrepConfig.prefault({}),
    split: SplitConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    provisioning: ProvisioningConfig.prefault({}),
    /** Free-form labels that travel with the run (team, ticket...). Absent `stages`: one stage, as configured above. */
    labels: z.record(z.string(), z.string()).default({}),
    /** A chained run's stages, in order (see StageConfig); at most 9, so job names stay within 63 characters. */
    stages: z.array(StageConfig).min(1).max(9).optional(),
  })
  .superRefine((config, ctx) => {
    config.stages?.forEach((stage, i) => {
      if (i === 0 && stage.dataset) ctx.addIssue({ code: 'custom', path: ['stages', 0, 'dataset'], message: 'stage 0 trains on the run\'s own source and names no dataset' });
      if (i > 0 && !stage.dataset) ctx.addIssue({ code: 'custom', path: ['stages', i, 'dataset'], message: 'every stage after the first names its dataset' });
      const parsed = RunConfigBase.safeParse(stageLayer(config, stage));
      for (const issue of parsed.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: ['stages', i, ...issue.path.map(String)], message: issue.message });
    });
  });
export type RunConfig = z.infer<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** A run configuration without its stages: what one stage runs with. */
const RunConfigBase = z.object({
  prep: PrepConfig.prefault({}),
  split: SplitConfig.prefault({}),
  training: TrainingConfig.prefault({}),
  provisioning: ProvisioningConfig.prefault({}),
  labels: z.record(z.string(), z.string()).default({}),
});

function stageLayer(config: { stages?: unknown }, stage: StageConfig): Record<string, unknown> {
  const { stages: _stages, ...base } = config;
  const training: Record<string, unknown> = {};
  if (stage.customizationType) training.customizationType = stage.customizationType;
  if (stage.hyperParameters) training.hyperParameters = stage.hyperParameters;
  return deepMerge(base as Record<string, unknown>, { prep: stage.prep ?? {}, split: stage.split ?? {}, training });
}

/** How many stages a run has: its `stages`, or one. */
export const stageCount = (config: RunConfig): number => config.stages?.length ?? 1;

/** The configuration stage `n` runs with: the run's own, with the stage's overrides merged in, and no `stages`. */
export function stageConfig(config: RunConfig, n: number): RunConfig {
  const stage = config.stages?.[n];
  if (!config.stages) return config;
  if (!stage) throw new Error(`the run has ${config.stages.length} stage(s), not a stage ${n}`);
  return RunConfigBase.parse(stageLayer(config, stage));
}

/** Deep-merges partial configurations, later ones winning, then validates and applies defaults. */
export function resolveRunConfig(...layers: Array<unknown>): RunConfig {
  const merged = layers.reduce<Record<string, unknown>>((acc, layer) => deepMerge(acc, (layer ?? {}) as Record<string, unknown>), {});
  return RunConfig.parse(merged);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
