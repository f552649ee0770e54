import type { EvaluationSample } from '../../../shared/artifacts';
import { chrF } from '../../../shared/evaluation/chrf';
import { scoreSample, scoreTable } from '../../../shared/evaluation/scores';

const RULES = { overlongRatio: 2 };

describe('scoreSample', () => {
  test('an answer in English: not Japanese, no overlap with a Japanese reference', () => {
    const s = scoreSample(
      { prompt: '日本の首都はどこですか？', reference: '日本の首都は東京です。', answer: 'The capital is Tokyo.' },
      RULES,
    );
    expect(s).toMatchObject({ japanese: false, japaneseShare: 0, overlap: 0, overlong: false, chars: 21 });
  });

  test('a list of four when five were asked does not meet the count', () => {
    const s = scoreSample(
      {
        prompt: '日本の高い山を5つ挙げてください。',
        reference: '富士山、北岳、奥穂高岳、間ノ岳、槍ヶ岳',
        answer: '1. 富士山\n2. 北岳\n3. 奥穂高岳\n4. 間ノ岳',
      },
      RULES,
    );
    expect(s).toMatchObject({ requestedCount: 5, items: 4, countMet: false, japanese: true });
    const five = scoreSample(
      { prompt: '日本の高い山を5つ挙げてください。', reference: '', answer: '富士山、北岳、奥穂高岳、間ノ岳、槍ヶ岳' },
      RULES,
    );
    expect(five).toMatchObject({ requestedCount: 5, items: 5, countMet: true });
  });

  test('an overlong answer: over the limit the prompt sets, or without one over twice the reference', () => {
    const summary = 'あ'.repeat(120);
    expect(
      scoreSample({ prompt: '100文字以内で要約してください。', reference: 'い'.repeat(90), answer: summary }, RULES),
    ).toMatchObject({ limit: 100, overlong: true, chars: 120, referenceChars: 90 });
    // a limit given by the prompt file wins over the prompt's text
    expect(scoreSample({ prompt: '100文字以内で', reference: '', answer: summary, limit: 200 }, RULES)).toMatchObject({
      limit: 200,
      overlong: false,
    });
    expect(scoreSample({ prompt: '説明して', reference: 'い'.repeat(59), answer: summary }, RULES).overlong).toBe(true);
    expect(scoreSample({ prompt: '説明して', reference: 'い'.repeat(60), answer: summary }, RULES).overlong).toBe(
      false,
    );
  });

  test('astral characters count once in every length', () => {
    const s = scoreSample({ prompt: '説明して', reference: '𠮷野家🍚', answer: '𠮷野家🍚です' }, RULES);
    expect(s).toMatchObject({ chars: 6, referenceChars: 4, japanese: true });
    expect(s.overlap).toBeCloseTo(chrF('𠮷野家🍚です', '𠮷野家🍚'), 12);
  });

  test('a prompt file line without a reference has no overlap or reference length', () => {
    const s = scoreSample({ prompt: '自己紹介して', reference: '', answer: 'こんにちは', hasReference: false }, RULES);
    expect(s.overlap).toBeUndefined();
    expect(s.referenceChars).toBeUndefined();
  });
});

describe('scoreTable', () => {
  const line = (
    index: number,
    category: string,
    answer: string | undefined,
    reference = '東京です。',
  ): EvaluationSample => ({
    index,
    kind: 'prompt-completion',
    prompt: category === 'brainstorming' ? '3つ挙げて' : '首都は？',
    reference,
    category,
    source: 'test',
    ...(answer === undefined
      ? { error: 'ThrottlingException' }
      : {
          modelOutput: answer,
          scores: scoreSample(
            { prompt: category === 'brainstorming' ? '3つ挙げて' : '首都は？', reference, answer },
            RULES,
          ),
        }),
  });

  test('summarises overall and by category; failed answers count as samples, not as answers', () => {
    const t = scoreTable([
      line(0, 'open_qa', '東京です。'),
      line(1, 'open_qa', 'Tokyo.'),
      line(2, 'open_qa', undefined),
      line(3, 'brainstorming', 'a、b、c', ''),
      line(4, 'brainstorming', 'りんご\nみかん', ''),
    ]);
    expect(t.overall).toMatchObject({ samples: 5, answered: 4, countRequests: 2, countMet: 1, formatCompliance: 0.5 });
    expect(t.byCategory.open_qa).toMatchObject({ samples: 3, answered: 2, japaneseRatio: 0.5, overlap: 50 });
    expect(t.byCategory.brainstorming).toMatchObject({ japaneseRatio: 0.5, overlap: null, lengthRatio: null });
    expect(Object.keys(t.byCategory)).toEqual(['brainstorming', 'open_qa']);
    expect(t.bySource.test?.samples).toBe(5);
    expect(t.bySource.prompts).toBeUndefined();
  });

  test('a sample seen in training is left out of every group', () => {
    const t = scoreTable([line(0, 'open_qa', '東京です。'), { ...line(1, 'open_qa', 'Tokyo.'), seenInTraining: true }]);
    expect(t.overall).toMatchObject({ samples: 1, japaneseRatio: 1, overlap: 100 });
  });
});
