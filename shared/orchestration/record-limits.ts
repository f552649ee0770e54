import * as z from 'zod';
import { customizationSpec, findBaseModel } from '../catalog/lookup';
import type { BaseModel, CustomizationSpec, Figure } from '../catalog/models';
import { stageConfig, type RunConfig, type TrainingConfig } from '../config/run-config';
import { planParts } from '../runs/stages';

/**
 * Record quotas a deployment declares for the models whose quota the catalog does not publish (Titan Text's are
 * account quotas with no published default, docs/bedrock-api.md §7.2, §14 item 2): the account's figures from Service
 * Quotas, set per stage in serverless.yml (`params.<stage>.recordQuotas`, the `BTP_RECORD_QUOTAS` variable). The local
 * stage declares the Bedrock emulator's own defaults, so the preflight holds a run to what the emulator enforces.
 */
export const DeploymentRecordQuotas = z.object({
  maxTrainingRecords: z.number().int().positive().optional(),
  maxValidationRecords: z.number().int().positive().optional(),
  maxTotalRecords: z.number().int().positive().optional(),
});
export type DeploymentRecordQuotas = z.infer<typeof DeploymentRecordQuotas>;

/** `BTP_RECORD_QUOTAS` as JSON; empty or absent: none declared. */
export function recordQuotasFromEnv(raw: string | undefined): DeploymentRecordQuotas {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`Environment variable BTP_RECORD_QUOTAS must be JSON, got "${raw}"`);
  }
  const parsed = DeploymentRecordQuotas.strict().safeParse(value);
  if (!parsed.success) throw new Error(`Environment variable BTP_RECORD_QUOTAS: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface RecordLimitInput {
  model: BaseModel;
  spec: CustomizationSpec;
  training: TrainingConfig;
  /** Records of the job's training and validation files (a sequential job's own part). */
  trainRecords: number;
  validationRecords: number;
  /** The stage's `maxRecordsPerJob`, with the setting's path, when the stage trains in sequential jobs. */
  maxRecordsPerJob?: { value: number; setting: string };
  deploymentQuotas?: DeploymentRecordQuotas;
}

type Limit = { value: number; from: string };

/**
 * The job's record counts, and a stage's `maxRecordsPerJob`, against the record quotas that apply: the run's
 * `training.quotas` (an account's raised quota), else the catalog's published figure, else the deployment's declared
 * one. A count over a known quota is an error, so the run fails at submit in seconds rather than after Bedrock has
 * taken the job; a quota nobody knows is a warning that names the settings that would make it known.
 */
export function recordLimitProblems(input: RecordLimitInput): { errors: string[]; warnings: string[] } {
  const { model, spec, training } = input;
  const errors: string[] = [];
  const warnings: string[] = [];
  const q = training.quotas ?? {};
  const d = input.deploymentQuotas ?? {};
  const pick = (run: number | undefined, figure: Figure<number>, deployed: number | undefined, setting: string) => {
    if (run !== undefined) return { value: run, from: `training.quotas.${setting}` };
    if (figure.value !== null) return { value: figure.value, from: `the published quota, ${figure.source.url}` };
    if (deployed !== undefined) return { value: deployed, from: `the deployment's BTP_RECORD_QUOTAS.${setting}` };
    return undefined;
  };
  const limits: Record<'training' | 'validation' | 'total', Limit | undefined> = {
    training: pick(q.maxTrainingRecords, spec.records.maxTraining, d.maxTrainingRecords, 'maxTrainingRecords'),
    validation: pick(
      q.maxValidationRecords,
      spec.records.maxValidation,
      d.maxValidationRecords,
      'maxValidationRecords',
    ),
    total: pick(q.maxTotalRecords, spec.records.maxTotal, d.maxTotalRecords, 'maxTotalRecords'),
  };
  const what = `${model.name} ${spec.type}`;
  const checks: Array<[string, number, Limit | undefined, string]> = [
    ['training records', input.trainRecords, limits.training, 'training.quotas.maxTrainingRecords'],
    ['validation records', input.validationRecords, limits.validation, 'training.quotas.maxValidationRecords'],
    [
      'training and validation records',
      input.trainRecords + input.validationRecords,
      limits.total,
      'training.quotas.maxTotalRecords',
    ],
  ];
  const unknown: string[] = [];
  for (const [name, count, limit, setting] of checks) {
    if (!limit) unknown.push(name);
    else if (count > limit.value) {
      errors.push(
        `${count} ${name} exceed the quota of ${limit.value} for ${what} (${limit.from}); if your account's quota is ` +
          `higher, set ${setting}`,
      );
    }
  }
  if (unknown.length > 0) {
    warnings.push(
      `no published quota for ${unknown.join(', ')} of ${what}; set training.quotas (or the deployment's ` +
        'BTP_RECORD_QUOTAS) if your account has one',
    );
  }

  // A stage's parts are each at most maxRecordsPerJob records: one above the quota makes every part's job fail.
  const perJob = input.maxRecordsPerJob;
  const jobLimit = [
    limits.training,
    limits.total && { ...limits.total, value: limits.total.value - input.validationRecords },
  ]
    .filter((l): l is Limit => l !== undefined)
    .sort((a, b) => a.value - b.value)[0];
  if (perJob && jobLimit && perJob.value > jobLimit.value) {
    errors.push(
      `${perJob.setting} is ${perJob.value}, over the ${jobLimit.value} training records one ${what} job may hold ` +
        `(${jobLimit.from}): set ${perJob.setting} to at most ${jobLimit.value}`,
    );
  }
  return { errors, warnings };
}

/**
 * Stage `n`'s record limits, from what is known of it: with `counts` (the split's training and validation records)
 * its largest job's records against the quotas, as submit's preflight will check them; without, only its
 * `maxRecordsPerJob` against the records one job may hold, which the configuration alone decides. A model or
 * customization type the catalog lacks gives nothing here: the preflight names it.
 */
export function stageRecordLimitErrors(
  config: RunConfig,
  n: number,
  counts: { train: number; validation: number } | undefined,
  deploymentQuotas?: DeploymentRecordQuotas,
): string[] {
  const { training } = stageConfig(config, n);
  const model = findBaseModel(training.baseModelId);
  const spec = model && customizationSpec(model, training.customizationType);
  if (!model || !spec) return [];
  const perJob = config.stages?.[n]?.maxRecordsPerJob;
  // A stage trained in sequential jobs: each job holds one part, the largest of which is checked.
  const largestJob = counts ? Math.max(...planParts(counts.train, perJob).map((p) => p.end - p.start)) : 0;
  return recordLimitProblems({
    model,
    spec,
    training,
    trainRecords: largestJob,
    validationRecords: counts?.validation ?? 0,
    ...(perJob ? { maxRecordsPerJob: { value: perJob, setting: `stages[${n}].maxRecordsPerJob` } } : {}),
    ...(deploymentQuotas ? { deploymentQuotas } : {}),
  }).errors;
}

/**
 * What to change for record-limit errors: each error's own advice (the setting to lower or raise), and, for records
 * over a quota, fewer records per job. `prefix` is the stage's settings path (`stages[1].`, or '' for a run without
 * stages).
 */
export function recordLimitHint(errors: string[], prefix: string): string {
  const advice = errors
    .map((e) => /(?:;|:) ((?:set|if your account)[^;]*)$/.exec(e)?.[1])
    .filter((a): a is string => a !== undefined);
  const fewer = errors.some((e) => / exceed the quota of /.test(e))
    ? [
        `lower ${prefix}split.train (or ${prefix}split.validation) under the quota, or train in sequential jobs ` +
          `(${prefix ? `${prefix}maxRecordsPerJob` : 'stages[].maxRecordsPerJob'})`,
      ]
    : [];
  return (
    [...fewer, ...new Set(advice)].join('; ') +
    '; then upload the data again with the new configuration (btp run <file> --config <run.json>)'
  );
}
