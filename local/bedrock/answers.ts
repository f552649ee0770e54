import { truncateToTokens } from '../../shared/catalog';
import { chrF } from '../../shared/evaluation/chrf';
import { rubricParts } from '../../shared/evaluation/judge';
import { japaneseShare } from '../../shared/evaluation/metrics';
import type { Sample } from './dataset';
import { hash } from './metrics';

/**
 * The text the emulator answers with when a provisioned custom model is invoked. No model runs: the answer is
 * drawn from the model's training data by a few deterministic rules, chosen so that the evaluation's metrics move in
 * the directions the seed recipe saw on real Titan Text Lite models (more epochs helped open QA; fine-tuning alone
 * at 5 epochs lost Japanese; models pre-trained on long Wikipedia documents answered at length and sometimes listed
 * fewer items than asked). The rules, with their figures, are in docs/bedrock-emulator.md ("Answers"); this function
 * is the only place that makes answer text. Wrapping it in a model family's response body is the runtime's concern.
 */

/** One customization in a custom model's history, oldest first; the model's own job is the last. */
export interface LineageStep {
  customizationType: string;
  /** The job's `epochCount` (1 when the model family names no epochs). */
  epochs: number;
  /** Training records the job read. */
  records: number;
  /** The first training examples the job read (for continued pre-training: documents, in `prompt`). */
  samples: Sample[];
}

export interface EmulatedAnswer {
  text: string;
  /** Cut at `maxTokenCount`. */
  truncated: boolean;
  /** The training example the answer starts from, and whether its prompt was the input itself. */
  trainingExample: number | null;
  matchedPrompt: boolean;
  /** The rules that shaped this answer (docs/bedrock-emulator.md), for the response's `emulation` member. */
  rules: string[];
}

/** The answer a model with this history gives to `prompt`, at most `maxTokenCount` tokens. */
export function answerText(lineage: LineageStep[], prompt: string, maxTokenCount: number): EmulatedAnswer {
  const own = lineage.at(-1);
  const samples = own?.samples ?? [];
  const pretraining = lineage.findLast((s) => s.customizationType === 'CONTINUED_PRE_TRAINING');
  const rules: string[] = [];
  let text = '';
  let index: number | null = null;
  const exact = samples.findIndex((s) => s.prompt === prompt);
  if (own?.customizationType === 'CONTINUED_PRE_TRAINING') {
    // A model only pre-trained continues a document; it was never taught to answer.
    index = samples.length ? hash(prompt) % samples.length : null;
    text = index === null ? '' : samples[index]!.prompt;
    rules.push('continuation');
  } else if (exact >= 0) {
    index = exact;
    text = samples[exact]!.completion;
    rules.push('memorized');
  } else if (samples.length) {
    // Rule 1, recall: with probability 1 - 0.5^epochs the answer comes from the training example nearest the prompt.
    const epochs = own!.epochs;
    if (unit('recall', prompt) < 1 - 0.5 ** epochs) {
      index = nearest(samples, prompt);
      rules.push('recall');
    } else {
      index = hash(prompt) % samples.length;
      rules.push('guess');
    }
    text = samples[index]!.completion;
  }
  if (own && own.customizationType !== 'CONTINUED_PRE_TRAINING' && exact < 0) {
    // Rule 2, language drift: more epochs on fewer records, unless a Japanese pre-training anchors the model.
    const drift = Math.min(0.9, 0.1 * (own.epochs - 1) * Math.sqrt(1000 / Math.max(1, own.records)));
    if (unit('english', prompt) < drift * (pretraining ? 0.25 : 1)) {
      text = ENGLISH;
      rules.push('english');
    } else if (pretraining && pretraining.samples.length) {
      // Rule 3, verbosity: a model pre-trained on documents goes on with one after answering, and half the time
      // drops the last item of a list it was asked for.
      if (unit('list', prompt) < 0.5) {
        const shorter = withoutLastItem(text);
        if (shorter !== text) rules.push('short-list');
        text = shorter;
      }
      const doc = pretraining.samples[hash(`doc|${prompt}`) % pretraining.samples.length]!.prompt;
      text = `${text}\n${doc}`;
      rules.push('verbose');
    }
  }
  const cut = truncateToTokens(text, maxTokenCount);
  return { text: cut.text, truncated: cut.truncated, trainingExample: index, matchedPrompt: exact >= 0, rules };
}

/**
 * What a base model answers, invoked on demand by its inference id: it never saw the dataset, so it recalls no
 * reference answer. Rule 4, base model: it restates the first line of the prompt in a stock Japanese sentence; a
 * Titan Text base model (which the recipe fine-tunes because it does not chat in Japanese) answers in English half
 * the time instead. So a variant that learnt the dataset's answers overlaps its references more than the base model.
 */
export function baseAnswerText(family: string, prompt: string, maxTokenCount: number): EmulatedAnswer {
  const rules = ['base'];
  let text: string;
  if (family === 'titan-text' && unit('base-english', prompt) < 0.5) {
    text = ENGLISH;
    rules.push('english');
  } else {
    const first = prompt.split('\n').find((l) => l.trim() !== '') ?? '';
    text = `「${[...first.trim()].slice(0, 60).join('')}」についてお答えします。一般的な事柄ですので、詳しくは資料をご覧ください。`;
  }
  const cut = truncateToTokens(text, maxTokenCount);
  return { text: cut.text, truncated: cut.truncated, trainingExample: null, matchedPrompt: false, rules };
}

/**
 * What any on-demand model answers to the judge's rubric (shared/evaluation/judge.ts judgePrompt), or undefined when
 * the prompt is not one. Rule 5, judge: no model grades anything; the grades are a fixed rule of the answer and the
 * reference the rubric quotes: japanese = 1 + round(4 x the answer's share of Japanese letters); correctness = 1 +
 * round(4 x chrF(answer, reference) / 100), or 3 when the rubric has no reference; an empty answer gets 1 and 1. The
 * reply is the rubric's grade line, cut to the token cap like any answer (a cap too small for it makes it malformed).
 */
export function judgeAnswerText(prompt: string, maxTokenCount: number): EmulatedAnswer | undefined {
  const parts = rubricParts(prompt);
  if (!parts) return undefined;
  const empty = parts.answer.trim() === '';
  const japanese = empty ? 1 : 1 + Math.round(4 * japaneseShare(parts.answer));
  const correctness = empty
    ? 1
    : parts.reference === undefined
      ? 3
      : 1 + Math.round((4 * chrF(parts.answer, parts.reference)) / 100);
  const cut = truncateToTokens(JSON.stringify({ correctness, japanese }), maxTokenCount);
  return { text: cut.text, truncated: cut.truncated, trainingExample: null, matchedPrompt: false, rules: ['judge'] };
}

/** What a model that lost its Japanese answers: the same English text every time (no Japanese script in it). */
export const ENGLISH =
  'I am sorry, I can answer this only in English. It is a well-known subject; the reference text has the details.';

/** A number in [0, 1) fixed by the rule and the prompt, so each rule's draw is the same on every call and model. */
const unit = (rule: string, prompt: string): number => hash(`${rule}|${prompt}`) / 2 ** 32;

/** The training example whose prompt shares the most character bigrams with `prompt` (Dice), the first on a tie. */
function nearest(samples: Sample[], prompt: string): number {
  const want = bigrams(prompt);
  let sets = BIGRAMS.get(samples);
  if (!sets) BIGRAMS.set(samples, (sets = samples.map((s) => bigrams(s.prompt))));
  let best = 0;
  let bestScore = -1;
  sets.forEach((have, i) => {
    let shared = 0;
    for (const b of have) if (want.has(b)) shared++;
    const score = (2 * shared) / Math.max(1, want.size + have.size);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

/** Each model's training prompts as bigram sets, made on its first question. */
const BIGRAMS = new WeakMap<Sample[], Array<Set<string>>>();

function bigrams(text: string): Set<string> {
  const chars = [...text];
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return out;
}

const LIST_ITEM = /^\s*(?:[0-9０-９]+[.)．、]|[-・•*])\s*/;

/** The text with the last line of its list removed; the text itself when it holds no list of two items or more. */
function withoutLastItem(text: string): string {
  const lines = text.split('\n');
  const items = lines.flatMap((l, i) => (LIST_ITEM.test(l) ? [i] : []));
  if (items.length < 2) return text;
  return lines.filter((_, i) => i !== items.at(-1)).join('\n');
}
