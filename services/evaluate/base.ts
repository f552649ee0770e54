import { createHash } from 'node:crypto';
import {
  EvaluationSample,
  EvaluationScores,
  OVERLAP_METRIC,
  readJsonArtifact,
  writeJsonArtifact,
  writeJsonLines,
  type ScoreSummary,
} from '../../shared/artifacts';
import { baseModelIdOf, findBaseModel } from '../../shared/catalog';
import { scoreSample, scoreTable } from '../../shared/evaluation/scores';
import { isBedrockError, BedrockCallError, type OrchestrationDeps } from '../../shared/orchestration/ports';
import { familyOf } from '../../shared/orchestration/serving';
import { baseEvaluationKeys } from '../../shared/runs/keys';
import type { Run } from '../../shared/runs/run';

type ByCategory = Record<string, ScoreSummary>;

type BaseDeps = Pick<OrchestrationDeps, 'bedrock' | 'objects' | 'settings'>;

/** A test prompt as evaluate sends it, with its place in the samples file. */
export type AskedPrompt = Pick<
  EvaluationSample,
  'index' | 'kind' | 'prompt' | 'reference' | 'source' | 'category' | 'seenInTraining' | 'maxTokenCount' | 'noReference'
>;

export type BaseEvaluation =
  | { kind: 'scored'; modelId: string; scoresKey: string; overall: ScoreSummary; byCategory: ByCategory }
  | { kind: 'unavailable'; modelId: string; warning: string }
  /** Throttled or a transient error: the caller backs off and asks again (answers already stored are kept). */
  | { kind: 'retry'; error: BedrockCallError };

/**
 * The base model's on-demand id for a run: the catalog's inference id of the run's base model (customization and
 * on-demand inference use different ids, e.g. `amazon.titan-text-lite-v1:0:4k` and `amazon.titan-text-lite-v1`).
 */
export function baseInferenceId(run: Pick<Run, 'config'>): string {
  const id = baseModelIdOf(run.config.training.baseModelId);
  const model = findBaseModel(id);
  return model?.inferenceId ?? id;
}

/**
 * The base model asked the same prompts as the run's model, with the same token cap, and scored the same way, so the
 * gate can compare overlap with it. The answers and scores are stored under the experiment's run (a variant's parent,
 * else the run itself) in a folder named by a digest of the model, the prompts and the cap: the variants of one
 * experiment, asked the same held-out prompts, share one base evaluation, and a redelivery reads it back instead of
 * invoking the base model again. A base model that cannot be invoked (ended its life, no access, a validation error)
 * leaves the run without a comparison, and the warning says why.
 */
export async function evaluateBase(
  run: Pick<Run, 'runId' | 'parentRunId' | 'config'>,
  prompts: readonly AskedPrompt[],
  deps: BaseDeps,
): Promise<BaseEvaluation> {
  const { bedrock, objects, settings } = deps;
  const modelId = baseInferenceId(run);
  const { maxTokenCount, overlongRatio } = run.config.evaluation;
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        modelId,
        maxTokenCount,
        // (a prompt file's own cap only where it set one, so the digest of a held-out set alone stays as it was)
        prompts.map((p) => [p.index, p.prompt, p.reference, ...(p.maxTokenCount ? [p.maxTokenCount] : [])]),
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  const { samplesKey, scoresKey } = baseEvaluationKeys(run.parentRunId ?? run.runId, digest);
  const bucket = settings.artifactsBucket;
  const stored = await objects.getText(bucket, scoresKey);
  if (stored !== undefined) {
    const scores = readJsonArtifact(EvaluationScores, stored, scoresKey);
    return { kind: 'scored', modelId, scoresKey, overall: scores.overall, byCategory: scores.byCategory };
  }
  if (!bedrock.invokeText) return { kind: 'unavailable', modelId, warning: 'no Bedrock runtime client' };
  const family = familyOf(run.config.training.baseModelId);
  const lines: EvaluationSample[] = [];
  let emulated: string | undefined;
  for (const p of prompts) {
    let answer: string;
    try {
      const got = await bedrock.invokeText(modelId, p.prompt, p.maxTokenCount ?? maxTokenCount, family);
      answer = got.text;
      emulated ??= got.emulated;
    } catch (err) {
      if (isBedrockError(err, 'throttled', 'quota', 'transient')) return { kind: 'retry', error: err };
      if (isBedrockError(err)) return { kind: 'unavailable', modelId, warning: `${err.code}: ${err.message}` };
      throw err;
    }
    const hasReference = p.noReference ? false : undefined;
    const scores = scoreSample({ prompt: p.prompt, reference: p.reference, answer, hasReference }, { overlongRatio });
    lines.push({ ...p, source: p.source ?? 'test', modelOutput: answer, scores });
  }
  const table = scoreTable(lines);
  const scores: EvaluationScores = {
    schemaVersion: 1,
    runId: run.runId,
    model: { kind: 'base', id: modelId },
    maxTokenCount,
    overlongRatio,
    overlapMetric: OVERLAP_METRIC,
    samplesKey,
    ...(emulated ? { emulated } : {}),
    ...table,
  };
  // The samples first: a scores file is the mark that the base evaluation is complete.
  await objects.putText(
    bucket,
    samplesKey,
    writeJsonLines(EvaluationSample, lines, samplesKey),
    'application/x-ndjson',
  );
  await objects.putText(
    bucket,
    scoresKey,
    `${writeJsonArtifact(EvaluationScores, scores, scoresKey)}\n`,
    'application/json',
  );
  return { kind: 'scored', modelId, scoresKey, overall: table.overall, byCategory: table.byCategory };
}
