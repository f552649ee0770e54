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

/** Scores of all samples, by category and by where the prompts came from (held-out test set, prompt file). */
export const ScoreTable = z.object({
  overall: ScoreSummary,
  byCategory: z.record(z.string(), ScoreSummary),
  bySource: z.object({ test: ScoreSummary.optional(), prompts: ScoreSummary.optional() }),
});
export type ScoreTable = z.infer<typeof ScoreTable>;

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
    promptFile: z.object({ bucket: z.string().min(1), key: z.string().min(1), prompts: count }).optional(),
    /** The local Bedrock emulator's note that no model ran, when it gave the answers (docs/bedrock-emulator.md). */
    emulated: z.string().optional(),
  })
  .extend(ScoreTable.shape);
export type EvaluationScores = z.infer<typeof EvaluationScores>;

export const OVERLAP_METRIC: EvaluationScores['overlapMetric'] =
  'chrF: character 1-6-grams, beta 2, whitespace removed (sacreBLEU sentence chrF)';
