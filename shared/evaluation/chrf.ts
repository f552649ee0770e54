/**
 * chrF (Popović 2015, https://aclanthology.org/W15-3049/): the F-score of character n-grams (n = 1..6, recall weighted
 * by beta = 2) between an answer and its reference, on a 0-100 scale. On characters it needs no word segmentation,
 * which Japanese text does not have, and it is the overlap score the evaluation reports.
 *
 * The definition followed is sacreBLEU's sentence-level chrF with its defaults (CHRF(char_order=6, word_order=0,
 * beta=2, whitespace=False, eps_smoothing=False), https://github.com/mjpost/sacrebleu, sacrebleu/metrics/chrf.py):
 * whitespace is removed before the n-grams are taken; the precisions and recalls of the orders that both texts have
 * are averaged, and the F-score is taken of the averages. Characters are code points, as Python's str counts them.
 * test/unit/evaluation/chrf.test.ts checks this against figures sacreBLEU 2.6.0 computed.
 */

export const CHRF_ORDER = 6;
export const CHRF_BETA = 2;

/** The n-grams of each order 1..CHRF_ORDER, counted. */
function ngramCounts(chars: string[]): Array<Map<string, number>> {
  const out: Array<Map<string, number>> = [];
  for (let n = 1; n <= CHRF_ORDER; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const g = chars.slice(i, i + n).join('');
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    out.push(counts);
  }
  return out;
}

const total = (m: Map<string, number>): number => {
  let t = 0;
  for (const v of m.values()) t += v;
  return t;
};

/** chrF of an answer against one reference, 0-100. */
export function chrF(answer: string, reference: string): number {
  const strip = (s: string) => [...s.replace(/\s+/gu, '')];
  const hyp = ngramCounts(strip(answer));
  const ref = ngramCounts(strip(reference));
  const factor = CHRF_BETA ** 2;
  let precisions = 0;
  let recalls = 0;
  let orders = 0;
  for (let n = 0; n < CHRF_ORDER; n++) {
    const h = hyp[n]!;
    const r = ref[n]!;
    const nHyp = total(h);
    const nRef = total(r);
    if (nHyp === 0 || nRef === 0) continue; // an order one text is too short for is left out of the averages
    let matches = 0;
    for (const [g, c] of h) matches += Math.min(c, r.get(g) ?? 0);
    precisions += matches / nHyp;
    recalls += matches / nRef;
    orders++;
  }
  if (orders === 0) return 0;
  const p = precisions / orders;
  const r = recalls / orders;
  return p + r === 0 ? 0 : (100 * (1 + factor) * p * r) / (factor * p + r);
}
