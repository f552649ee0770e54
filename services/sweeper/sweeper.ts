import {
  ChunkTransformed,
  EvaluationRequested,
  JobPoll,
  JobRequested,
  ModelReady,
  StageRequested,
  ThroughputPoll,
} from '../../shared/messages/pipeline';
import type { Run } from '../../shared/runs/run';
import { isTerminal, RUN_STATUSES, type RunStatus } from '../../shared/runs/status';
import type { OrchestrationDeps } from '../../shared/orchestration/ports';
import { currentJob, currentPrepare, currentStage } from '../../shared/runs/record';
import { requestEvaluation } from '../../shared/orchestration/evaluation';
import { waitsFor } from '../../shared/orchestration/slots';
import { settleExperiment } from '../../shared/orchestration/variants';
import { expireThroughput } from '../provision/provision';
import { servedModelOf } from '../../shared/orchestration/serving';

export type SweeperDeps = Pick<
  OrchestrationDeps,
  'runs' | 'bedrock' | 'send' | 'count' | 'settings' | 'now' | 'random'
>;

/** Statuses in which a run may still hold a throughput. */
const MAY_HOLD_THROUGHPUT: readonly RunStatus[] = ['provisioning', 'evaluating', 'succeeded', 'failed', 'cancelled'];

/** Every status a run leaves only when a message moves it on. */
const DRIVEN: readonly RunStatus[] = RUN_STATUSES.filter((s) => !isTerminal(s));

export interface SweepReport {
  deleted: string[];
  /** Queued runs whose retry (for a job or a throughput slot) was sent again. */
  requeued: string[];
  repolled: string[];
  reevaluated: string[];
  /** Other runs whose step was driven again, as `runId: status`. */
  redriven: string[];
  /** Stale runs the sweeper cannot drive again, as `runId: status` (one missing what its step needs). */
  stranded: string[];
  /** Runs whose last status change is published again: its writer died before publishing it. */
  announced: string[];
}

/**
 * A status change is published the moment after its write; one still marked unannounced this long after was lost
 * with its writer (real time: the crash happened now, whatever the emulator's clock).
 */
const ANNOUNCE_AFTER_MS = 15_000;
/** How far back the sweeper looks for a run whose last status change was not announced. */
const ANNOUNCE_WINDOW_MS = 24 * 3_600_000;

/**
 * The scheduled safety net. Delayed SQS messages can be lost (a deleted queue, a purge, a bug), a step that gave up
 * on a long Bedrock outage leaves its message in the dead-letter queue, and an hourly throughput nobody deletes is
 * the most expensive way for this pipeline to fail, so the sweeper needs nothing but the runs table:
 * - deletes every no-commitment throughput whose time to live has passed;
 * - finds every run in a non-final status left untouched for longer than any message of ours can take
 *   (`staleAfterSeconds`; every step that waits on purpose writes the run as it does) and sends again the message
 *   that drives its step. Every step is idempotent on the run, so a copy of a message that was not lost after all
 *   does nothing;
 * - publishes again the `run.status.changed` of a status change whose writer died before publishing it (the run is
 *   marked `unannounced` until it is published), so a run's end is always heard of and its report written.
 */
export async function sweep(deps: SweeperDeps): Promise<SweepReport> {
  const { runs, now } = deps;
  const report: SweepReport = {
    deleted: [],
    requeued: [],
    repolled: [],
    reevaluated: [],
    redriven: [],
    stranded: [],
    announced: [],
  };
  const at = now();
  const staleBefore = at.getTime() - deps.settings.staleAfterSeconds * 1000;
  for (const status of MAY_HOLD_THROUGHPUT) {
    for (const run of await runs.listByStatus(status)) {
      if (!run.provisionedModelArn || !run.throughputExpiresAt) continue;
      if (new Date(run.throughputExpiresAt).getTime() > at.getTime()) continue;
      // A throughput its run is being evaluated on is kept until the evaluation ends (which writes the run) or
      // stalls: deleting it midway would leave the evaluation half done. Hours of time to live rarely end in those
      // minutes in AWS; on the local stage's fast clock they do.
      if (run.status === 'evaluating' && new Date(run.updatedAt).getTime() > staleBefore) continue;
      if ((await expireThroughput(run.runId, run.provisionedModelArn, deps)) === 'deleted')
        report.deleted.push(run.runId);
    }
  }
  for (const status of DRIVEN) {
    for (const run of await runs.listByStatus(status)) {
      if (new Date(run.updatedAt).getTime() > staleBefore) continue;
      await redrive(run, staleBefore, report, deps);
    }
  }
  if (runs.announce) {
    // A run's end that no one heard of has no report, and its subscribers wait for it: publish it now.
    const since = new Date(at.getTime() - ANNOUNCE_WINDOW_MS).toISOString();
    for (const status of RUN_STATUSES) {
      for (const run of await runs.listByStatus(status, since)) {
        if (!run.unannounced || new Date(run.updatedAt).getTime() > at.getTime() - ANNOUNCE_AFTER_MS) continue;
        if (await runs.announce(run)) report.announced.push(`${run.runId}: ${run.status}`);
      }
    }
  }
  return report;
}

/** Sends the message that drives a stale run's step. */
async function redrive(run: Run, staleBefore: number, report: SweepReport, deps: SweeperDeps): Promise<void> {
  const { runs, send } = deps;
  const { runId } = run;
  const stage = currentStage(run);
  const job = currentJob(run);
  const redriven = () => void report.redriven.push(`${runId}: ${run.status}`);
  switch (run.status) {
    case 'preparing': {
      // Transform records chunks, not the run: a chunk done lately means the stage is moving.
      const total = currentPrepare(run)?.plan?.chunks;
      const chunks = await runs.listChunks(runId, stage);
      if (chunks.some((c) => new Date(c.doneAt).getTime() > staleBefore)) return;
      if (total !== undefined && chunks.length >= total) {
        // Every chunk is done but the message that starts the split was lost.
        await send(ChunkTransformed, runId, { chunkIndex: total - 1, total, stage });
      } else {
        // Plans the stage again and queues its chunks; transform skips the chunks already recorded.
        await send(StageRequested, runId, { stage });
      }
      return redriven();
    }
    case 'splitting': {
      const total = currentPrepare(run)?.plan?.chunks;
      if (total === undefined) break;
      await send(ChunkTransformed, runId, { chunkIndex: total - 1, total, stage }); // split redoes a dead split
      return redriven();
    }
    case 'submitting':
      await send(JobRequested, runId, { stage, reason: 'redrive', retry: 0 });
      return redriven();
    case 'queued':
      if ((waitsFor(run, 'throughput') || waitsFor(run, 'deployment')) && run.modelArn) {
        await send(ModelReady, runId, { modelArn: run.modelArn, retry: 0 });
      } else if (!run.waiting) {
        const retry = (job?.queued?.retries ?? 0) + 1;
        await send(JobRequested, runId, { stage, reason: 'queued', retry });
      } else break; // a slot of a kind this version does not drive
      report.requeued.push(runId);
      return;
    case 'training':
      if (run.children?.length) {
        // An experiment waits for its variants' runs, each driven on its own; it ends when the last does, which the
        // report function hears of. Should that be lost, its end is settled again here.
        const first = run.children[0]!;
        const outcome = await settleExperiment({ runId: first.runId, status: 'succeeded', parentRunId: runId }, deps);
        if (outcome === 'settled') redriven();
        return;
      }
      if (!job?.jobArn) break;
      await send(JobPoll, runId, { jobArn: job.jobArn, attempt: job.attempt, poll: (job.lastPoll ?? 0) + 1, retry: 0 });
      report.repolled.push(runId);
      return;
    case 'provisioning': {
      const served = servedModelOf(run); // its throughput, or its custom model deployment: one poll follows both
      if (served) {
        const poll = (run.provision?.lastPoll ?? 0) + 1;
        await send(ThroughputPoll, runId, { provisionedModelArn: served.arn, poll });
      } else if (run.modelArn) {
        await send(ModelReady, runId, { modelArn: run.modelArn, retry: 0 });
      } else break;
      return redriven();
    }
    case 'evaluating': {
      // Evaluate touches the run on every throttled retry, so only a lost request leaves it this long unchanged.
      const served = servedModelOf(run);
      if (!served || !send.reaches(EvaluationRequested)) break;
      await requestEvaluation(runId, served.arn, { retry: 0 }, deps);
      report.reevaluated.push(runId);
      return;
    }
    case 'requested':
      // Ingest recorded the run and stopped before planning it; the run keeps its source and configuration, so
      // ingest plans its first stage from the record (or fails it, should its source have gone since).
      await send(StageRequested, runId, { stage: 0 });
      return redriven();
    default:
      break;
  }
  report.stranded.push(`${runId}: ${run.status}`);
}
