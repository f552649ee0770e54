import { EvaluationRequested, JobPoll, JobRequested } from '../../shared/messages/pipeline';
import type { RunStatus } from '../../shared/runs/status';
import type { OrchestrationDeps } from '../../shared/orchestration/ports';
import { currentJob, currentStage } from '../../shared/runs/record';
import { requestEvaluation } from '../../shared/orchestration/evaluation';
import { expireThroughput } from '../provision/provision';
import { servedModelOf } from '../../shared/orchestration/serving';

export type SweeperDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'send' | 'count' | 'settings' | 'now' | 'random'
>;

/** Statuses in which a run may still hold a throughput. */
const MAY_HOLD_THROUGHPUT: readonly RunStatus[] = ['provisioning', 'evaluating', 'succeeded', 'failed', 'cancelled'];

export interface SweepReport {
  deleted: string[];
  requeued: string[];
  repolled: string[];
  reevaluated: string[];
}

/**
 * The scheduled safety net. Delayed SQS messages can be lost (a deleted queue, a purge, a bug), and an hourly
 * throughput nobody deletes is the most expensive way for this pipeline to fail, so the sweeper needs nothing but
 * the runs table:
 * - deletes every no-commitment throughput whose time to live has passed;
 * - re-sends the retry of a run queued for longer than a retry could take;
 * - re-starts the poll chain of a run whose job has not been looked at for longer than a poll could take;
 * - re-sends the `evaluation.requested` of a run left `evaluating` for longer than a request (or its backoff) could
 * take.
 */
export async function sweep(deps: SweeperDeps): Promise<SweepReport> {
  const { runs, now, send } = deps;
  const report: SweepReport = { deleted: [], requeued: [], repolled: [], reevaluated: [] };
  const at = now();
  for (const status of MAY_HOLD_THROUGHPUT) {
    for (const run of await runs.listByStatus(status)) {
      if (!run.provisionedModelArn || !run.throughputExpiresAt) continue;
      if (new Date(run.throughputExpiresAt).getTime() > at.getTime()) continue;
      if ((await expireThroughput(run.runId, run.provisionedModelArn, deps)) === 'deleted')
        report.deleted.push(run.runId);
    }
  }
  // A wait longer than the longest delay a message of ours can have (900 s), twice over, means the message is lost.
  const staleBefore = at.getTime() - 2 * 900 * 1000;
  for (const run of await runs.listByStatus('queued')) {
    if (new Date(run.updatedAt).getTime() > staleBefore) continue;
    const retry = (currentJob(run)?.queued?.retries ?? 0) + 1;
    await send(JobRequested, run.runId, { stage: currentStage(run), reason: 'queued', retry });
    report.requeued.push(run.runId);
  }
  for (const run of await runs.listByStatus('training')) {
    const job = currentJob(run);
    if (!job?.jobArn || new Date(run.updatedAt).getTime() > staleBefore) continue;
    const poll = (job.lastPoll ?? 0) + 1;
    await send(JobPoll, run.runId, { jobArn: job.jobArn, attempt: job.attempt, poll });
    report.repolled.push(run.runId);
  }
  // Evaluate touches the run on every throttled retry, so only a lost request leaves it this long unchanged.
  for (const run of send.reaches(EvaluationRequested) ? await runs.listByStatus('evaluating') : []) {
    const served = servedModelOf(run); // its throughput or its deployment
    if (!served || new Date(run.updatedAt).getTime() > staleBefore) continue;
    await requestEvaluation(run.runId, served.arn, { retry: 0 }, deps);
    report.reevaluated.push(run.runId);
  }
  return report;
}
