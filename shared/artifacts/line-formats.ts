import * as z from 'zod';
import { JudgeGrade, SampleScores } from './evaluation';
import { RejectReason } from './reasons';

const count = z.number().int().nonnegative();

/**
 * One line of a chunk's meta.jsonl: what split needs to know of the record on the same line of kept.jsonl (which
 * holds the Bedrock records alone, as they go into the prepared sets), so split's first pass reads no record. The
 * names are one letter because the file has a line per kept record; split reads it with a byte reader
 * (parseMetaBytes) and turns it into descriptive names at once (shared/prep/select.ts `Candidate`).
 */
export const KeptMeta = z.object({
  /** Content key: hash of the normalised text; duplicates share it. */
  k: z.string().min(1),
  /** Position in the whole input: byte offset (text formats) or row index (Parquet). */
  p: count,
  /** Piece index within a document (continued pre-training); 0 otherwise. */
  q: count,
  /** Source line (text formats) or row. */
  l: count.optional(),
  w: count.optional(),
  /** Category (prep.categoryField) and stratum (split.stratifyBy), when present. */
  c: z.string().optional(),
  g: z.string().optional(),
  /** Code points of prompt plus completion (or input), and estimated tokens. */
  n: count,
  t: count,
  /** Bytes of the record's line in kept.jsonl, without its line break. */
  b: count,
});
export type KeptMeta = z.infer<typeof KeptMeta>;

/**
 * What a line of a stage's held-out test set (`prepared/test.jsonl`) adds to the record as the training set has it:
 * the category of the record's source (KeptMeta `c`, from prep.categoryField), when it has one, so the evaluation
 * scores the held-out set per category. The test set is never sent to Bedrock (a customization job takes training
 * and validation data only), so this field is the project's own; train.jsonl and validation.jsonl stay exactly in
 * Bedrock's format. Split appends it to the record's line (testLineTail); evaluate reads it back with this schema.
 */
export const TestSetExtras = z.object({ category: z.string().min(1).optional() });
export type TestSetExtras = z.infer<typeof TestSetExtras>;

/**
 * The members split adds to a test record's JSON object, just before its closing brace: `,"category":"..."`, or
 * nothing for a record without a category (a corpus document, a dataset without the field).
 */
export const testLineTail = (category: string | undefined): string =>
  category ? `,${JSON.stringify(TestSetExtras.parse({ category })).slice(1, -1)}` : '';

/**
 * One line of rejects.jsonl: the run's that split writes (the file read is the manifest's `source`), and a chunk's (see
 * ChunkRejectLine).
 * `record` is the head of the record's text (120 UTF-16 units, '…' when cut); a duplicate has none, its `detail`
 * names the line or row of the record it repeats.
 */
export const RejectLine = z.object({
  reason: RejectReason,
  detail: z.string(),
  record: z.string().optional(),
  line: count.optional(),
  row: count.optional(),
  field: z.string().optional(),
});
export type RejectLine = z.infer<typeof RejectLine>;

/**
 * A duplicate's line in a chunk's rejects.jsonl when the chunk's lines count from its own start (ChunkPlan
 * relativeLines), in short: `[N,M]`, the record at line M repeats the text kept at line N of the chunk, or `[N,C,M]`,
 * the text kept at line N of chunk C. Split writes it out as the RejectLine `{"reason":"filtered:duplicate","detail":
 * "same text as line N","line":M}` with both numbers counted in the whole file (shared/prep/line-numbers.ts), so no
 * file of the run's has it. Only for records on lines that are not pieces of documents; other duplicates are written
 * as RejectLine. Most reject lines of a repetitive corpus are these: a dozen bytes each instead of about 90, written
 * by transform and read by split.
 */
export const ChunkDuplicateLine = z.union([z.tuple([count, count]), z.tuple([count, count, count])]);
export type ChunkDuplicateLine = z.infer<typeof ChunkDuplicateLine>;

/** One line of a chunk's rejects.jsonl (`ChunkResult.rejectsKey`): a RejectLine, or a duplicate in short. */
export const ChunkRejectLine = z.union([RejectLine, ChunkDuplicateLine]);
export type ChunkRejectLine = z.infer<typeof ChunkRejectLine>;

/**
 * One line of `runs/<id>/evaluation/samples.jsonl`, written by services/evaluate, shown by the report: a test
 * record's prompt, its expected completion (for continued pre-training, the text that follows the prompt) and the
 * provisioned model's answer, or why there is none; and since the scores came, where the prompt came from (the
 * held-out test set or the user's prompt file), its category, and the answer's scores. Those are optional, so a file
 * written before them still reads.
 */
export const EvaluationSample = z.object({
  index: count,
  kind: z.enum(['prompt-completion', 'continuation']),
  prompt: z.string(),
  reference: z.string(),
  modelOutput: z.string().optional(),
  error: z.string().optional(),
  source: z.enum(['test', 'prompts']).optional(),
  category: z.string().optional(),
  scores: SampleScores.optional(),
  /** The prompt is in the training or validation set (HeldOutCheck): its answer is kept but not scored. */
  seenInTraining: z.literal(true).optional(),
  /** The prompt file's output cap for this prompt, when it set one instead of `evaluation.maxTokenCount`. */
  maxTokenCount: z.number().int().positive().optional(),
  /** A prompt file's line without a reference: the scores that need one (chrF, length against it) are not computed. */
  noReference: z.literal(true).optional(),
  /** The judge model's grade of the answer (config `evaluation.judge`), when it was asked. */
  judge: JudgeGrade.optional(),
});
export type EvaluationSample = z.infer<typeof EvaluationSample>;
