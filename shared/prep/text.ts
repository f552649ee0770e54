import { createHash } from 'node:crypto';

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/**
 * Length in Unicode code points, as Bedrock counts characters: the same as `[...s].length` (a surrogate pair is one
 * character, `'𠮷'.length` is 2), without allocating an array per record.
 */
export function codePointLength(s: string): number {
  if (!HIGH_SURROGATE.test(s)) return s.length; // the common case, found by the regex engine's native scan
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The text two records are compared by: Unicode NFKC, runs of whitespace as one space, trimmed. */
export function normalizeText(s: string): string {
  return s.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

/** 128 bits of SHA-256, hex: the identity of a record's text (duplicates share it) and the seed of its selection. */
export function contentKey(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(normalizeText(p)).update('\u0000');
  return h.digest('hex').slice(0, 32);
}

/** The rank of a record in a seeded shuffle: depends on its content and the seed only, never on where it was read. */
export function seededRank(seed: string, key: string): string {
  return createHash('sha256').update(seed).update('\u0000').update(key).digest('hex').slice(0, 24);
}

/** The first characters of a text, for reject lines: enough to find the record, not a copy of a huge one. */
export function prefix(s: string, max = 120): string {
  if (s.length <= max) return s;
  const c = s.charCodeAt(max - 1);
  const end = c >= 0xd800 && c <= 0xdbff ? max - 1 : max; // never end on half a surrogate pair
  return s.slice(0, end) + '…';
}
