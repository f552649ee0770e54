import type { JudgeCostEstimate } from '../artifacts/evaluation';
import type { Run } from '../runs/run';

/**
 * The judge's part of what `btp compare` and the run report say (config `evaluation.judge`), apart from
 * shared/evaluation/judge.ts so the report function does not load the catalog it prices the judge with.
 */

/** The estimate in one line, for warnings, `btp compare` and the report. */
export function describeJudgeEstimate(e: JudgeCostEstimate): string {
  const usd = e.usd === null ? 'cost unknown' : `~$${e.usd}${e.unconfirmed ? ' (UNVERIFIED prices)' : ''}`;
  return `${e.samples} answer(s) x rubric, ${e.inputTokens} input + at most ${e.outputTokens} output tokens: ${usd}`;
}

/**
 * What the judge model did for each run (config `evaluation.judge`): its model, grades and malformed replies, the
 * cost estimated before its calls, or why it was not asked; and, when the local emulator graded, that its grades are a
 * deterministic rule and no model's opinion.
 */
export function judgeNotes(runs: readonly Pick<Run, 'runId' | 'variant' | 'evaluation'>[]): string[] {
  const notes = runs.flatMap((r) => {
    const j = r.evaluation?.result?.judge;
    if (!j) return [];
    const s = r.evaluation?.result?.scores?.overall.judge;
    const name = r.variant ? `${r.variant.name} (${r.runId})` : r.runId;
    const what = j.skipped
      ? `not asked: ${j.skipped}`
      : `${s?.graded ?? 0} of ${s?.asked ?? 0} answers graded${s?.malformed ? `, ${s.malformed} malformed` : ''}`;
    return [`judge ${j.modelId} on ${name}: ${what}; estimated ${describeJudgeEstimate(j.estimate)}`];
  });
  if (runs.some((r) => r.evaluation?.result?.judge?.emulated))
    notes.push(
      "the judge's grades (mean correctness and Japanese, 1-5) are the Bedrock emulator's judge rule, computed from " +
        "the answer's Japanese share and chrF: a deterministic rule, not a model's opinion (docs/bedrock-emulator.md)",
    );
  return notes;
}
