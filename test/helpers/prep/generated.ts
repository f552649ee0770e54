/**
 * JSON Lines records made from a seed, most of them valid and the rest wrong in one small way: a bad or surrogate
 * escape, a raw control character, a key given twice, another key or `__proto__`, a value of another type, a missing
 * field, whitespace between the tokens, the keys in another order, a line cut short or with bytes after it, and
 * repeats of earlier records under another index or in other bytes of the same normal form. What a random mix finds
 * that the listed cases do not.
 */
export function generatedLines(seed: number, count: number): string[] {
  let s = seed >>> 0;
  const rand = (k: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), (s >>> 8) % k);
  // With characters NFKC changes or composes (half-width kana and a sound mark, a circled digit, a ligature, a
  // combining accent, full-width digits) and ones it leaves (long vowel mark, middle dot, wave dash), and words a
  // base model reserves, as they are and in full-width letters.
  const chars = ['あ', '漢', '𠮷', '😀', 'a', ' ', '　', '\t', '"', '\\', 'é', '。', 'Ｑ', '\u0001', '\n'];
  chars.push('ｶﾞ', '①', 'ﬁ', 'e\u0301', '１２', 'ー', '・', '〜', 'User:', 'Ｕｓｅｒ:', '[EOS]');
  // Raw JSON string bytes, valid and not: escapes of every kind, a truncated \u, lone surrogates, raw tab and quote.
  const raw = ['\\"', '\\\\', '\\/', '\\u00e9', '\\u3000', '\\x', '\\u12', '\\ud83d\\ude00', '\\ud83d', '\t', '\u0001'];
  const text = () => {
    let out = '';
    for (let i = rand(14); i > 0; i--)
      out += rand(60) === 0 ? raw[rand(raw.length)]! : JSON.stringify(chars[rand(chars.length)]!).slice(1, -1);
    return out;
  };
  const value = (key: string) => {
    const v = rand(120);
    if (v < 4) return ['7', 'null', '{"a":"b"}', '["x"]'][v]!;
    return key === 'category' ? `"${['open_qa', 'c', 'say \\"hi\\"', ''][rand(4)]}"` : `"${text()}"`;
  };
  const space = () => [' ', '', '\t', '  '][rand(4)]!;
  const lines: string[] = [];
  while (lines.length < count) {
    if (lines.length > 0 && rand(4) === 0) {
      const earlier = lines[rand(lines.length)]!;
      const again = rand(2) ? earlier.replace(/"index":"[^"]*"/, `"index":"${rand(1000)}"`) : earlier;
      // Sometimes the same text after NFKC in other bytes: full-width letters and digits as ASCII, a ligature spelt
      // out.
      lines.push(rand(3) === 0 ? again.replace(/Ｑ/g, 'Q').replace(/１２/g, '12').replace(/ﬁ/g, 'fi') : again);
      continue;
    }
    const members = ['index', 'instruction', 'input', 'output', 'category']
      .filter(() => rand(10) !== 0)
      .map((key) => `"${key}":${value(key)}`);
    if (rand(5) === 0) {
      const key = ['x', '__proto__', 'constructor', 'instruction', 'input', 'output', 'category'][rand(7)]!;
      members.splice(rand(members.length + 1), 0, `"${key}":${value(key)}`);
    }
    if (rand(8) === 0) members.reverse();
    let line = `{${members.map((m) => (rand(6) === 0 ? `${space()}${m.replace(':', `${space()}:${space()}`)}${space()}` : m)).join(',')}}`;
    if (rand(80) === 0) line = line.slice(0, rand(line.length));
    if (rand(80) === 0) line += ' x';
    lines.push(rand(15) === 0 ? ` ${line}` : line);
  }
  return lines;
}
