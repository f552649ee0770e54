import * as z from 'zod';

const count = z.number().int().nonnegative();
const ratio = z.number().min(0).max(1);

/**
 * What the evaluation measured in one answer (shared/evaluation/scores.ts scoreSample), kept on its line of
 * `evaluation/samples.jsonl`. Lengths are code points.
 */
export const SampleScores = z.object({
  chars: count,
  /** The reference's length; absent when the sample has no reference (a user prompt without one). */
  referenceChars: count.optional(),
  /** Share of the answer's letters in Japanese script, and whether that is most of them. */
  japaneseShare: ratio,
  japanese: z.boolean(),
  /** The length the prompt asked for ("100文字以内") or the prompt file set, when there is one. */
  limit: count.optional(),
  /** Over the limit, or without one over `evaluation.overlongRatio` times the reference's length. */
  overlong: z.boolean(),
  /** The number of items the prompt asked for ("5つ挙げて"), the items the answer lists, and whether they agree. */
  requestedCount: count.optional(),
  items: count.optional(),
  countMet: z.boolean().optional(),
  /** chrF against the reference, 0-100 (shared/evaluation/chrf.ts); absent without a reference. */
  overlap: z.number().min(0).max(100).optional(),
});
export type SampleScores = z.infer<typeof SampleScores>;

/** A judge's grade, 1 (worst) to 5 (best). */
const grade = z.number().int().min(1).max(5);

/**
 * The judge model's verdict on one answer (config `evaluation.judge`, shared/evaluation/judge.ts), kept on its line of
 * `evaluation/samples.jsonl`: its two grades; or its reply as it came when it was not exactly the grade line the
 * rubric asks for (never guessed from); or the Bedrock error that kept the judge from answering.
 */
export const JudgeGrade = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('graded'),
    /** How right the answer is against the prompt and the reference. */
    correctness: grade,
    /** How well it answers in Japanese. */
    japanese: grade,
  }),
  z.object({ status: z.literal('malformed'), reason: z.string().min(1), reply: z.string() }),
  z.object({ status: z.literal('error'), error: z.string().min(1) }),
]);
export type JudgeGrade = z.infer<typeof JudgeGrade>;

/** The judge's grades over a group of answers: how many it graded and their means (null when none was graded). */
export const JudgeSummary = z.object({
  /** Answers sent to the judge, those it graded, and those whose reply was not a grade line. */
  asked: count,
  graded: count,
  malformed: count,
  correctness: z.number().min(1).max(5).nullable(),
  japanese: z.number().min(1).max(5).nullable(),
});
export type JudgeSummary = z.infer<typeof JudgeSummary>;

/** The scores of a group of samples (all of them, one category, one source); a ratio of nothing is null. */
export const ScoreSummary = z.object({
  /** Samples in the group, and those the model answered (the others' lines carry an error). */
  samples: count,
  answered: count,
  /** Share of the answers mostly in Japanese script. */
  japaneseRatio: ratio.nullable(),
  meanChars: z.number().nonnegative().nullable(),
  meanReferenceChars: z.number().nonnegative().nullable(),
  /** Mean of answer length / reference length, over answers whose reference is not empty. */
  lengthRatio: z.number().nonnegative().nullable(),
  overlong: count,
  /** Answers to prompts that asked for a count, and those that listed exactly as many items. */
  countRequests: count,
  countMet: count,
  formatCompliance: ratio.nullable(),
  /** Mean chrF (0-100) of the answers that have a reference. */
  overlap: z.number().min(0).max(100).nullable(),
  /** Answers without a reference (a prompt file's lines without one): left out of `overlap` and `lengthRatio`. */
  withoutReference: count.optional(),
  /** The judge model's grades of the group's answers, when a judge was configured (config `evaluation.judge`). */
  judge: JudgeSummary.optional(),
});
export type ScoreSummary = z.infer<typeof ScoreSummary>;

/**
 * The proof that the test records evaluated were held out: none of their prompts (a continuation's whole document)
 * is a prompt of the training or validation set the model was trained on, checked line by line when the evaluation
 * ran. `overlapping` lists the sample indexes found there (at most 20); their scores are left out.
 */
export const HeldOutCheck = z.object({
  testKey: z.string().min(1),
  checked: count,
  against: z.array(z.object({ key: z.string().min(1), records: count })),
  overlapping: count,
  overlappingIndexes: z.array(count),
});
export type HeldOutCheck = z.infer<typeof HeldOutCheck>;

/**
 * What the judge's calls were estimated to cost before any was made (shared/evaluation/judge.ts estimateJudgeCost):
 * the answers to grade x the rubric prompt's tokens (estimated, shared/catalog/tokens.ts) and at most `maxTokens` of
 * reply each, at the model's on-demand prices from the catalog (shared/catalog/prices.ts). `usd` is null when the
 * catalog has no price; `unconfirmed` says when the prices are not confirmed, and `note` says so in words.
 */
export const JudgeCostEstimate = z.object({
  currency: z.literal('USD'),
  modelId: z.string().min(1),
  samples: count,
  inputTokens: count,
  /** The most reply tokens: samples x the judge's `maxTokens`. */
  outputTokens: count,
  usdPer1kInputTokens: z.number().nonnegative().nullable(),
  usdPer1kOutputTokens: z.number().nonnegative().nullable(),
  usd: z.number().nonnegative().nullable(),
  unconfirmed: z.boolean(),
  note: z.string().optional(),
});
export type JudgeCostEstimate = z.infer<typeof JudgeCostEstimate>;

/**
 * The judge's part of an evaluation (config `evaluation.judge`): which model, its cost estimate, and what came of it;
 * `skipped` says why no judge call was made (the estimate over `maxUsd`, no runtime client).
 */
export const JudgeRecord = z.object({
  modelId: z.string().min(1),
  estimate: JudgeCostEstimate,
  /**
   * Replies the judge gave (graded or malformed): each answer is asked once, also across a redelivered message, since
   * evaluation/judge.json keeps the replies, so a redelivery records the same number.
   */
  calls: count,
  skipped: z.string().optional(),
  /** The local Bedrock emulator's note that its grades are a deterministic rule, not a model's opinion. */
  emulated: z.string().optional(),
});
export type JudgeRecord = z.infer<typeof JudgeRecord>;

/**
 * `runs/<id>/evaluation/judge.json`: the judge's grades as they were received, each with a digest of the rubric
 * prompt it answered, written before evaluate backs off or finishes, so a redelivered or retried message reuses them
 * instead of asking (and paying) again.
 */
export const JudgeGrades = z.object({
  schemaVersion: z.literal(1),
  modelId: z.string().min(1),
  grades: z.array(
    z.object({ index: count, digest: z.string().min(1), grade: JudgeGrade, emulated: z.string().optional() }),
  ),
});
export type JudgeGrades = z.infer<typeof JudgeGrades>;

/** Scores of all samples, by category and by where the prompts came from (held-out test set, prompt file). */
export const ScoreTable = z.object({
  overall: ScoreSummary,
  byCategory: z.record(z.string(), ScoreSummary),
  bySource: z.object({ test: ScoreSummary.optional(), prompts: ScoreSummary.optional() }),
});
export type ScoreTable = z.infer<typeof ScoreTable>;

/**
 * The user's prompt file (config `evaluation.promptFile`) as ingest checked it: where it is, its prompts, and the
 * SHA-256 (hex) of its text (UTF-8), which the evaluate step compares before it asks the prompts.
 */
export const CheckedPromptFile = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  prompts: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type CheckedPromptFile = z.infer<typeof CheckedPromptFile>;

/**
 * `runs/<id>/evaluation/scores.json`, written by services/evaluate, read by the gate, `btp compare` and the report:
 * what was asked (model, maxTokenCount, rules) and the score table, with the held-out proof.
 */
export const EvaluationScores = z
  .object({
    schemaVersion: z.literal(1),
    runId: z.string().min(1),
    /** The model that answered: the run's provisioned custom model, or a base model for comparison. */
    model: z.object({ kind: z.enum(['custom', 'base']), id: z.string().min(1) }),
    maxTokenCount: z.number().int().positive(),
    overlongRatio: z.number().positive(),
    /** The overlap score's definition, for a reader of the file alone. */
    overlapMetric: z.literal('chrF: character 1-6-grams, beta 2, whitespace removed (sacreBLEU sentence chrF)'),
    samplesKey: z.string().min(1),
    heldOut: HeldOutCheck.optional(),
    /** The user's prompt file (config `evaluation.promptFile`) asked beside the test set, and its prompts. */
    promptFile: CheckedPromptFile.partial({ sha256: true }).optional(),
    /** The local Bedrock emulator's note that no model ran, when it gave the answers (docs/bedrock-emulator.md). */
    emulated: z.string().optional(),
    /** The judge model, when one graded the answers (config `evaluation.judge`). */
    judge: JudgeRecord.optional(),
  })
  .extend(ScoreTable.shape);
export type EvaluationScores = z.infer<typeof EvaluationScores>;

export const OVERLAP_METRIC: EvaluationScores['overlapMetric'] =
  'chrF: character 1-6-grams, beta 2, whitespace removed (sacreBLEU sentence chrF)';
