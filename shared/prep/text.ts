import * as crypto from 'node:crypto';

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

/**
 * SHA-256 of a string's UTF-8 bytes, hex. `crypto.hash` (Node 20.12 on) hashes in one call, without the Hash object
 * `createHash` builds each time: a run hashes every distinct text and candidate, and that object cost more than the
 * hashing of a short text. Strings joined and then hashed give the bytes of each hashed in turn, so the digest is the
 * same either way.
 */
const sha256Hex: (s: string) => string =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'hex')
    : (s) => crypto.createHash('sha256').update(s).digest('hex');

/** 128 bits of SHA-256, hex: the identity of a record's text (duplicates share it) and the seed of its selection. */
export function contentKey(parts: readonly string[]): string {
  let s = '';
  for (const p of parts) s += `${normalizeText(p)}\u0000`;
  return sha256Hex(s).slice(0, 32);
}

/** The rank of a record in a seeded shuffle: depends on its content and the seed only, never on where it was read. */
export function seededRank(seed: string, key: string): string {
  return sha256Hex(`${seed}\u0000${key}`).slice(0, 24);
}

/** The first characters of a text, for reject lines: enough to find the record, not a copy of a huge one. */
export function prefix(s: string, max = 120): string {
  if (s.length <= max) return s;
  const c = s.charCodeAt(max - 1);
  const end = c >= 0xd800 && c <= 0xdbff ? max - 1 : max; // never end on half a surrogate pair
  return s.slice(0, end) + '…';
}
