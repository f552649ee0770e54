import * as z from 'zod';

/**
 * A run's configuration, resolved by ingest (message > sidecar `<key>.run.json` > profile under `datasets/<profile>/` >
 * these defaults) and recorded on the run. Defaults follow the seed recipe's data (databricks-dolly-15k-ja, 10,000
 * training / 1,000 validation records) on a model Bedrock offers today: Nova Micro, fine-tuned on the
 * `bedrock-conversation-2024` format (the recipe's Titan Text G1 - Lite has reached end of life,
 * shared/catalog/lifecycle.ts).
 */
// Each setting's meaning is its `.describe()` text: docs/configuration.md is generated from them
// (`npm run config:docs`), and a test fails when a setting has none or the page is stale.
export const PrepConfig = z
  .object({
    format: z
      .enum(['auto', 'jsonl', 'json', 'csv', 'tsv', 'parquet'])
      .default('auto')
      .describe(
        'Input format; `auto` detects JSON Lines, JSON array, CSV/TSV and Parquet (gzip or not) from the bytes.',
      ),
    encoding: z
      .string()
      .optional()
      .describe(
        'Text encoding to convert from when the file is not UTF-8 (e.g. `shift_jis`, `utf-16le`); absent: UTF-8.',
      ),
    template: z
      .object({
        kind: z
          .enum(['dolly', 'fields', 'text'])
          .default('dolly')
          .describe(
            'How a record becomes a training example: `dolly` builds prompt and completion from instruction, input and output ' +
              'fields (the seed recipe); `fields` takes prompt and completion as they are; `text` takes one document field ' +
              '(continued pre-training).',
          ),
        instructionField: z.string().default('instruction').describe('For `dolly`: the field holding the instruction.'),
        inputField: z
          .string()
          .default('input')
          .describe('For `dolly`: the field holding the optional input (context).'),
        outputField: z.string().default('output').describe('For `dolly`: the field holding the expected answer.'),
        promptField: z.string().default('prompt').describe('For `fields`: the field taken as the prompt.'),
        completionField: z.string().default('completion').describe('For `fields`: the field taken as the completion.'),
        textField: z.string().default('text').describe('For `text` (continued pre-training): the document field.'),
        inputPrefix: z
          .string()
          .default('入力:')
          .describe(
            'For `dolly`, in a record with an input: the prefix of the prompt (`<prefix><instruction><separator><input>`).',
          ),
        knowledgeSeparator: z
          .string()
          .default('\n知識:')
          .describe('For `dolly`, in a record with an input: the separator between the instruction and the input.'),
      })
      .prefault({})
      .describe("How records map to the model's format, and which fields hold what (CSV columns are fields too)."),
    filters: z
      .object({
        maxChars: z
          .number()
          .int()
          .positive()
          .default(1500)
          .describe('Prompt plus completion, in Unicode code points; records over it are dropped, never cut.'),
        maxTokens: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Estimated tokens per record; absent: the base model's limit for the batch size."),
        dropEmpty: z.boolean().default(true).describe('Drop records with an empty (blank) prompt or completion.'),
        dropDuplicates: z
          .boolean()
          .default(true)
          .describe('Drop records whose content repeats an earlier kept record.'),
      })
      .prefault({})
      .describe('Which records are kept; every record dropped is counted under its reason.'),
    categoryField: z
      .string()
      .default('category')
      .describe('Field used for category counts and optional stratification.'),
    chunkBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024)
      .describe('The largest chunk for parallel transform, in bytes of input (after gunzip).'),
    fanOut: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe(
        'A file that chunkBytes would leave in fewer than `fanOut` chunks is cut into `fanOut` chunks instead, none smaller ' +
          'than `minChunkBytes`, so a mid-sized file is transformed by several functions at once. Only where a chunk can be ' +
          'read by itself (uncompressed UTF-8 text, Parquet); a gzip or converted chunk is read from the start of the file.',
      ),
    minChunkBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024)
      .describe('The smallest chunk `fanOut` makes, in bytes.'),
  })
  .describe('Reading and preparing the input.');
export type PrepConfig = z.infer<typeof PrepConfig>;

export const SplitConfig = z
  .object({
    train: z.number().int().nonnegative().default(10_000).describe('Records in the training set.'),
    validation: z.number().int().nonnegative().default(1_000).describe('Records in the validation set.'),
    test: z
      .number()
      .int()
      .nonnegative()
      .default(50)
      .describe('Records held out for evaluation (`provisioning.evaluateSamples`).'),
    seed: z
      .string()
      .default('btp-default-seed')
      .describe('Seed of the shuffle: the same seed and input give the same sets.'),
    stratifyBy: z
      .string()
      .optional()
      .describe(
        'Field whose values keep their shares in every set (e.g. the category field); absent: a plain shuffle.',
      ),
    whenShort: z
      .enum(['shrink', 'fail'])
      .default('shrink')
      .describe(
        'When fewer eligible records than asked: shrink every set by the same ratio (with a warning), or fail.',
      ),
  })
  .describe('How the kept records are split into training, validation and test sets.');
export type SplitConfig = z.infer<typeof SplitConfig>;

export const TrainingConfig = z
  .object({
    baseModelId: z
      .string()
      .default('amazon.nova-micro-v1:0:128k')
      .describe(
        'The Bedrock base model to customize (its customization id). The 2024 recipe used ' +
          '`amazon.titan-text-lite-v1:0:4k`, now at end of life.',
      ),
    customizationType: z
      .enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING'])
      .default('FINE_TUNING')
      .describe(
        "Bedrock's customization type: fine-tuning on prompt/completion pairs, or continued pre-training on text.",
      ),
    hyperParameters: z
      .record(z.string(), z.string())
      .default({ epochCount: '1', learningRate: '0.00001' })
      .describe(
        'Bedrock hyperparameters as strings, as Bedrock takes them; names and ranges come from the model catalog.',
      ),
    budgetUsd: z
      .number()
      .positive()
      .optional()
      .describe('Stop-loss for cost: a run whose estimate exceeds it is not submitted; absent: no limit.'),
    maxJobHours: z
      .number()
      .positive()
      .default(12)
      .describe(
        'A job running longer than this is flagged once (a warning on the run and a `job.overdue` event); it is not stopped.',
      ),
    autoRemediate: z
      .boolean()
      .default(true)
      .describe(
        'Resubmit once with a corrected setting after a known recoverable failure (the Titan batch-size trap).',
      ),
    knownTraps: z
      .enum(['fail', 'warn'])
      .default('fail')
      .describe(
        'What the preflight does with a setting known to fail jobs after they start (Titan Lite batchSize > 6): `fail` the ' +
          'run at once, or `warn` and let Bedrock decide (the monitor then remediates). The trap is an inference from the ' +
          'docs, not a documented behaviour, so a user who knows better can opt out.',
      ),
    quotas: z
      .object({
        maxTrainingRecords: z.number().int().positive().optional().describe('Records a training set may hold.'),
        maxValidationRecords: z.number().int().positive().optional().describe('Records a validation set may hold.'),
        maxTotalRecords: z.number().int().positive().optional().describe('Training plus validation records.'),
      })
      .default({})
      .describe("Quotas the account has raised (Service Quotas); they win over the catalog's published defaults."),
  })
  .describe('The customization job.');
export type TrainingConfig = z.infer<typeof TrainingConfig>;

export const ProvisioningConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve the trained model (a custom model can be called only through a deployment or a throughput).'),
    serving: z
      .enum(['auto', 'deployment', 'provisioned-throughput'])
      .default('auto')
      .describe(
        '`auto`: a custom model deployment (on demand, billed per token, no hourly bill) where the catalog says the base ' +
          'model supports it (Nova), else Provisioned Throughput; or either one by name.',
      ),
    modelUnits: z.number().int().positive().default(1).describe('Model units of the throughput.'),
    ttlHours: z
      .number()
      .positive()
      .default(2)
      .describe('No-commitment throughput is billed by the hour until deleted: it is deleted after this many hours.'),
    commitmentDuration: z
      .enum(['OneMonth', 'SixMonths'])
      .optional()
      .describe('A commitment term (months of fees); allowed only when set explicitly. Absent: no commitment.'),
    evaluateSamples: z
      .number()
      .int()
      .nonnegative()
      .default(5)
      .describe(
        "Once the throughput is in service, send this many held-out test records (the last stage's " +
          '`prepared/test.jsonl`) to the new model and keep its answers in `runs/<id>/evaluation/samples.jsonl`; 0 skips ' +
          'the evaluate step.',
      ),
  })
  .describe('Serving the trained model (a deployment or Provisioned Throughput), and its evaluation.');
export type ProvisioningConfig = z.infer<typeof ProvisioningConfig>;

export const EvaluationConfig = z
  .object({
    maxTokenCount: z
      .number()
      .int()
      .positive()
      .default(512)
      .describe(
        "The model's output cap per evaluated prompt (Titan's `textGenerationConfig.maxTokenCount`); `btp chat` uses it too.",
      ),
    overlongRatio: z
      .number()
      .positive()
      .default(2)
      .describe(
        'An answer to a prompt that sets no length limit ("100文字以内") is overlong when it is longer than this many ' +
          'times its reference (code points).',
      ),
    baseModel: z
      .enum(['when-gated', 'always', 'never'])
      .default('when-gated')
      .describe(
        'Also ask the base model (on demand, by its inference id, billed per token) the same test prompts and score ' +
          "its answers, so the gate can compare a model's overlap with the base model's: when the gate judges the run " +
          'and compares overlap (`when-gated`), `always`, or `never`. Variants of one experiment share one base ' +
          'evaluation.',
      ),
    promptFile: z
      .object({
        bucket: z
          .string()
          .min(3)
          .optional()
          .describe("Bucket of the prompt file; absent: the run's source bucket (the datasets bucket)."),
        key: z.string().min(1).describe('Key of the prompt file (under `inputs/`, which runs may read).'),
      })
      .optional()
      .describe(
        'Your own prompts, asked of the model (and of the base model where it is asked) beside the held-out test set ' +
          'and scored per category: a JSON Lines file, one `{prompt, input?, reference?, category, maxTokenCount?}` a ' +
          'line (docs/evaluation.md). A bad line fails the run at its start, naming the file, line and field.',
      ),
    judge: z
      .object({
        modelId: z
          .string()
          .min(1)
          .describe(
            "The judge: a catalogued model's on-demand inference id (e.g. `amazon.nova-lite-v1:0`, " +
              '`anthropic.claude-3-haiku-20240307-v1:0`), invoked on demand and billed per token.',
          ),
        maxSamples: z
          .number()
          .int()
          .positive()
          .default(50)
          .describe(
            'At most this many answers of each evaluated model are graded: those to the prompt file first, then the ' +
              "held-out test records' (scored ones only).",
          ),
        maxTokens: z
          .number()
          .int()
          .positive()
          .default(64)
          .describe("The judge's output cap per grade (a grade is one short JSON line)."),
        maxUsd: z
          .number()
          .nonnegative()
          .optional()
          .describe(
            "A ceiling per evaluated model: when the judge's estimated cost is above it, the judge is not asked " +
              '(a warning on the run says so). Absent: no ceiling, the estimate is recorded and shown.',
          ),
      })
      .optional()
      .describe(
        'Optional judge model: asks a model through Bedrock to grade each answer 1-5 for correctness against the ' +
          'prompt and reference and 1-5 for answering in Japanese (docs/evaluation.md). Off unless set; its cost is ' +
          'estimated first and recorded on the run.',
      ),
    gate: z
      .object({
        appliesTo: z
          .enum(['variants', 'every-run', 'none'])
          .default('variants')
          .describe(
            'Which evaluated runs the gate judges: the variants of an experiment (config `variants`), every run (a ' +
              'single model too), or none.',
          ),
        minJapaneseRatio: z
          .number()
          .min(0)
          .max(1)
          .default(0.9)
          .describe('A variant keeps its throughput only if at least this share of its answers is mostly in Japanese.'),
        overlapAboveBase: z
          .boolean()
          .default(true)
          .describe(
            "...and only if its mean overlap score (chrF) is above the base model's, when the base model was evaluated.",
          ),
        deleteModels: z
          .boolean()
          .default(false)
          .describe("Delete a losing variant's custom model too, not only its throughput."),
      })
      .prefault({})
      .describe(
        'The rule that decides, once every variant of a run is evaluated, which keep their Provisioned Throughput (until ' +
          'their time to live) and whose throughput is deleted at once.',
      ),
  })
  .describe('How the evaluate step scores answers, and the gate over variants.');
export type EvaluationConfig = z.infer<typeof EvaluationConfig>;

/**
 * One stage of a chained run (continued pre-training on a corpus, then fine-tuning on an instruction set...). Each
 * stage's job starts from the previous stage's model. The rule for datasets: stage 0 trains on the run's own source
 * (the uploaded or requested object) and names no dataset; every later stage names its dataset, a key in the run's
 * source bucket (the datasets bucket) unless `bucket` is given. A stage's `prep` and `split` are partial
 * configurations deep-merged over the run's own, as are its `hyperParameters`; the run's `training.baseModelId` is
 * stage 0's base model.
 */
export const StageConfig = z.object({
  dataset: z
    .object({
      bucket: z.string().min(3).optional().describe("Bucket of the stage's dataset; absent: the run's source bucket."),
      key: z.string().min(1).describe("Key of the stage's dataset."),
    })
    .optional()
    .describe(
      "The stage's dataset: none for stage 0 (it trains on the run's own source), required for every later stage.",
    ),
  customizationType: z
    .enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING'])
    .optional()
    .describe("The stage's customization type; absent: `training.customizationType`."),
  prep: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Settings of `prep` for this stage, merged over the run's."),
  split: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Settings of `split` for this stage, merged over the run's."),
  hyperParameters: z
    .record(z.string(), z.string())
    .optional()
    .describe('Hyperparameters for this stage, merged over `training.hyperParameters`.'),
  maxRecordsPerJob: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'A training set larger than this becomes sequential jobs of (about) equal parts, each starting from the previous ' +
        "part's model: a corpus over one job's record quota.",
    ),
});
export type StageConfig = z.infer<typeof StageConfig>;

/**
 * One variant of an experiment: the run trains one child run per variant, each with its own job, model and
 * throughput, on data prepared once. A variant changes the fine-tuning (the run's last stage) and chooses whether it
 * builds on the shared continued pre-training (the run's earlier `stages`, trained once for all the variants that do).
 */
export const VariantConfig = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9](-?[a-z0-9])*$/, 'lower-case letters, digits and single hyphens')
    .max(24)
    .describe("The variant's name, unique in the run (lower-case letters, digits, single hyphens; at most 24)."),
  hyperParameters: z
    .record(z.string(), z.string())
    .optional()
    .describe("Hyperparameters of the variant's fine-tuning, merged over the last stage's (e.g. `epochCount`)."),
  continuedPreTraining: z
    .boolean()
    .default(false)
    .describe(
      "Start from the model of the run's earlier `stages` (the shared continued pre-training, trained once for every " +
        'variant that sets this); false: fine-tune the base model.',
    ),
});
export type VariantConfig = z.infer<typeof VariantConfig>;

export const RunConfig = z
  .object({
    prep: PrepConfig.prefault({}),
    split: SplitConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    provisioning: ProvisioningConfig.prefault({}),
    evaluation: EvaluationConfig.prefault({}),
    labels: z
      .record(z.string(), z.string())
      .default({})
      .describe('Free-form labels that travel with the run (team, ticket...).'),
    stages: z
      .array(StageConfig)
      .min(1)
      .max(9)
      .optional()
      .describe(
        "A chained run's stages, in order, each starting from the previous stage's model; at most 9, so job names stay " +
          'within 63 characters. Absent: one stage, as configured above.',
      ),
    variants: z
      .array(VariantConfig)
      .min(1)
      .max(9)
      .optional()
      .describe(
        'An experiment: one child run per variant (at most 9), each fine-tuning with its own hyperparameters, with or ' +
          'without the shared continued pre-training of the earlier `stages`. The data of each stage is prepared once ' +
          'for all. Absent: the run trains one model.',
      ),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.variants?.forEach((variant, i) => {
      if (names.has(variant.name))
        ctx.addIssue({ code: 'custom', path: ['variants', i, 'name'], message: `"${variant.name}" is used twice` });
      names.add(variant.name);
    });
    if (config.variants) {
      const pretrained = config.variants.some((v) => v.continuedPreTraining);
      const chained = (config.stages?.length ?? 1) > 1;
      if (pretrained && !chained)
        ctx.addIssue({
          code: 'custom',
          path: ['variants'],
          message:
            'a variant with continuedPreTraining needs `stages`: the pre-training stage(s), then the fine-tuning',
        });
      if (!pretrained && chained)
        ctx.addIssue({
          code: 'custom',
          path: ['stages'],
          message: 'no variant uses continuedPreTraining, so the stages before the last would be trained for none',
        });
    }
    config.stages?.forEach((stage, i) => {
      if (i === 0 && stage.dataset)
        ctx.addIssue({
          code: 'custom',
          path: ['stages', 0, 'dataset'],
          message: "stage 0 trains on the run's own source and names no dataset",
        });
      if (i > 0 && !stage.dataset)
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'dataset'],
          message: 'every stage after the first names its dataset',
        });
      const parsed = RunConfigBase.safeParse(stageLayer(config, stage));
      for (const issue of parsed.error?.issues ?? [])
        ctx.addIssue({ code: 'custom', path: ['stages', i, ...issue.path.map(String)], message: issue.message });
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
  evaluation: EvaluationConfig.prefault({}),
  labels: z.record(z.string(), z.string()).default({}),
});

function stageLayer(config: { stages?: unknown; variants?: unknown }, stage: StageConfig): Record<string, unknown> {
  const { stages: _stages, variants: _variants, ...base } = config;
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
  const merged = layers.reduce<Record<string, unknown>>(
    (acc, layer) => deepMerge(acc, (layer ?? {}) as Record<string, unknown>),
    {},
  );
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

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The configuration a variant's child run trains with: the run's last stage (the fine-tuning), the variant's
 * hyperparameters merged over it, and neither `stages` nor `variants` (the child is one stage).
 */
export function variantConfig(config: RunConfig, variant: VariantConfig): RunConfig {
  const last = stageConfig(config, stageCount(config) - 1);
  const hyperParameters = { ...last.training.hyperParameters, ...variant.hyperParameters };
  return RunConfigBase.parse({ ...last, training: { ...last.training, hyperParameters } });
}
