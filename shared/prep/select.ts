import type { SplitConfig } from '../config/run-config';
import { SET_NAMES, type SetName } from '../artifacts/manifest';
import { seededRank } from './text';

export { SET_NAMES, type SetName };

/**
 * An eligible record (kept, first of its duplicates) as split sees it: a line of a chunk's meta.jsonl (KeptMeta,
 * whose one-letter names are the file's) under the names it is used by.
 */
export interface Candidate {
  /** The record's identity for duplicates and the seeded choice: its content key, or key and position without dedup. */
  key: string;
  /** Position in the whole input (KeptMeta.p) and piece of a document (q): the smallest is the one that stays. */
  position: number;
  piece: number;
  category?: string;
  stratum?: string;
  /** Code points of prompt plus completion (or input), and estimated tokens. */
  chars: number;
  tokens: number;
  /** Where the record is in the source: its line (text formats) or row. */
  line?: number;
  row?: number;
  /** Bytes of its record's line in kept.jsonl. */
  bytes: number;
}

export type Sizes = Record<SetName, number>;

/**
 * How many records each set gets: what the run asks, capped by the model's quotas, then shrunk by one ratio (with a
 * warning) or failed when there are fewer eligible records than asked.
 */
export function chooseSizes(
  eligible: number,
  split: Pick<SplitConfig, 'train' | 'validation' | 'test' | 'whenShort'>,
  caps: { maxTraining?: number | null; maxValidation?: number | null; maxTotal?: number | null } = {},
): { sizes: Sizes; warnings: string[]; failure?: string } {
  const warnings: string[] = [];
  const sizes: Sizes = { train: split.train, validation: split.validation, test: split.test };
  if (caps.maxTraining != null && sizes.train > caps.maxTraining) {
    warnings.push(`training set capped at the model's quota of ${caps.maxTraining} records (asked ${sizes.train})`);
    sizes.train = caps.maxTraining;
  }
  if (caps.maxValidation != null && sizes.validation > caps.maxValidation) {
    warnings.push(
      `validation set capped at the model's quota of ${caps.maxValidation} records (asked ${sizes.validation})`,
    );
    sizes.validation = caps.maxValidation;
  }
  if (caps.maxTotal != null && sizes.train + sizes.validation > caps.maxTotal) {
    const keep = caps.maxTotal - sizes.validation;
    warnings.push(
      `training set capped at ${keep} records so training plus validation stay within the model's quota of ${caps.maxTotal}`,
    );
    sizes.train = Math.max(0, keep);
  }
  const asked = sizes.train + sizes.validation + sizes.test;
  if (eligible >= asked) return { sizes, warnings };
  const what = `only ${eligible} eligible records for ${sizes.train} training + ${sizes.validation} validation + ${sizes.test} test`;
  if (split.whenShort === 'fail') return { sizes, warnings, failure: `${what} (split.whenShort is "fail")` };
  const ratio = eligible / asked;
  const shrunk: Sizes = {
    train: Math.floor(sizes.train * ratio),
    validation: Math.floor(sizes.validation * ratio),
    test: Math.floor(sizes.test * ratio),
  };
  if (shrunk.train === 0) return { sizes, warnings, failure: `${what}: too few to train on` };
  warnings.push(
    `${what}: every set shrunk by the ratio ${ratio.toFixed(4)} to ${shrunk.train} / ${shrunk.validation} / ${shrunk.test}`,
  );
  return { sizes: shrunk, warnings };
}

/**
 * Assigns records to sets by a seeded hash of their content, never by where or when they were read, so the same data
 * and seed give the same sets whatever the chunking. With `stratify`, each stratum is ordered by hash and the strata
 * are interleaved in proportion to their sizes, so every set holds each stratum in (within one record) its share.
 */
export function selectSets(
  cands: readonly Candidate[],
  sizes: Sizes,
  seed: string,
  stratify?: (c: Candidate) => string,
): Map<string, SetName> {
  const ranked = cands.map((c) => ({ c, rank: seededRank(seed, c.key) }));
  const byRank = (a: { rank: string; c: Candidate }, b: { rank: string; c: Candidate }) =>
    a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.c.key < b.c.key ? -1 : 1;
  let order: Candidate[];
  if (!stratify) {
    order = ranked.sort(byRank).map((x) => x.c);
  } else {
    const strata = new Map<string, typeof ranked>();
    for (const x of ranked) {
      const s = stratify(x.c);
      const list = strata.get(s) ?? [];
      list.push(x);
      strata.set(s, list);
    }
    const placed: Array<{ at: number; rank: string; c: Candidate }> = [];
    for (const list of strata.values()) {
      list.sort(byRank);
      list.forEach((x, i) => placed.push({ at: (i + 0.5) / list.length, rank: x.rank, c: x.c }));
    }
    order = placed.sort((a, b) => a.at - b.at || byRank(a, b)).map((x) => x.c);
  }
  const assign = new Map<string, SetName>();
  let i = 0;
  for (const set of SET_NAMES) {
    for (let n = 0; n < sizes[set] && i < order.length; n++) assign.set(order[i++]!.key, set);
  }
  return assign;
}
