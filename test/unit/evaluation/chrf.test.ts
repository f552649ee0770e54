import { chrF } from '../../../shared/evaluation/chrf';

/**
 * Figures computed by sacreBLEU 2.6.0 (https://github.com/mjpost/sacrebleu), the reference implementation of chrF:
 * `sacrebleu.metrics.CHRF().sentence_score(answer, [reference]).score`, with its defaults (character n-grams up to 6,
 * beta 2, whitespace removed).
 */
const SACREBLEU: Array<[answer: string, reference: string, score: number]> = [
  ['東京は日本の首都です。', '日本の首都は東京です。', 42.288359788359784],
  ['富士山は日本で一番高い山です。', '富士山は日本で最も高い山で、標高は3776メートルです。', 29.442847184529725],
  ['The capital of Japan is Tokyo.', '日本の首都は東京です。', 0],
  ['', '日本の首都は東京です。', 0],
  ['東京', '東京', 100],
  ['猫', '猫が好き', 29.411764705882355],
  // astral characters: 𠮷 (U+20BB7) and 🍚 are one character each, as Python counts them
  ['𠮷野家で牛丼を食べた 🍚', '𠮷野家の牛丼 🍚 はおいしい', 14.804971468771985],
  ['りんご、みかん、バナナ、ぶどう、もも', '1. りんご\n2. みかん\n3. バナナ\n4. ぶどう\n5. いちご', 17.4610700116632],
  // an ideographic space is whitespace, removed like any other
  ['東京\u3000大阪', '東京大阪', 100],
];

describe('chrF', () => {
  test.each(SACREBLEU)('%j against %j is %d, as sacreBLEU computes it', (answer, reference, score) => {
    expect(chrF(answer, reference)).toBeCloseTo(score, 9);
  });

  test('an answer in English scores nothing against a Japanese reference', () => {
    expect(chrF('Tokyo is the capital.', '東京は首都です。')).toBe(0);
  });

  test('counts an astral character as one: a surrogate half never matches by itself', () => {
    // 𠮷 and 𠮟 share their high surrogate (U+D842): counted in UTF-16 units they would share a 1-gram.
    expect(chrF('𠮷', '𠮟')).toBe(0);
  });
});
