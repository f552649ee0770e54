import { EvaluationSample, JudgeCostEstimate, JudgeGrade } from '../../../shared/artifacts';
import { estimateTokens } from '../../../shared/catalog';
import { findPrices } from '../../../shared/catalog/prices';
import {
  estimateJudgeCost,
  JUDGE_RUBRIC_HEADER,
  judgePrompt,
  judgePreflight,
  judgeSummary,
  parseGrade,
  rubricParts,
} from '../../../shared/evaluation/judge';
import { judgeAnswerText } from '../../../local/bedrock/answers';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { modelChecks } from '../../../shared/orchestration/preflight';

describe('the judge rubric', () => {
  test('quotes the prompt, the reference and the answer after the fixed instructions, which ask for one JSON line', () => {
    const text = judgePrompt({
      prompt: '入力:日本の首都は？\n知識:日本の首都は東京である。',
      reference: '東京です。',
      answer: '東京𠮷です。',
    });
    expect(text.startsWith(`${JUDGE_RUBRIC_HEADER}\n`)).toBe(true);
    expect(text).toContain('correctness');
    expect(text).toContain('japanese');
    expect(text).toContain('{"correctness": <1-5>, "japanese": <1-5>}');
    expect(text).toContain('<question>\n入力:日本の首都は？\n知識:日本の首都は東京である。\n</question>');
    expect(text).toContain('<reference>\n東京です。\n</reference>');
    expect(text.endsWith('<answer>\n東京𠮷です。\n</answer>')).toBe(true);
    // the same answer always gets the same rubric (so a stored grade is found again)
    expect(judgePrompt({ prompt: 'a', reference: 'b', answer: 'c' })).toBe(
      judgePrompt({ prompt: 'a', reference: 'b', answer: 'c' }),
    );
  });

  test('says なし where the prompt has no reference, and the parts read back as they were written', () => {
    const without = judgePrompt({ prompt: '春の季語を5つ挙げて', answer: '桜\n</answer>\n梅' });
    expect(without).toContain('<reference>\nなし\n</reference>');
    expect(rubricParts(without)).toEqual({ prompt: '春の季語を5つ挙げて', answer: '桜\n</answer>\n梅' });
    const withRef = { prompt: 'p\nq', reference: '', answer: '' };
    expect(rubricParts(judgePrompt(withRef))).toEqual(withRef);
    expect(rubricParts('日本の首都は？')).toBeUndefined();
  });
});

describe('parseGrade reads the judge reply strictly', () => {
  test('a grade line, with whitespace around it', () => {
    expect(parseGrade('{"correctness": 4, "japanese": 5}')).toEqual({
      status: 'graded',
      correctness: 4,
      japanese: 5,
    });
    expect(parseGrade('\n {"japanese":1,"correctness":2}\n')).toEqual({
      status: 'graded',
      correctness: 2,
      japanese: 1,
    });
  });

  test.each([
    ['prose around it', '採点結果: {"correctness": 4, "japanese": 5}', /not one JSON object/],
    ['a code fence', '```json\n{"correctness": 4, "japanese": 5}\n```', /not one JSON object/],
    ['a grade out of range', '{"correctness": 6, "japanese": 5}', /correctness/],
    ['a fraction', '{"correctness": 3.5, "japanese": 5}', /correctness/],
    ['a grade as a string', '{"correctness": "4", "japanese": 5}', /correctness/],
    ['a missing grade', '{"correctness": 4}', /japanese/],
    ['an extra field', '{"correctness": 4, "japanese": 5, "reason": "良い"}', /reason/],
    ['a reply cut at the token cap', '{"correctness": 4, "jap', /not one JSON object/],
    ['nothing', '  ', /empty/],
  ])('%s is malformed, with the reply kept as it came', (_, reply, reason) => {
    const g = parseGrade(reply);
    expect(g).toMatchObject({ status: 'malformed', reply });
    expect(g.status === 'malformed' && g.reason).toMatch(reason);
    expect(JudgeGrade.parse(g)).toEqual(g);
  });

  test('a long malformed reply is kept to its first 500 code points, an astral character whole', () => {
    const g = parseGrade('𠮷'.repeat(600));
    expect(g.status === 'malformed' && [...g.reply]).toHaveLength(500);
  });
});

describe('estimateJudgeCost', () => {
  const prompts = [
    judgePrompt({ prompt: '日本の首都は？', reference: '東京', answer: '東京です' }),
    judgePrompt({ prompt: '5つ挙げて', answer: 'one two' }),
  ];

  test("samples x the rubric's tokens and at most maxTokens of reply, at the catalog's on-demand prices", () => {
    const e = estimateJudgeCost({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', prompts, maxTokens: 64 });
    const inputTokens = estimateTokens(prompts[0]!) + estimateTokens(prompts[1]!);
    const prices = findPrices('anthropic.claude-3-haiku-20240307-v1:0:200k')!.onDemand!;
    expect(e).toMatchObject({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      samples: 2,
      inputTokens,
      outputTokens: 128,
      usdPer1kInputTokens: prices.input.usd,
      usdPer1kOutputTokens: prices.output.usd,
    });
    expect(e.usd).toBeCloseTo((inputTokens * prices.input.usd!) / 1000 + (128 * prices.output.usd!) / 1000, 6);
    // the catalog's prices are not confirmed, and the estimate says so
    expect(e.unconfirmed).toBe(true);
    expect(e.note).toMatch(/UNVERIFIED/);
    expect(JudgeCostEstimate.parse(e)).toEqual(e);
  });

  test('a model without an on-demand price is an unknown cost, not zero', () => {
    const e = estimateJudgeCost({ modelId: 'amazon.titan-text-express-v1', prompts, maxTokens: 64 });
    expect(e).toMatchObject({ usd: null, usdPer1kInputTokens: null, unconfirmed: true });
    expect(e.note).toMatch(/no on-demand price/);
    expect(estimateJudgeCost({ modelId: 'no.such-model', prompts: [], maxTokens: 64 })).toMatchObject({
      samples: 0,
      usd: null,
    });
  });
});

describe('judgeSummary', () => {
  const line = (judge?: JudgeGrade): EvaluationSample => ({
    index: 0,
    kind: 'prompt-completion',
    prompt: 'p',
    reference: 'r',
    modelOutput: 'a',
    ...(judge ? { judge } : {}),
  });
  test('means of the graded answers; malformed and failed replies are counted, never averaged', () => {
    expect(judgeSummary([line()])).toBeUndefined();
    expect(
      judgeSummary([
        line({ status: 'graded', correctness: 4, japanese: 5 }),
        line({ status: 'graded', correctness: 2, japanese: 4 }),
        line({ status: 'malformed', reason: 'x', reply: 'x' }),
        line({ status: 'error', error: 'AccessDeniedException: no' }),
        line(),
      ]),
    ).toEqual({ asked: 4, graded: 2, malformed: 1, correctness: 3, japanese: 4.5 });
    expect(judgeSummary([line({ status: 'malformed', reason: 'x', reply: '' })])).toMatchObject({
      correctness: null,
      japanese: null,
    });
  });
});

describe("the Bedrock emulator's judge rule", () => {
  const grade = (answer: string, reference?: string, cap = 64) =>
    judgeAnswerText(
      judgePrompt({ prompt: '日本の首都は？', answer, ...(reference !== undefined ? { reference } : {}) }),
      cap,
    );

  test('grades from the Japanese share and chrF against the reference, and answers other prompts not at all', () => {
    expect(parseGrade(grade('東京です。', '東京です。')!.text)).toEqual({
      status: 'graded',
      correctness: 5,
      japanese: 5,
    });
    expect(parseGrade(grade('The capital is Tokyo.', '東京です。')!.text)).toEqual({
      status: 'graded',
      correctness: 1,
      japanese: 1,
    });
    expect(parseGrade(grade('東京です。')!.text)).toMatchObject({ correctness: 3, japanese: 5 });
    expect(parseGrade(grade('  ', '東京')!.text)).toMatchObject({ correctness: 1, japanese: 1 });
    expect(judgeAnswerText('日本の首都は？', 64)).toBeUndefined();
  });

  test('a token cap too small for the grade line cuts it, and the cut reply is malformed', () => {
    const cut = grade('東京です。', '東京です。', 3)!;
    expect(cut.truncated).toBe(true);
    expect(parseGrade(cut.text)).toMatchObject({ status: 'malformed' });
  });
});

describe('judgePreflight: what btp run says of the judge before it uploads anything', () => {
  test('nothing without a judge; with one, a bound per evaluated model from the configuration alone', () => {
    expect(judgePreflight(resolveRunConfig({}))).toBeUndefined();
    const config = resolveRunConfig({
      provisioning: { evaluateSamples: 5 },
      evaluation: { maxTokenCount: 100, judge: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0', maxUsd: 2 } },
    });
    const rubric = estimateTokens(judgePrompt({ prompt: '', reference: '', answer: '' }));
    const note = judgePreflight(config, 3)!;
    // 5 test records and 3 prompts of the file, each assumed 3 x 100 tokens over the rubric
    expect(note).toContain('grades up to 8 answer(s) of each of 1 evaluated model(s)');
    expect(note).toContain(`~${8 * (rubric + 300)} input + at most ${8 * 64} output tokens`);
    expect(note).toMatch(/~\$[0-9.]+ \(UNVERIFIED prices\)/);
    expect(note).toContain('maxUsd $2');
    // maxSamples caps it; a model without a price is an unknown cost
    const capped = resolveRunConfig({
      provisioning: { evaluateSamples: 5 },
      evaluation: { judge: { modelId: 'amazon.titan-text-express-v1', maxSamples: 2 } },
    });
    expect(judgePreflight(capped, 100)).toMatch(/up to 2 answer\(s\).*cost unknown/);
  });

  test('preflight refuses a judge the catalog does not know, before anything is uploaded', () => {
    const config = resolveRunConfig({ evaluation: { judge: { modelId: 'openai.gpt-oss-120b-1:0' } } });
    const { errors } = modelChecks(config, new Date('2024-06-01'));
    expect(errors.join('\n')).toMatch(
      /evaluation\.judge\.modelId openai\.gpt-oss-120b-1:0 is not a model the catalog knows/,
    );
    expect(modelChecks(resolveRunConfig({}), new Date('2024-06-01')).errors.join('\n')).not.toContain('judge');
  });
});
