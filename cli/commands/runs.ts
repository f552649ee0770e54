import { describeProgress, summarize } from '../../local/cli/follow';
import type { Run, RunEvent } from '../../shared/runs/run';
import { RUN_STATUSES, isTerminal, type RunStatus } from '../../shared/runs/status';
import { cleanedOf, leftAfterCleanup, withoutCleaned, type Cleaned } from '../cleaned';
import type { CliContext } from '../context';
import { CliError, parseSince, table, type Io } from '../io';
import {
  currentJob,
  currentPrepare,
  currentStage,
  jobStatusShown,
  lastSubmittedJob,
  runCostEstimateUsd,
  runCounts,
  runMetrics,
} from '../../shared/runs/record';

/** What `--json` gives for a run in a list: stable, small, enough to pick one and call `btp status`. */
export const runSummary = (r: Run) => ({
  runId: r.runId,
  status: r.status,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  source: { bucket: r.source.bucket, key: r.source.key },
  counts: runCounts(r),
  jobStatus: jobStatusShown(r, lastSubmittedJob(r)),
  costEstimateUsd: runCostEstimateUsd(r),
  // What a script does next needs the resources the run made: the job, the model and the throughput to call.
  jobArn: lastSubmittedJob(r)?.jobArn,
  modelArn: r.modelArn,
  provisionedModelArn: r.provisionedModelArn,
  throughputExpiresAt: r.throughputExpiresAt,
  deploymentArn: r.deploymentArn,
  metrics: runMetrics(r),
  failure: r.failure,
  parentRunId: r.parentRunId,
  variant: r.variant?.name,
  children: r.children,
});

/** An experiment's variants' runs, as the table has them now (in the configuration's order; a missing one left out). */
export async function childRuns(ctx: CliContext, run: Run): Promise<Run[]> {
  const found = await Promise.all((run.children ?? []).map((c) => ctx.runs.get(c.runId)));
  return found.filter((c): c is Run => c !== undefined);
}

export async function getRun(ctx: CliContext, runId: string): Promise<Run> {
  const run = await ctx.runs.get(runId);
  if (!run)
    throw new CliError(
      `run ${runId} was not found in table ${ctx.names.table} (${ctx.names.where})`,
      'list runs with `btp list`, or check --stage / --endpoint-env',
      1,
      { runId },
    );
  return run;
}

/** What to do next about a run that stopped, by where it stopped (and what a cleanup already removed). */
export function nextStep(run: Run, cleaned?: Cleaned): string | undefined {
  if (run.status === 'failed') {
    const stage = run.failure?.stage ?? '';
    if (['ingest', 'transform', 'split', 'prepare'].some((s) => stage.includes(s))) {
      return `fix the input${run.failure?.location ? ' at the location above' : ''} and upload it again (\`btp run <file>\`); see \`btp events ${run.runId}\``;
    }
    if (stage.includes('provision'))
      return `\`btp resume ${run.runId} --from provision\` buys the throughput again for the trained model`;
    return `\`btp resume ${run.runId} --from train\` (optionally with --hp key=value) submits a new training attempt on the prepared data`;
  }
  if (run.status === 'succeeded' && cleaned?.items.size) {
    const left = leftAfterCleanup(run, cleaned);
    return left.length ? `\`btp cleanup ${run.runId}\` removes what is left (${left.join(', ')})` : undefined;
  }
  if (run.status === 'succeeded')
    return `\`btp report ${run.runId}\` shows the run report; \`btp cleanup ${run.runId}\` removes what it left`;
  if (!isTerminal(run.status)) return `\`btp status ${run.runId}\` again later, or \`btp cancel ${run.runId}\``;
  return undefined;
}

export async function list(
  ctx: CliContext,
  io: Io,
  opts: { status?: string; since?: string; limit?: string; json?: boolean },
): Promise<number> {
  const statuses = (
    opts.status
      ? opts.status
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [...RUN_STATUSES]
  ) as RunStatus[];
  const unknown = statuses.filter((s) => !RUN_STATUSES.includes(s));
  if (unknown.length)
    throw new CliError(`unknown status ${unknown.join(', ')}`, `use one or more of ${RUN_STATUSES.join(', ')}`, 2);
  const since = opts.since ? parseSince(opts.since, ctx.now()) : undefined;
  const limit = opts.limit ? Number(opts.limit) : 50;
  // One query per status on the byStatus index (newest first), merged: never a scan of the table.
  const runs = (await Promise.all(statuses.map((s) => ctx.runs.listByStatus(s, since))))
    .flat()
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
    .slice(0, limit);
  if (opts.json) {
    io.out(JSON.stringify({ runs: runs.map(runSummary) }, null, 2));
    return 0;
  }
  if (!runs.length) {
    io.out(
      `no runs${opts.status ? ` in ${statuses.join(', ')}` : ''}${since ? ` updated since ${since}` : ''} (${ctx.names.where})`,
    );
    return 0;
  }
  io.out(
    table(
      ['RUN', 'STATUS', 'UPDATED', 'SOURCE', 'INPUT', 'TRAIN', 'JOB'],
      withChildrenUnderParents(runs).map((r) => [
        r.parentRunId && runs.some((p) => p.runId === r.parentRunId)
          ? `  └ ${r.runId} ${r.variant?.name ?? ''}`
          : r.runId,
        r.status,
        r.updatedAt.replace(/\.\d+Z$/, 'Z'),
        r.source.key,
        runCounts(r)?.input,
        runCounts(r)?.train,
        jobStatusShown(r, lastSubmittedJob(r)),
      ]),
    ),
  );
  return 0;
}

/** Runs in their order, each experiment's variants moved under it (a variant whose parent is not listed stays). */
function withChildrenUnderParents(runs: Run[]): Run[] {
  const listed = new Set(runs.map((r) => r.runId));
  const out: Run[] = [];
  for (const r of runs) {
    if (r.parentRunId && listed.has(r.parentRunId)) continue;
    out.push(r);
    const children = runs.filter((c) => c.parentRunId === r.runId);
    out.push(...children.sort((a, b) => (a.variant?.index ?? 0) - (b.variant?.index ?? 0)));
  }
  return out;
}

export async function status(ctx: CliContext, io: Io, runId: string, opts: { json?: boolean }): Promise<number> {
  const stored = await getRun(ctx, runId);
  const cleaned = cleanedOf(await ctx.runs.listEvents(runId));
  const run = withoutCleaned(stored, cleaned);
  const chunksTotal = currentPrepare(run)?.plan?.chunks;
  const chunksDone =
    chunksTotal && run.status === 'preparing'
      ? (await ctx.runs.listChunks(runId, currentStage(run))).length
      : undefined;
  const children = await childRuns(ctx, run);
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          run,
          chunksDone,
          cleaned: [...cleaned.targets.keys()],
          next: nextStep(run, cleaned),
          ...(run.children ? { children: children.map(runSummary) } : {}),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(summarize(run, [], '', children).trimStart());
  io.out(
    `progress:    ${describeProgress(run, children)}${chunksDone !== undefined ? `  chunks done=${chunksDone}/${chunksTotal}` : ''}`,
  );
  for (const line of describeWaits(run)) io.out(line);
  for (const [target, at] of cleaned.targets) io.out(`cleaned up:  ${target} (deleted by btp cleanup at ${at})`);
  const next = nextStep(run, cleaned);
  if (next) io.out(`next:        ${next}`);
  return 0;
}

/**
 * What a run that is not moving waits for: the slot of a full quota (and the quota), or the Bedrock error its step is
 * riding out. The retry line is shown while the run is still in the status the error was met in.
 */
export function describeWaits(run: Run): string[] {
  const lines: string[] = [];
  const queuedJob = currentJob(run)?.queued;
  if (run.status === 'queued' && run.waiting) {
    const w = run.waiting;
    const what = w.slot === 'throughput' ? 'a Provisioned Throughput slot' : 'a custom model deployment slot';
    const quota = `${w.quota.name}${w.quota.value !== undefined ? `: ${w.quota.value} by AWS's published default` : ''}`;
    lines.push(`waiting:     for ${what} since ${w.since} (${w.retries} retries); quota: ${quota}`);
    lines.push(`             ${w.reason}`);
  } else if (run.status === 'queued' && queuedJob) {
    lines.push(
      `waiting:     for a customization job slot (the account's concurrent-jobs quota) since ${queuedJob.at} ` +
        `(${queuedJob.retries} retries)`,
    );
  }
  const r = run.lastRetry;
  if (r && r.status === run.status && !isTerminal(run.status))
    lines.push(`retrying:    ${r.step}: Bedrock ${r.code} at ${r.at} (retry ${r.retry}): ${r.message}`);
  return lines;
}

export const eventRow = (e: RunEvent) => [
  e.seq,
  e.at.replace(/\.\d+Z$/, 'Z'),
  e.type,
  e.from && e.to && e.from !== e.to ? `${e.from} -> ${e.to}` : (e.to ?? ''),
  e.detail ? JSON.stringify(e.detail).slice(0, 80) : '',
];

export async function events(ctx: CliContext, io: Io, runId: string, opts: { json?: boolean }): Promise<number> {
  await getRun(ctx, runId);
  const evs = (await ctx.runs.listEvents(runId)).sort((a, b) => a.seq - b.seq);
  if (opts.json) {
    io.out(JSON.stringify({ runId, events: evs }, null, 2));
    return 0;
  }
  io.out(table(['SEQ', 'AT', 'EVENT', 'STATUS', 'DETAIL'], evs.map(eventRow)));
  return 0;
}
