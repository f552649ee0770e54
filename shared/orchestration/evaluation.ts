import { EvaluationRequested } from '../messages/pipeline';
import type { Send } from '../messages/send';
import type { Run } from '../runs/run';
import { stageKey } from './naming';
import { stageOutputs } from './run-helpers';
import { currentStage, stageArtifactKeys } from './stages';

/**
 * The evaluate step's plan and contract, shared by provision (which moves a run to `evaluating`), the evaluate step
 * and the sweeper (which re-sends a lost request).
 */

/** Where a run's evaluation samples go; the report finds them there (shared/report/load.ts). */
export const evaluationSamplesKey = (runId: string): string => `runs/${runId}/evaluation/samples.jsonl`;

export interface EvaluationPlan {
  /** The final stage's held-out test set. */
  testKey: string;
  /** How many of its records to send: `provisioning.evaluateSamples`, at most the records there are. */
  samples: number;
}

/**
 * What to evaluate once the run's model is in service, or undefined when there is nothing to do: `evaluateSamples`
 * is 0, or the run's last stage has no test records (a run made by `model.provision` has no prepared data at all).
 * The test set is the one the split recorded for the run's current (so final) stage; stage 0's count is also on the
 * run's `counts`.
 */
export function evaluationPlan(run: Pick<Run, 'runId' | 'config' | 'stages' | 'stageIndex' | 'counts'>): EvaluationPlan | undefined {
  const wanted = run.config.provisioning.evaluateSamples ?? 0;
  if (wanted <= 0) return undefined;
  const stage = currentStage(run);
  const test = stageOutputs(run as Run, stageKey('prepare', stage)).test as { key?: string; records?: number } | undefined;
  const records = test?.records ?? (stage === 0 ? run.counts?.test : undefined) ?? 0;
  if (records <= 0) return undefined;
  return { testKey: test?.key ?? stageArtifactKeys(run.runId, stage).prepared('test'), samples: Math.min(wanted, records) };
}

/** Sends `evaluation.requested` to the evaluate queue, now or after a backoff. */
export async function requestEvaluation(
  runId: string,
  provisionedModelArn: string,
  opts: { retry: number; delaySeconds?: number; correlationId?: string },
  { send }: { send: Send },
): Promise<void> {
  const { retry, delaySeconds, correlationId } = opts;
  await send(EvaluationRequested, runId, { provisionedModelArn, retry }, { correlationId, ...(delaySeconds ? { delaySeconds } : {}) });
}
