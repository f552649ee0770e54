import * as z from 'zod';

/**
 * Why a record is in no prepared set: every reason a step writes, in reject lines, in the counts (`byReason`) and in
 * the report. `filtered:` is a record a rule dropped; `rejected:` one that could not be read or mapped.
 */
export const REJECT_REASONS = [
  'filtered:empty',
  'filtered:too_long_chars',
  'filtered:too_many_tokens',
  'filtered:sentence_too_long',
  'filtered:duplicate',
  'filtered:reserved_word',
  'rejected:not_json',
  'rejected:bad_row',
  'rejected:not_object',
  'rejected:missing_field',
  'rejected:wrong_type',
] as const;

export const RejectReason = z.enum(REJECT_REASONS);
export type RejectReason = z.infer<typeof RejectReason>;

export const DUPLICATE = 'filtered:duplicate' satisfies RejectReason;

/** The reasons that drop a record for its length: the report's length histogram shows them past the limit. */
export const LENGTH_REASONS: readonly RejectReason[] = [
  'filtered:too_long_chars',
  'filtered:too_many_tokens',
  'filtered:sentence_too_long',
];

export const isRejected = (reason: RejectReason): boolean => reason.startsWith('rejected:');

/** Records dropped for their length, from counts by reason. */
export const droppedForLength = (byReason: Partial<Record<RejectReason, number>> = {}): number =>
  LENGTH_REASONS.reduce((s, r) => s + (byReason[r] ?? 0), 0);

/**
 * Record counts of a data preparation, by outcome and reason: input = kept + filtered + rejected, and the reasons add
 * up to filtered + rejected. The sets' sizes once the split has chosen them.
 */
export const RecordCounts = z.object({
  input: z.number().int().nonnegative(),
  kept: z.number().int().nonnegative(),
  filtered: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  byReason: z.partialRecord(RejectReason, z.number().int().nonnegative()),
  train: z.number().int().nonnegative().optional(),
  validation: z.number().int().nonnegative().optional(),
  test: z.number().int().nonnegative().optional(),
});
export type RecordCounts = z.infer<typeof RecordCounts>;
