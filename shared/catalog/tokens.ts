/**
 * A conservative token estimator for dataset checks and emulated inference.
 *
 * Why an estimator: Titan's tokenizer is not public, and Bedrock enforces its per-record limits in tokens
 * ("Maximum input token count N exceeds limit of 4096", docs/bedrock-api.md §6.4;
 * https://docs.aws.amazon.com/bedrock/latest/userguide/fine-tuning-troubleshooting.html). The preflight and the
 * emulator must reject the records Bedrock would reject, so the estimate must err on the high side: a record that
 * passes here should pass there.
 *
 * The rules and why:
 * - Count Unicode code points (`[...text]`), never UTF-16 units: `'𠮷'.length` is 2 but it is one character.
 * - Every CJK ideograph, kana, hangul or full-width character counts as one token. AWS's own rule of thumb
 *   ("6 characters per token", https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html)
 *   is for English; on Japanese it would undercount about six-fold. Sub-word tokenizers rarely merge two CJK
 *   characters, and often split a rare one into bytes, so one per character is the least a Japanese character costs.
 * - Any other non-ASCII code point (accented letters, emoji, symbols) also counts as one token: such characters
 *   are usually split into bytes and rarely merged.
 * - A run of ASCII text counts as the larger of ceil(characters / 4) and its number of words. Four characters per
 *   token is the usual English figure for BPE vocabularies (denser than AWS's 6, hence conservative); counting
 *   words keeps short-word text ("a b c d") from being undercounted.
 *
 * The count is monotone in the prefix (a longer prefix never counts fewer tokens), which truncateToTokens relies on.
 */
export function estimateTokens(text: string): number {
  // One pass over UTF-16 units, without building the ASCII runs: it runs on every kept record of a data set.
  let tokens = 0;
  let run = 0; // characters in the current ASCII run
  let words = 0; // words (non-space stretches) in it, as run.split(/\s+/) counts them
  let inWord = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      run++;
      if (c === 32 || (c >= 9 && c <= 13)) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
      continue;
    }
    if (run > 0) tokens += Math.max(Math.ceil(run / 4), words);
    run = 0;
    words = 0;
    inWord = false;
    tokens += 1; // one code point: a surrogate pair counts once
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return run > 0 ? tokens + Math.max(Math.ceil(run / 4), words) : tokens;
}

/** The longest prefix of `text` whose estimate is at most `maxTokens`, cut on a code-point boundary. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  const chars = [...text];
  if (estimateTokens(text) <= maxTokens) return { text, truncated: false };
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateTokens(chars.slice(0, mid).join('')) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return { text: chars.slice(0, lo).join(''), truncated: true };
}
