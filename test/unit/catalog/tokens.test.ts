import { estimateTokens, truncateToTokens } from '../../../shared/catalog/tokens';

describe('estimateTokens', () => {
  it('counts nothing for empty text', () => {
    expect(estimateTokens('')).toBe(0);
  });

  it('counts every Japanese character as at least one token, by code point', () => {
    expect(estimateTokens('日本語')).toBe(3);
    expect(estimateTokens('ひらがなカタカナ')).toBe(8);
    // '𠮷' is two UTF-16 units but one character.
    expect('𠮷'.length).toBe(2);
    expect(estimateTokens('𠮷')).toBe(1);
  });

  it('counts English at about four characters per token, never fewer tokens than words', () => {
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('a b c d')).toBe(4);
    expect(estimateTokens('The quick brown fox jumps over the lazy dog')).toBe(11);
  });

  it("is more conservative than AWS's 6-characters-per-token rule on both scripts", () => {
    const english = 'Bedrock customization jobs validate their training data asynchronously.';
    const japanese = 'ヴァージン・オーストラリア航空は2000年8月31日に運航を開始した。';
    expect(estimateTokens(english)).toBeGreaterThan(english.length / 6);
    expect(estimateTokens(japanese)).toBeGreaterThanOrEqual([...japanese].length - 8);
  });

  it('adds mixed runs: ASCII runs between Japanese characters are counted separately', () => {
    // 'AWS' = 1, 'で' = 1, 'Bedrock' = 2, 'を使う' = 3
    expect(estimateTokens('AWSでBedrockを使う')).toBe(7);
  });
});

describe('truncateToTokens', () => {
  it('keeps text that fits', () => {
    expect(truncateToTokens('短い', 5)).toEqual({ text: '短い', truncated: false });
  });

  it('cuts to the longest prefix within the limit, on a code-point boundary', () => {
    const { text, truncated } = truncateToTokens('𠮷𠮷𠮷𠮷', 2);
    expect(truncated).toBe(true);
    expect(text).toBe('𠮷𠮷');
    expect(estimateTokens(truncateToTokens('one two three four five', 3).text)).toBeLessThanOrEqual(3);
  });
});
