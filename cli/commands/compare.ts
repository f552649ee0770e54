import type { ScoreSummary } from '../../shared/artifacts';
import { judgeNotes } from '../../shared/evaluation/judge-notes';
import type { Run } from '../../shared/runs/run';
import type { CliContext } from '../context';
import { CliError, table, type Io } from '../io';
import { childRuns, getRun } from './runs';

/** One row of the comparison: a run's scores in one category (`all`: every sample), and the gate's decision. */
export interface ComparisonRow {
  /** The run, or for the base model's row the base model's id. */
  runId: string;
  /** The base model asked the same prompts, not a run. */
  base?: true;
  /** The variant's name, for a variant's run. */
  variant?: string;
  category: string;
  scores: ScoreSummary;
  gate?: 'keep' | 'delete';
}

/**
 * Every evaluated run's scores, overall first, then by category in name order; then the base model's, in the same
 * order, once per base model (the variants of an experiment share one).
 */
export function comparisonRows(runs: readonly Run[]): ComparisonRow[] {
  const bases = new Map<string, { overall: ScoreSummary; byCategory?: Record<string, ScoreSummary> }>();
  for (const run of runs) {
    const b = run.evaluation?.result?.base;
    if (b?.overall) bases.set(b.modelId, { overall: b.overall, ...(b.byCategory ? { byCategory: b.byCategory } : {}) });
  }
  const baseRows = [...bases].flatMap(([modelId, { overall, byCategory }]) =>
    [['all', overall] as const, ...Object.entries(byCategory ?? {})].map(([category, scores]): ComparisonRow => ({
      runId: modelId,
      base: true,
      category,
      scores,
    })),
  );
  return [...runRows(runs), ...baseRows];
}

function runRows(runs: readonly Run[]): ComparisonRow[] {
  return runs.flatMap((run) => {
    const scores = run.evaluation?.result?.scores;
    if (!scores) return [];
    const gate = run.gate?.decision;
    const row = (category: string, s: ScoreSummary): ComparisonRow => ({
      runId: run.runId,
      ...(run.variant ? { variant: run.variant.name } : {}),
      category,
      scores: s,
      ...(gate ? { gate } : {}),
    });
    return [row('all', scores.overall), ...Object.entries(scores.byCategory).map(([c, s]) => row(c, s))];
  });
}

const fixed = (x: number | null, digits: number) => (x === null ? undefined : Number(x.toFixed(digits)));

/**
 * `btp compare <run...>`: the evaluation scores of the runs (an experiment's: its variants') side by side, one row per
 * run and category: answers,
 * share in Japanese, mean length and its ratio to the references', overlong answers, list counts met, mean chrF and
 * the gate's decision; and the judge model's mean grades where one was configured.
 */
export async function compare(ctx: CliContext, io: Io, runIds: string[], opts: { json?: boolean }): Promise<number> {
  // An experiment run stands for its variants.
  const named = await Promise.all(runIds.map((id) => getRun(ctx, id)));
  const runs = (await Promise.all(named.map(async (r) => (r.children ? childRuns(ctx, r) : [r])))).flat();
  const unscored = runs.filter((r) => !r.evaluation?.result?.scores).map((r) => `${r.runId} (${r.status})`);
  const rows = comparisonRows(runs);
  if (opts.json) {
    io.out(JSON.stringify({ rows, unscored }, null, 2));
    return 0;
  }
  if (!rows.length)
    throw new CliError(
      `no scores to compare: ${unscored.join(', ')} ha${unscored.length === 1 ? 's' : 've'} not been evaluated`,
      'a run is scored when its throughput is in service and provisioning.evaluateSamples > 0; see `btp status <run>`',
    );
  const judged = rows.some((r) => r.scores.judge);
  io.out(
    table(
      [
        'RUN',
        'CATEGORY',
        'SAMPLES',
        'ANSWERED',
        'JAPANESE',
        'CHARS',
        'LEN/REF',
        'OVERLONG',
        'COUNT MET',
        'CHRF',
        ...(judged ? ['JUDGE OK', 'JUDGE JA'] : []),
        'GATE',
      ],
      rows.map(({ runId, base, variant, category, scores: s, gate }) => [
        base ? `base model ${runId}` : variant ? `${variant} (${runId})` : runId,
        category,
        s.samples,
        s.answered,
        fixed(s.japaneseRatio, 2),
        fixed(s.meanChars, 0),
        fixed(s.lengthRatio, 2),
        s.overlong,
        s.countRequests ? `${s.countMet}/${s.countRequests}` : undefined,
        fixed(s.overlap, 1),
        ...(judged ? [fixed(s.judge?.correctness ?? null, 2), fixed(s.judge?.japanese ?? null, 2)] : []),
        gate,
      ]),
    ),
  );
  if (unscored.length) io.err(`not evaluated: ${unscored.join(', ')}`);
  const unreferenced = rows.filter((r) => r.category === 'all' && r.scores.withoutReference);
  if (unreferenced.length)
    io.err(
      'note: answers to prompts without a reference (prompt file lines without one) are left out of CHRF and ' +
        `LEN/REF: ${unreferenced.map((r) => `${r.variant ?? r.runId} ${r.scores.withoutReference}`).join(', ')}`,
    );
  for (const line of judgeNotes(runs)) io.err(`note: ${line}`);
  if (runs.some((r) => r.evaluation?.result?.emulated))
    io.err('note: the Bedrock emulator gave these answers: no model was trained or ran (docs/bedrock-emulator.md)');
  return 0;
}
