import { EvaluationRequested } from '../messages/pipeline';
import type { Send } from '../messages/send';
import type { EvaluationRecord, Run } from '../runs/run';
import { currentPrepare } from '../runs/record';

/**
 * The evaluate step's plan and contract, shared by provision (which moves a run to `evaluating`), the evaluate step
 * and the sweeper (which re-sends a lost request).
 */

/**
 * The final stage's held-out test set, and how many of its records to send (`provisioning.evaluateSamples`, at most the
 * records there are).
 */
export type EvaluationPlan = NonNullable<EvaluationRecord['plan']>;

/**
 * What to evaluate once the run's model is in service, or undefined when there is nothing to do: `evaluateSamples`
 * is 0, or the run's last stage has no test records (a run made by `model.provision` has no prepared data at all).
 * The test set is the one the split recorded for the run's current (so final) stage.
 */
export function evaluationPlan(run: Pick<Run, 'config' | 'stages'>): EvaluationPlan | undefined {
  const wanted = run.config.provisioning.evaluateSamples ?? 0;
  if (wanted <= 0) return undefined;
  const test = currentPrepare(run)?.split?.test;
  if (!test || test.records <= 0) return undefined;
  return { testKey: test.key, samples: Math.min(wanted, test.records) };
}

/** Sends `evaluation.requested` to the evaluate queue, now or after a backoff. */
export async function requestEvaluation(
  runId: string,
  provisionedModelArn: string,
  opts: { retry: number; delaySeconds?: number; correlationId?: string },
  { send }: { send: Send },
): Promise<void> {
  const { retry, delaySeconds, correlationId } = opts;
  await send(
    EvaluationRequested,
    runId,
    { provisionedModelArn, retry },
    { correlationId, ...(delaySeconds ? { delaySeconds } : {}) },
  );
}
