import * as z from 'zod';

/** The most prompts a prompt file may hold: each is asked of every variant and of the base model. */
export const MAX_PROMPT_FILE_LINES = 200;

/**
 * One line of a user's prompt file (config `evaluation.promptFile`, JSON Lines): a prompt asked of the run's model,
 * and of the base model where it is asked, beside the held-out test set, and scored in its category. Ingest reads the
 * file before any data is prepared and fails the run on a bad line, naming the file, line and field; evaluate reads it
 * through the same schema. Unknown fields are refused, so a misspelt one (`instruction`, `context`) is caught there.
 */
export const PromptFileLine = z.strictObject({
  /** The question or instruction. */
  prompt: z.string().regex(/\S/, 'must not be blank'),
  /** Knowledge or context for it, sent the way the training template sends it (the seed recipe's `入力:...\n知識:...`). */
  input: z.string().optional(),
  /** The expected answer; without one, the scores that need it (chrF, length against it) are not computed. */
  reference: z.string().optional(),
  /** The kind of task the prompt is (open_qa, brainstorming, summarization...): the scores are grouped by it. */
  category: z.string().regex(/\S/, 'must not be blank'),
  /** The model's output cap for this prompt, instead of `evaluation.maxTokenCount`. */
  maxTokenCount: z.number().int().positive().optional(),
});
export type PromptFileLine = z.infer<typeof PromptFileLine>;
