/**
 * Where a run's artifacts live in the artifacts bucket: one scheme for every stage, `runs/<runId>/stages/<n>/...`;
 * what belongs to the run as a whole (its evaluation, its report) is under `runs/<runId>/`. The Bedrock role's
 * permissions in serverless.yml follow these paths (it reads `prepared/`, writes `output/`).
 */

import type { SetName } from '../prep/select';

/** The run's own prefix: `runs/<runId>/`. */
export const runBase = (runId: string): string => `runs/${runId}/`;

/** The keys of one stage's artifacts. */
export const stageKeys = (runId: string, stage: number) => {
  const base = `${runBase(runId)}stages/${stage}/`;
  return {
    base,
    chunkKept: (i: number) => `${base}chunks/${i}/kept.jsonl`,
    chunkMeta: (i: number) => `${base}chunks/${i}/meta.jsonl`,
    chunkRejects: (i: number) => `${base}chunks/${i}/rejects.jsonl`,
    prepared: (set: SetName) => `${base}prepared/${set}.jsonl`,
    rejects: `${base}rejects.jsonl`,
    manifest: `${base}manifest.json`,
    /** A sequential job's training lines and its manifest (services/split writeParts). */
    partTrain: (part: number) => `${base}prepared/parts/${part}.jsonl`,
    partManifest: (part: number) => `${base}parts/${part}.manifest.json`,
    /** Where Bedrock writes the stage's jobs' outputs (metrics files), `outputDataConfig.s3Uri`. */
    output: `${base}output/`,
  };
};
export type StageKeys = ReturnType<typeof stageKeys>;

/** Where a run's evaluation samples go; the report finds them there (shared/report/load.ts). */
export const evaluationSamplesKey = (runId: string): string => `${runBase(runId)}evaluation/samples.jsonl`;
export const evaluationScoresKey = (runId: string): string => `${runBase(runId)}evaluation/scores.json`;
/** The judge model's grades as received (JudgeGrades), reused by a redelivered evaluation. */
export const evaluationJudgeKey = (runId: string): string => `${runBase(runId)}evaluation/judge.json`;
/**
 * Where the base model's answers to a set of prompts go: under the experiment's run (a variant's parent), so its
 * variants share them, in a folder named by a digest of what was asked (model, prompts, token cap).
 */
export const baseEvaluationKeys = (rootRunId: string, digest: string) => {
  const dir = `${runBase(rootRunId)}evaluation/base/${digest}/`;
  return { samplesKey: `${dir}samples.jsonl`, scoresKey: `${dir}scores.json` };
};
