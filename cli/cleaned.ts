import { z } from 'zod';
import type { Run, RunEvent } from '../shared/runs/run';
import { allJobs } from '../shared/runs/record';

export const CLEANUP_ITEMS = ['throughput', 'deployment', 'model', 'artifacts'] as const;
export type CleanupItem = (typeof CLEANUP_ITEMS)[number];

/**
 * The detail of the `run.cleaned` event `btp cleanup` records: what it deleted (the kinds, and each ARN or S3 prefix).
 * Written and read here only; the run record itself is left as the pipeline wrote it, so what a cleanup removed is
 * known from the run's events.
 */
export const RunCleanedDetail = z.object({
  deleted: z.array(z.enum(CLEANUP_ITEMS)),
  targets: z.array(z.string()).default([]),
  by: z.string(),
});
export type RunCleanedDetail = z.input<typeof RunCleanedDetail>;
export const RUN_CLEANED = 'run.cleaned';

export interface Cleaned {
  /** Every ARN and S3 prefix an earlier cleanup deleted, with when. */
  targets: Map<string, string>;
  /** The kinds deleted at least once. */
  items: Set<CleanupItem>;
}

/** What earlier cleanups of a run deleted, from its events. */
export function cleanedOf(events: RunEvent[]): Cleaned {
  const cleaned: Cleaned = { targets: new Map(), items: new Set() };
  for (const e of events) {
    if (e.type !== RUN_CLEANED) continue;
    const detail = RunCleanedDetail.parse(e.detail);
    for (const item of detail.deleted) cleaned.items.add(item);
    for (const target of detail.targets) cleaned.targets.set(target, e.at);
  }
  return cleaned;
}

/**
 * Every custom model the run made, earliest first: a chained run's earlier stages and sequential parts each leave a
 * model of their own (stored, and billed, until deleted), the last is the run's model.
 */
export function modelsOf(run: Run): string[] {
  const arns = allJobs(run)
    .map((job) => job.modelArn)
    .filter((arn): arn is string => arn !== undefined);
  if (run.modelArn) arns.push(run.modelArn);
  return [...new Set(arns)];
}

/** What a cleanup of the run would still find: the kinds not (or not wholly) deleted by an earlier one. */
export function leftAfterCleanup(run: Run, cleaned: Cleaned): CleanupItem[] {
  const left: CleanupItem[] = [];
  if (run.provisionedModelArn && !cleaned.targets.has(run.provisionedModelArn)) left.push('throughput');
  if (run.deploymentArn && !cleaned.targets.has(run.deploymentArn)) left.push('deployment');
  if (modelsOf(run).some((arn) => !cleaned.targets.has(arn))) left.push('model');
  if (!cleaned.items.has('artifacts')) left.push('artifacts');
  return left;
}

/** The run as `btp status` shows it: a throughput or deployment a cleanup deleted is no longer the run's. */
export function withoutCleaned(run: Run, cleaned: Cleaned): Run {
  let shown = run;
  if (run.provisionedModelArn && cleaned.targets.has(run.provisionedModelArn))
    shown = { ...shown, provisionedModelArn: undefined, throughputExpiresAt: undefined };
  if (run.deploymentArn && cleaned.targets.has(run.deploymentArn)) shown = { ...shown, deploymentArn: undefined };
  return shown;
}
