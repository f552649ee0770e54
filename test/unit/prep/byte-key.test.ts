import { estimateTokens } from '../../../shared/catalog';
import { ByteKeyer, byteKeyClasses } from '../../../shared/prep/byte-key';
import { decodedText, FlatObjectReader, type FieldRange } from '../../../shared/prep/json-fields';
import { codePointLength, contentKey } from '../../../shared/prep/text';

/**
 * The keyer works out a new text's content key, tokens and lengths from its bytes for characters whose normal form
 * (NFKC, whitespace runs as one space) it knows character by character. These tests hold it to the string functions
 * it stands in for.
 */

const { table, SAME, WS, WIDE, OUT } = byteKeyClasses;
const chr = (cp: number) => String.fromCodePoint(cp);

describe('the characters the keyer reads', () => {
  it('are each left as they are by NFKC, or mapped to one ASCII character by the fullwidth rule, and whitespace is ASCII', () => {
    const wrong: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      const cls = table[cp];
      if (cls === OUT) continue;
      const c = chr(cp);
      const nfkc = c.normalize('NFKC');
      if (cls === SAME && (nfkc !== c || /\s/.test(c))) wrong.push(cp.toString(16));
      if (cls === WIDE && (nfkc !== chr(cp - 0xfee0) || /\s/.test(nfkc))) wrong.push(cp.toString(16));
      if (cls === WS && (!/\s/.test(c) || cp >= 0x80)) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('do not compose with a neighbour: NFKC of two is the two mapped in turn', () => {
    const mapped = (cp: number) => (table[cp] === WIDE ? chr(cp - 0xfee0) : chr(cp));
    const starters = [0x61, 0x3a, 0x304b, 0x30a6, 0x30fd, 0x6f22, 0xff21, 0x3001];
    const wrong: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      if (table[cp] === OUT || table[cp] === WS) continue;
      for (const s of starters) {
        if ((chr(s) + chr(cp)).normalize('NFKC') !== mapped(s) + mapped(cp)) wrong.push(`${s.toString(16)}+${cp}`);
        if ((chr(cp) + chr(s)).normalize('NFKC') !== mapped(cp) + mapped(s)) wrong.push(`${cp.toString(16)}+${s}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

/** A generator of texts: characters of every kind the keyer meets, and some it must refuse. */
function texts(seed: number) {
  let s = seed;
  const rand = (k: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % k);
  const inSet = ['あ', 'ア', 'ー', '漢', '字', '。', '、', '「', '」', '々', '〜', 'A', 'z', '1', ':', '"', '\\', '/'];
  const wide = ['（', '）', '？', '：', '！', 'Ａ', '１', '～', '＂', '＼'];
  const space = [' ', '  ', '\n', '\t', '\r\n', '\f', '\u000b'];
  const outside = ['é', '𠮷', 'ｶ', '\u3099', '℃', '　', '\u00a0', '\u0001', '\u0008', 'ß'];
  const piece = (): string => {
    const r = rand(100);
    if (r < 50) return inSet[rand(inSet.length)]!;
    if (r < 70) return wide[rand(wide.length)]!;
    if (r < 92) return space[rand(space.length)]!;
    return outside[rand(outside.length)]!;
  };
  return (max: number) => Array.from({ length: rand(max) }, piece).join('');
}

/**
 * A field as JSON writes it: JSON.stringify's escapes, or now and then some characters escaped otherwise (\u, a
 * solidus escaped), which are valid and not JSON.stringify's.
 */
function asJson(text: string, odd: boolean): string {
  const body = JSON.stringify(text).slice(1, -1);
  if (!odd) return body;
  return body.replace(/[ア/：]/g, (c) => (c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`));
}

describe('the keyer', () => {
  const template = { inputPrefix: '入力:', knowledgeSeparator: '\n知識:' };

  it('gives contentKey, estimateTokens and the lengths the string way gives, or refuses the text', () => {
    const next = texts(7);
    const keyer = new ByteKeyer(template);
    const reader = new FlatObjectReader(
      ['instruction', 'input', 'output'],
      new Set(['instruction', 'input', 'output']),
    );
    let keyed = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const instruction = next(12);
      const input = i % 3 === 0 ? '' : i % 7 === 0 ? ' \n ' : next(8);
      const output = next(12);
      const odd = i % 5 === 0;
      const line = Buffer.from(
        `{"instruction":"${asJson(instruction, odd)}","input":"${asJson(input, odd)}","output":"${asJson(output, false)}"}`,
      );
      expect(JSON.parse(line.toString())).toEqual({ instruction, input, output });
      expect(reader.read(line)).toBe(true);
      const [a, inp, b] = reader.fields as FieldRange[];
      const r = keyer.scan(line, a!, inp, b!);
      const withInput = input.trim() !== '';
      const prompt = withInput ? `入力:${instruction}\n知識:${input}` : instruction;
      // A text may be refused only for a character outside the set (checked above), in a field it reads.
      const outside = (t: string) =>
        [...t].some((c) => c.codePointAt(0)! >= 0x10000 || table[c.codePointAt(0)!] === OUT);
      const refusable = outside(instruction + output) || outside(input);
      if (!r) {
        expect(refusable).toBe(true);
        refused++;
        continue;
      }
      keyed++;
      expect(r.key).toBe(contentKey([prompt, output]));
      expect(r.tokensIn).toBe(estimateTokens(prompt));
      expect(r.tokensOut).toBe(estimateTokens(output));
      expect(r.withInput).toBe(withInput);
      expect(r.prompt.toString('utf8')).toBe(prompt);
      for (const [range, text] of [
        [a!, instruction],
        [b!, output],
        ...(withInput ? [[inp!, input] as const] : []),
      ] as const) {
        expect(range.chars).toBe(codePointLength(text));
        expect(range.blank).toBe(text.trim() === '');
        // As decodedText fills a copy of the range.
        const again = { ...range };
        expect(decodedText(line, again)).toBe(text);
        expect({ escaped: range.escaped, canonical: range.canonical }).toEqual({
          escaped: again.escaped,
          canonical: again.canonical,
        });
      }
      if (!withInput) expect(inp!.blank).toBe(true);
    }
    // Both ways were taken many times.
    expect(keyed).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('refuses every text when the template holds a character outside the set', () => {
    const keyer = new ByteKeyer({ inputPrefix: 'Ｑ　', knowledgeSeparator: '\n' });
    expect(keyer.usable).toBe(false);
    const line = Buffer.from('{"instruction":"a","input":"b","output":"c"}');
    const reader = new FlatObjectReader(['instruction', 'input', 'output']);
    reader.read(line);
    const [a, inp, b] = reader.fields as FieldRange[];
    expect(keyer.scan(line, a!, inp, b!)).toBeUndefined();
  });
});
