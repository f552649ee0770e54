import type { EvaluationSample } from '../../shared/artifacts';
import { scoreSample } from '../../shared/evaluation/scores';

/** A held-out test sample the model answered, scored by the evaluate step's rules (overlongRatio 2). */
export const scoredSample = (
  prompt: string,
  reference: string,
  answer: string,
  category: string,
): EvaluationSample => ({
  index: 0,
  kind: 'prompt-completion',
  prompt,
  reference,
  modelOutput: answer,
  category,
  source: 'test',
  scores: scoreSample({ prompt, reference, answer }, { overlongRatio: 2 }),
});
