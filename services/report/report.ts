import type { RunStatusChanged } from '../../shared/messages/notifications';
import type { Run } from '../../shared/runs/run';
import type { RunStore } from '../../shared/runs/store';

export interface ReportDeps {
  runs: Pick<RunStore, 'get'>;
  /** Builds the run's report from its artifacts and writes report.html and report.md beside them. */
  writeReport: (run: Run) => Promise<{ bucket: string; htmlKey: string; markdownKey: string }>;
}

/**
 * Writes a run's report when it ends (the subscription's filter passes only terminal statuses). The report is built
 * from the run as the table has it now, so a redelivered or late notification rewrites the same, current report.
 */
export async function reportOnRunEnd(msg: RunStatusChanged, deps: ReportDeps): Promise<string> {
  const run = await deps.runs.get(msg.runId);
  if (!run) return `run ${msg.runId} not found; nothing to report`;
  const out = await deps.writeReport(run);
  return `wrote s3://${out.bucket}/${out.htmlKey} and ${out.markdownKey} for ${run.status} run ${run.runId}`;
}
