import type { EvaluationSample, SampleScores, ScoreSummary, ScoreTable } from '../artifacts';
import { chrF } from './chrf';
import { judgeSummary } from './judge';
import { codePoints, isMostlyJapanese, japaneseShare, listItems, requestedCount, requestedLimit } from './metrics';

/** The rules a sample is scored by (config `evaluation`). */
export interface ScoringRules {
  /** Without a length limit, an answer longer than this many times its reference is overlong. */
  overlongRatio: number;
}

/**
 * One answer's scores. `limit` is the prompt file's length limit for the prompt, if it set one; otherwise the limit
 * the prompt itself asks for ("100文字以内で"), if any.
 */
export function scoreSample(
  sample: { prompt: string; reference: string; answer: string; limit?: number; hasReference?: boolean },
  rules: ScoringRules,
): SampleScores {
  const { prompt, reference, answer } = sample;
  const hasReference = sample.hasReference ?? reference !== '';
  const chars = codePoints(answer);
  const referenceChars = hasReference ? codePoints(reference) : undefined;
  const limit = sample.limit ?? requestedLimit(prompt);
  const overlong =
    limit !== undefined
      ? chars > limit
      : referenceChars !== undefined && referenceChars > 0 && chars > rules.overlongRatio * referenceChars;
  const wanted = requestedCount(prompt);
  const items = wanted !== undefined ? listItems(answer) : undefined;
  const share = japaneseShare(answer);
  return {
    chars,
    ...(referenceChars !== undefined ? { referenceChars } : {}),
    japaneseShare: share,
    japanese: isMostlyJapanese(answer),
    ...(limit !== undefined ? { limit } : {}),
    overlong,
    ...(wanted !== undefined ? { requestedCount: wanted, items, countMet: items === wanted } : {}),
    ...(hasReference ? { overlap: chrF(answer, reference) } : {}),
  };
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const share = (n: number, of: number): number | null => (of > 0 ? n / of : null);

/** The summary of a group of sample lines: the answered ones with scores count, the others are counted as samples. */
export function summarize(lines: readonly EvaluationSample[]): ScoreSummary {
  const scored = lines.flatMap((l) => (l.scores && l.modelOutput !== undefined ? [l.scores] : []));
  const withRef = scored.filter((s) => s.referenceChars !== undefined);
  const withoutReference = scored.length - withRef.length;
  const requests = scored.filter((s) => s.requestedCount !== undefined);
  const judge = judgeSummary(lines);
  return {
    samples: lines.length,
    answered: scored.length,
    japaneseRatio: share(scored.filter((s) => s.japanese).length, scored.length),
    meanChars: mean(scored.map((s) => s.chars)),
    meanReferenceChars: mean(withRef.map((s) => s.referenceChars!)),
    lengthRatio: mean(withRef.filter((s) => s.referenceChars! > 0).map((s) => s.chars / s.referenceChars!)),
    overlong: scored.filter((s) => s.overlong).length,
    countRequests: requests.length,
    countMet: requests.filter((s) => s.countMet).length,
    formatCompliance: share(requests.filter((s) => s.countMet).length, requests.length),
    overlap: mean(withRef.map((s) => s.overlap!)),
    ...(withoutReference ? { withoutReference } : {}),
    ...(judge ? { judge } : {}),
  };
}

/** The category a sample is counted under: its own, else its kind of task by where it came from. */
export const categoryOf = (l: EvaluationSample): string => l.category ?? (l.source === 'prompts' ? 'prompts' : 'test');

/**
 * The score table of a run's sample lines: overall, by category and by source. A sample whose prompt was seen in
 * training is left out of every group (it is no evidence of what the model learned).
 */
export function scoreTable(lines: readonly EvaluationSample[]): ScoreTable {
  const counted = lines.filter((l) => !l.seenInTraining);
  const groups = new Map<string, EvaluationSample[]>();
  for (const l of counted) groups.set(categoryOf(l), [...(groups.get(categoryOf(l)) ?? []), l]);
  const test = counted.filter((l) => (l.source ?? 'test') === 'test');
  const prompts = counted.filter((l) => l.source === 'prompts');
  return {
    overall: summarize(counted),
    byCategory: Object.fromEntries(
      [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([c, ls]) => [c, summarize(ls)]),
    ),
    bySource: {
      ...(test.length ? { test: summarize(test) } : {}),
      ...(prompts.length ? { prompts: summarize(prompts) } : {}),
    },
  };
}
