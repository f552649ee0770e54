import type { RunStatusChanged } from '../../shared/messages/notifications';
import type { SettleOutcome } from '../../shared/orchestration/variants';
import type { Run } from '../../shared/runs/run';
import type { RunStore } from '../../shared/runs/store';

export interface ReportDeps {
  runs: Pick<RunStore, 'get'>;
  /** Builds the run's report from its artifacts and writes report.html and report.md beside them. */
  writeReport: (run: Run) => Promise<{ bucket: string; htmlKey: string; markdownKey: string }>;
  /** An ended variant's run may end its experiment (shared/orchestration/variants.ts settleExperiment). */
  settleExperiment: (run: Run) => Promise<SettleOutcome>;
}

/**
 * Writes a run's report when it ends (the subscription's filter passes only terminal statuses). The report is built
 * from the run as the table has it now, so a redelivered or late notification rewrites the same, current report.
 * A variant's end may end its experiment first: the parent's own end is announced in turn and reported here.
 */
export async function reportOnRunEnd(msg: RunStatusChanged, deps: ReportDeps): Promise<string> {
  const run = await deps.runs.get(msg.runId);
  if (!run) return `run ${msg.runId} not found; nothing to report`;
  const settled = run.parentRunId ? `; experiment ${run.parentRunId}: ${await deps.settleExperiment(run)}` : '';
  const out = await deps.writeReport(run);
  return `wrote s3://${out.bucket}/${out.htmlKey} and ${out.markdownKey} for ${run.status} run ${run.runId}${settled}`;
}
