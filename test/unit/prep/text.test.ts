import { createHash } from 'node:crypto';
import { contentKey, normalizeText, seededRank } from '../../../shared/prep/text';

/** The digests as the pipeline has always made them: each normalised part, then a NUL, fed to one SHA-256 in turn. */
function keyPartByPart(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(normalizeText(p)).update('\u0000');
  return h.digest('hex').slice(0, 32);
}

describe('content keys and seeded ranks', () => {
  // Keys and ranks are in every manifest and decide duplicates and sets: hashing in one call must not change one.
  const texts = [
    ['質問です', '答えです'],
    ['ＡＢＣ　１', ' x\n'],
    ['', ''],
    ['lone \uD800 high', 'lone \uDC00 low \uD83D'],
    ['𠮷野家', 'e\u0301'],
    ['a'.repeat(100_000), 'b'],
    ['one part only'],
  ];

  it.each(texts)('gives the digest of the parts hashed one after the other (%#)', (...parts: string[]) => {
    expect(contentKey(parts)).toBe(keyPartByPart(parts));
  });

  it('knows a text by SHA-256 of its normalised parts, each followed by NUL', () => {
    // printf 'abc\0' | sha256sum
    expect(contentKey(['abc'])).toBe('dc1114cd074914bd872cc1f9a23ec910');
  });

  it('ranks by SHA-256 of the seed, NUL and the key', () => {
    for (const [seed, key] of [
      ['42', 'abc'],
      ['', ''],
      ['seed \uD800', 'k'],
    ] as const) {
      const ref = createHash('sha256').update(seed).update('\u0000').update(key).digest('hex').slice(0, 24);
      expect(seededRank(seed, key)).toBe(ref);
    }
  });
});
