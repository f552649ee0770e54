import {
  codePoints,
  isMostlyJapanese,
  japaneseShare,
  listItems,
  parseCount,
  requestedCount,
  requestedLimit,
} from '../../../shared/evaluation/metrics';

describe('japaneseShare / isMostlyJapanese', () => {
  test('an answer in Japanese script is Japanese; punctuation and digits do not count', () => {
    expect(japaneseShare('東京は日本の首都です。人口は約1400万人。')).toBe(1);
    expect(isMostlyJapanese('カタカナのコーヒーとひらがな')).toBe(true); // ー belongs to the kana
  });

  test('an answer in English is not Japanese', () => {
    expect(japaneseShare('Tokyo is the capital of Japan.')).toBe(0);
    expect(isMostlyJapanese('Tokyo is the capital of Japan.')).toBe(false);
  });

  test('a mixed answer is Japanese when most of its letters are', () => {
    expect(isMostlyJapanese('AWSのBedrockでモデルを調整します')).toBe(true); // 11 Japanese letters of 21
    expect(isMostlyJapanese('Amazon Bedrock is a managed service です')).toBe(false);
  });

  test('an empty answer, or one without letters, is not Japanese', () => {
    expect(japaneseShare('')).toBe(0);
    expect(isMostlyJapanese('123 !?。')).toBe(false);
  });

  test('an astral kanji is Japanese, counted once', () => {
    expect(japaneseShare('𠮷野家')).toBe(1);
    expect(japaneseShare('𠮷 a')).toBe(0.5);
  });
});

describe('requestedCount / parseCount', () => {
  test.each([
    ['日本の有名な山を5つ挙げてください。', 5],
    ['夏休みにできることを５つ教えて', 5],
    ['週末の過ごし方を三つ考えてください', 3],
    ['10個のアイデアをください', 10],
    ['十二か所の名所を挙げて', 12],
    ['二十の質問', undefined],
    ['List 5 ideas for a weekend', 5],
    ['日本の首都はどこですか？', undefined],
  ])('%j asks for %p items', (prompt, n) => {
    expect(requestedCount(prompt)).toBe(n);
  });

  test('only the instruction counts, not the knowledge given with it', () => {
    expect(requestedCount('入力:この文章を要約してください。\n知識:日本には3つの大都市圏がある。')).toBeUndefined();
  });

  test('numbers in digits, full-width digits and kanji', () => {
    expect([parseCount('7'), parseCount('１２'), parseCount('五'), parseCount('十'), parseCount('二十三')]).toEqual([
      7, 12, 5, 10, 23,
    ]);
    expect(parseCount('')).toBeUndefined();
    expect(parseCount('百')).toBeUndefined();
  });
});

describe('listItems', () => {
  test('a numbered list of four when five were asked counts four', () => {
    expect(listItems('1. 富士山\n2. 北岳\n3. 奥穂高岳\n4. 間ノ岳')).toBe(4);
  });

  test('bullets of several kinds, with a lead-in line that is not an item', () => {
    expect(listItems('おすすめは次のとおりです。\n・読書\n・散歩\n- 料理\n* 映画\n• 昼寝')).toBe(5);
    expect(listItems('①りんご\n②みかん\n（3）バナナ')).toBe(3);
  });

  test('lines without markers count as items; a one-line enumeration splits on 、', () => {
    expect(listItems('読書\n散歩\n料理')).toBe(3);
    expect(listItems('りんご、みかん、バナナ、ぶどう、もも。')).toBe(5);
  });

  test('one sentence is one item, an empty answer none', () => {
    expect(listItems('富士山は高い。北岳も高い。')).toBe(1);
    expect(listItems('  \n')).toBe(0);
  });
});

describe('requestedLimit / codePoints', () => {
  test.each([
    ['100文字以内で要約してください', 100],
    ['２００字程度で説明して', 200],
    ['Summarize in 50 characters', 50],
    ['要約してください', undefined],
  ])('%j sets a limit of %p', (prompt, n) => {
    expect(requestedLimit(prompt)).toBe(n);
  });

  test('text is counted in code points: an astral character or an emoji counts once', () => {
    expect(codePoints('𠮷野家🍚')).toBe(4);
    expect('𠮷野家🍚'.length).toBe(6);
  });
});
