import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { EvaluationSample, JudgeCostEstimate, JudgeGrade, JudgeSummary } from '../artifacts';
import { estimateTokens, findByInferenceId } from '../catalog';
import { findPrices, type ModelPrices } from '../catalog/prices';
import type { RunConfig } from '../config/run-config';

/**
 * The optional judge model (config `evaluation.judge`): a model asked through Bedrock to grade each answer against
 * its prompt and reference by a fixed rubric, 1-5 for correctness and 1-5 for answering in Japanese. Pure functions:
 * the rubric prompt, the strict reading of the reply, the cost estimate made before any call, and the summaries.
 */

/** The rubric's first line: it names the rubric and its version (the local emulator recognises a judge call by it). */
export const JUDGE_RUBRIC_HEADER = '[btp judge rubric v1]';

/**
 * The rubric, in Japanese because the answers it grades are meant to be (a model grading Japanese text reads its
 * instructions best in the same language). The reply is one JSON line, so reading it needs no interpretation.
 */
const RUBRIC = [
  JUDGE_RUBRIC_HEADER,
  'あなたは日本語の回答を採点する審査員です。<question> の質問・指示に対する <answer> の回答を、<reference> の参考回答と照らして、次の二つの観点で 1〜5 の整数で採点してください。',
  '- correctness（正確さ）: 5 = 参考回答と同じ内容で正確、4 = ほぼ正確、3 = 一部正確、2 = ほとんど誤り、1 = 誤り・無関係・無回答。参考回答が「なし」のときは質問への答えとして妥当かで採点する。指示された個数や文字数を守っていなければ減点する。',
  '- japanese（日本語）: 5 = 自然な日本語のみ、4 = ほぼ日本語、3 = 日本語と他の言語が混在、2 = 大部分が他の言語、1 = 日本語ではない・無回答。',
  '出力は次の形の JSON 1 行だけにし、ほかには何も書かないでください:',
  '{"correctness": <1-5>, "japanese": <1-5>}',
].join('\n');

/** The marker the rubric writes in place of a reference when the prompt has none. */
export const NO_REFERENCE = 'なし';

/** What one answer is graded on. */
export interface JudgedAnswer {
  prompt: string;
  /** The expected answer; undefined when the prompt has none (a prompt file's line without one). */
  reference?: string;
  answer: string;
}

/** The rubric prompt for one answer: the instructions, then the question, the reference and the answer, tagged. */
export function judgePrompt({ prompt, reference, answer }: JudgedAnswer): string {
  return [
    RUBRIC,
    '',
    '<question>',
    prompt,
    '</question>',
    '<reference>',
    reference ?? NO_REFERENCE,
    '</reference>',
    '<answer>',
    answer,
    '</answer>',
  ].join('\n');
}

/**
 * The parts of a rubric prompt judgePrompt wrote, or undefined when the text is not one: the local Bedrock emulator
 * grades by them (docs/bedrock-emulator.md). The answer is the text up to the last `</answer>`, so an answer that
 * itself holds the tags is still read whole.
 */
export function rubricParts(text: string): JudgedAnswer | undefined {
  if (!text.startsWith(`${RUBRIC}\n`)) return undefined;
  const q = text.indexOf('\n<question>\n');
  const r = text.indexOf('\n</question>\n<reference>\n', q);
  const a = text.indexOf('\n</reference>\n<answer>\n', r);
  const end = text.lastIndexOf('\n</answer>');
  if (q < 0 || r < 0 || a < 0 || end < a) return undefined;
  const reference = text.slice(r + '\n</question>\n<reference>\n'.length, a);
  return {
    prompt: text.slice(q + '\n<question>\n'.length, r),
    ...(reference === NO_REFERENCE ? {} : { reference }),
    answer: text.slice(a + '\n</reference>\n<answer>\n'.length, end),
  };
}

const GradeLine = z.strictObject({
  correctness: z.number().int().min(1).max(5),
  japanese: z.number().int().min(1).max(5),
});

/** How much of a reply that is not a grade line is kept on the sample (code points). */
const REPLY_KEPT = 500;

/**
 * The judge's reply read strictly: exactly one JSON object `{"correctness": n, "japanese": n}` with integers 1-5
 * and nothing else (surrounding whitespace aside). Anything else is `malformed`, with the reason and the reply as it
 * came (its first 500 code points): a grade is never guessed from prose, a code fence or a number out of range.
 */
export function parseGrade(reply: string): JudgeGrade {
  const kept = [...reply].slice(0, REPLY_KEPT).join('');
  const malformed = (reason: string): JudgeGrade => ({ status: 'malformed', reason, reply: kept });
  const text = reply.trim();
  if (text === '') return malformed('the reply is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return malformed('the reply is not one JSON object');
  }
  const parsed = GradeLine.safeParse(value);
  if (!parsed.success)
    return malformed(
      parsed.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; '),
    );
  return { status: 'graded', ...parsed.data };
}

/** A digest of one judge call (model, cap, rubric prompt): a stored grade is reused only for the same call. */
export const judgeCallDigest = (modelId: string, maxTokens: number, prompt: string): string =>
  createHash('sha256')
    .update(JSON.stringify([modelId, maxTokens, prompt]))
    .digest('hex')
    .slice(0, 32);

const round = (x: number) => Math.round(x * 1_000_000) / 1_000_000;

/**
 * The judge's cost before any call: the rubric prompts' tokens (estimateTokens, which errs high on Japanese) and at
 * most `maxTokens` of reply each, at the model's on-demand per-1,000-token prices in the catalog. A model the catalog
 * prices nowhere gets `usd: null`; prices the catalog has not confirmed make the estimate `unconfirmed`, and the note
 * says so (shared/catalog/prices.ts: none of its figures is confirmed yet).
 */
export function estimateJudgeCost(args: {
  modelId: string;
  prompts: readonly string[];
  maxTokens: number;
  prices?: ModelPrices | undefined;
}): JudgeCostEstimate {
  const inputTokens = args.prompts.reduce((sum, p) => sum + estimateTokens(p), 0);
  return judgeCost({ ...args, samples: args.prompts.length, inputTokens });
}

/** The cost of `samples` judge calls of `inputTokens` in all and at most `maxTokens` of reply each. */
function judgeCost(args: {
  modelId: string;
  samples: number;
  inputTokens: number;
  maxTokens: number;
  prices?: ModelPrices | undefined;
}): JudgeCostEstimate {
  const { modelId, samples, inputTokens } = args;
  const model = findByInferenceId(modelId);
  const onDemand = (args.prices ?? (model ? findPrices(model.id) : undefined))?.onDemand;
  const outputTokens = samples * args.maxTokens;
  const pin = onDemand?.input.usd ?? null;
  const pout = onDemand?.output.usd ?? null;
  const known = pin !== null && pout !== null;
  const unconfirmed = !known || !onDemand!.input.confirmed || !onDemand!.output.confirmed;
  const note = !known
    ? `no on-demand price for ${modelId} in the catalog: the cost is unknown`
    : unconfirmed
      ? `UNVERIFIED prices (${onDemand!.input.note ?? onDemand!.input.source})`
      : undefined;
  return {
    currency: 'USD',
    modelId,
    samples,
    inputTokens,
    outputTokens,
    usdPer1kInputTokens: pin,
    usdPer1kOutputTokens: pout,
    usd: known ? round((inputTokens * pin) / 1000 + (outputTokens * pout) / 1000) : null,
    unconfirmed,
    ...(note ? { note } : {}),
  };
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The judge's grades over a group of sample lines, or undefined when none of them was sent to the judge. */
export function judgeSummary(lines: readonly EvaluationSample[]): JudgeSummary | undefined {
  const asked = lines.flatMap((l) => (l.judge ? [l.judge] : []));
  if (!asked.length) return undefined;
  const graded = asked.flatMap((g) => (g.status === 'graded' ? [g] : []));
  return {
    asked: asked.length,
    graded: graded.length,
    malformed: asked.filter((g) => g.status === 'malformed').length,
    correctness: mean(graded.map((g) => g.correctness)),
    japanese: mean(graded.map((g) => g.japanese)),
  };
}

/**
 * What `btp run` says of the judge before anything is uploaded: an estimate for one evaluated model, from the
 * configuration alone. The answers are not known yet, so it assumes each sample's prompt, reference and answer are
 * `evaluation.maxTokenCount` tokens each (an answer is at most that; the prompt and reference are the assumption) and
 * that `provisioning.evaluateSamples` test records and `promptFileLines` prompts are asked, at most `maxSamples`.
 */
export function judgePreflight(
  config: Pick<RunConfig, 'evaluation' | 'provisioning' | 'variants'>,
  promptFileLines = 0,
): string | undefined {
  const judge = config.evaluation.judge;
  if (!judge) return undefined;
  const samples = Math.min(judge.maxSamples, (config.provisioning.evaluateSamples ?? 0) + promptFileLines);
  const rubric = estimateTokens(judgePrompt({ prompt: '', reference: '', answer: '' }));
  const inputTokens = samples * (rubric + 3 * config.evaluation.maxTokenCount);
  const e = judgeCost({ modelId: judge.modelId, samples, inputTokens, maxTokens: judge.maxTokens });
  const models = config.variants?.length ?? 1;
  const cost =
    e.usd === null
      ? 'cost unknown (no price in the catalog)'
      : `~$${e.usd}${e.unconfirmed ? ' (UNVERIFIED prices)' : ''}`;
  const ceiling = judge.maxUsd !== undefined ? `; not asked where the estimate is over maxUsd $${judge.maxUsd}` : '';
  return (
    `the judge ${judge.modelId} grades up to ${samples} answer(s) of each of ${models} evaluated model(s); per ` +
    `model ~${e.inputTokens} input + at most ${e.outputTokens} output tokens, ${cost} ` +
    `(assuming prompt, reference and answer of evaluation.maxTokenCount tokens)${ceiling}`
  );
}
