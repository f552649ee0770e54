import { stageCount, type RunConfig } from '../config/run-config';
import type { S3ObjectRef } from '../messages/pipeline';
import type { Run, RunCounts } from './run';

/**
 * Planning of chained runs (config `stages`): where each stage's data is and what follows a finished job. A run
 * without `stages` is stage 0 with one part.
 */

/**
 * The object stage `n` prepares: the run's source for stage 0, the stage's `dataset` (in the source's bucket by
 * default) after.
 */
export function stageSource(run: Pick<Run, 'source' | 'config'>, stage: number): S3ObjectRef {
  if (stage === 0) return run.source;
  const dataset = run.config.stages?.[stage]?.dataset;
  if (!dataset) throw new Error(`stage ${stage} names no dataset`);
  return { bucket: dataset.bucket ?? run.source.bucket, key: dataset.key };
}

export interface PartPlan {
  part: number;
  /** Lines [start, end) of the stage's training file. */
  start: number;
  end: number;
}

/**
 * Splits a training set of `records` into sequential jobs of at most `maxRecordsPerJob` each, as equal as can be (so
 * no last job is a sliver): 500,000 records at 100,000 -> five jobs of 100,000. One part when no maximum is set.
 */
export function planParts(records: number, maxRecordsPerJob?: number): PartPlan[] {
  if (!maxRecordsPerJob || records <= maxRecordsPerJob) return [{ part: 0, start: 0, end: records }];
  const n = Math.ceil(records / maxRecordsPerJob);
  const size = Math.floor(records / n);
  const extra = records % n; // the first `extra` parts take one more record
  const parts: PartPlan[] = [];
  let start = 0;
  for (let part = 0; part < n; part++) {
    const end = start + size + (part < extra ? 1 : 0);
    parts.push({ part, start, end });
    start = end;
  }
  return parts;
}

/** What follows a completed job: the stage's next part, the next stage, or the end (the final model). */
export type NextStep =
  { kind: 'part'; stage: number; part: number } | { kind: 'stage'; stage: number } | { kind: 'final' };

export function nextStep(config: RunConfig, stage: number, part: number, parts: number): NextStep {
  if (part + 1 < parts) return { kind: 'part', stage, part: part + 1 };
  if (stage + 1 < stageCount(config)) return { kind: 'stage', stage: stage + 1 };
  return { kind: 'final' };
}

/** What one stage of a chained run prepared and trained, for the run summary and the report. */
export interface StageSummary {
  stage: number;
  customizationType: string;
  source: S3ObjectRef;
  /** Its data preparation's counts, once prepared. */
  counts?: RunCounts;
  /** The models its jobs made, in order (one per sequential part). */
  models: string[];
  /** The last job's final losses. */
  trainingLoss?: number;
  validationLoss?: number;
}

/** A chained run's stages as summaries, in order; empty for a run of one stage. */
export function describeStages(run: Pick<Run, 'source' | 'config' | 'stages'>): StageSummary[] {
  const stages = run.config.stages ?? [];
  if (stages.length < 2) return [];
  return stages.map((stage, n) => {
    const jobs = run.stages[n]?.jobs ?? [];
    const last = jobs.at(-1);
    return {
      stage: n,
      customizationType: stage.customizationType ?? run.config.training.customizationType,
      source: stageSource(run, n),
      counts: run.stages[n]?.prepare.counts,
      models: jobs.map((j) => j.modelArn).filter((arn): arn is string => arn !== undefined),
      trainingLoss: last?.trainingLoss,
      validationLoss: last?.validationLoss,
    };
  });
}
