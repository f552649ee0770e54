/**
 * What the evaluation measures in one answer, by rules a reader can check by hand: pure functions of the prompt, the
 * reference and the answer. Text is counted in Unicode code points throughout (`[...s]`), so an astral character
 * (𠮷, an emoji) counts once, as a reader counts it.
 */

/** Code points of a text. */
export const codePoints = (text: string): number => [...text].length;

// Script_Extensions, not Script: the long vowel mark ー and the iteration marks ゝゞ are Common/Inherited by Script
// but belong to the kana by Script_Extensions (https://www.unicode.org/reports/tr24/). Han covers 々 too.
const JAPANESE = /[\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Han}]/u;
const LETTER = /\p{L}/u;

/**
 * The share of an answer's letters (Unicode category L: punctuation, digits, symbols and spaces do not count) that
 * are in Japanese script: hiragana, katakana or kanji. A text without letters has a share of 0. Kanji alone cannot
 * tell Japanese from Chinese; the answers this measures are a Japanese model's, where the failure to catch is an
 * answer in English.
 */
export function japaneseShare(text: string): number {
  let letters = 0;
  let japanese = 0;
  for (const ch of text) {
    if (!LETTER.test(ch)) continue;
    letters++;
    if (JAPANESE.test(ch)) japanese++;
  }
  return letters === 0 ? 0 : japanese / letters;
}

/** An answer is "in Japanese" when most of its letters are (more than half: `japaneseShare` > 0.5). */
export const isMostlyJapanese = (text: string): boolean => japaneseShare(text) > 0.5;

const KANJI_DIGITS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** `5`, `５`, `五`, `十`, `十二`, `二十` as a number (1-99); undefined for anything else. */
export function parseCount(text: string): number | undefined {
  const ascii = text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (/^\d+$/.test(ascii)) return Number(ascii);
  const m = /^([一二三四五六七八九]?)(十?)([一二三四五六七八九]?)$/.exec(text);
  if (!m || text === '') return undefined;
  const [, tens, ten, ones] = m;
  if (!ten) return tens && !ones ? KANJI_DIGITS[tens] : undefined;
  return (tens ? KANJI_DIGITS[tens]! : 1) * 10 + (ones ? KANJI_DIGITS[ones]! : 0);
}

const NUMBER = '[0-9０-９]+|[一二三四五六七八九]?十?[一二三四五六七八九]?';
// A count the prompt asks for: "5つ挙げて", "三つ教えて", "10個のアイデア", "５項目", "3点", "5 items", "five ideas"
// is not matched (a number written in English words is rare in these prompts). The counter words are Japanese
// counters for items of a list (つ, 個, 点, 項目, 案, 件, 種類, 選, 品, 冊, 曲, 人, か所/カ所/ヶ所).
const COUNT_REQUEST = new RegExp(
  `(${NUMBER})\\s*(?:つ|個|点|項目|案|件|種類|選|品|冊|曲|人|[かカヶケ]所|items?\\b|ideas?\\b|examples?\\b|ways?\\b)`,
  'u',
);

/** The number of items the prompt asks for, when it asks for a count; undefined otherwise. */
export function requestedCount(prompt: string): number | undefined {
  // The instruction, not the knowledge: a closed-QA text may mention "3つの県" without asking for three of anything.
  const instruction = prompt.split(/\n知識:/u)[0]!;
  for (const m of instruction.matchAll(new RegExp(COUNT_REQUEST, 'gu'))) {
    const n = parseCount(m[1]!);
    if (n !== undefined && n > 0) return n;
  }
  return undefined;
}

// A line that starts a list item: a bullet (- * • ・ ● ○ ◦ ▪ ■ □ ◆ ◇ ★ ☆ →), a number ("1." "1)" "1、" "1．" "(1)"
// "（1）" "1:" "①" "一、"), or a markdown heading of a numbered item.
const ITEM_LINE =
  /^\s*(?:[-*•・●○◦▪■□◆◇★☆→]|(?:[0-9０-９]+|[一二三四五六七八九十]+)\s*[.)．、）:：]|[（(]\s*[0-9０-９]+\s*[)）]|[\u2460-\u2473\u2776-\u277f])/u;

/**
 * How many items a list answer holds. Lines that start with a bullet or a number, when there are at least two;
 * else the non-empty lines, when there are at least two; else the items of a one-line enumeration separated by 、 ,
 * ， or ・ (a sentence ending in 。 is not an enumeration and counts as one item). An empty answer has none.
 */
export function listItems(answer: string): number {
  const lines = answer.split(/\r?\n/u).filter((l) => l.trim() !== '');
  const marked = lines.filter((l) => ITEM_LINE.test(l)).length;
  if (marked >= 2) return marked;
  if (lines.length >= 2) return lines.length;
  if (lines.length === 0) return 0;
  const line = lines[0]!.trim().replace(/[。.]$/u, '');
  if (/[。]/u.test(line)) return 1;
  return line.split(/[、,，・]/u).filter((s) => s.trim() !== '').length;
}

// A length the prompt sets: "100文字以内", "200字以内で", "50文字程度", "３０字以下", "100 characters or less".
const LIMIT_REQUEST =
  /([0-9０-９]+)\s*(?:文字|字)\s*(?:以内|以下|程度|まで|前後)|(?:in|within|under)\s+([0-9]+)\s+(?:characters|chars)\b|([0-9]+)\s+(?:characters|chars)\s+or\s+(?:less|fewer)/iu;

/** The length limit (code points) the prompt sets, when it sets one. */
export function requestedLimit(prompt: string): number | undefined {
  const m = LIMIT_REQUEST.exec(prompt.split(/\n知識:/u)[0]!);
  const digits = m?.[1] ?? m?.[2] ?? m?.[3];
  return digits === undefined ? undefined : parseCount(digits);
}
