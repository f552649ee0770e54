import { chooseSizes, selectSets, type Candidate } from '../../../shared/prep/select';

const cands = (n: number, cat = (i: number) => (i % 4 === 0 ? 'a' : 'b')): Candidate[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `key-${i}`,
    position: i,
    piece: 0,
    category: cat(i),
    chars: 10,
    tokens: 10,
    bytes: 40,
  }));

describe('set sizes', () => {
  it('caps each set at the model quota and says so', () => {
    const r = chooseSizes(
      50_000,
      { train: 20_000, validation: 2_000, test: 50, whenShort: 'shrink' },
      { maxTraining: 10_000, maxValidation: 1_000 },
    );
    expect(r.sizes).toEqual({ train: 10_000, validation: 1_000, test: 50 });
    expect(r.warnings).toEqual([
      "training set capped at the model's quota of 10000 records (asked 20000)",
      "validation set capped at the model's quota of 1000 records (asked 2000)",
    ]);
  });
  it('keeps training plus validation within a total quota', () => {
    expect(
      chooseSizes(50_000, { train: 10_000, validation: 1_000, test: 0, whenShort: 'shrink' }, { maxTotal: 10_000 })
        .sizes.train,
    ).toBe(9_000);
  });
  it('shrinks by one ratio, or fails, when short', () => {
    expect(chooseSizes(550, { train: 1000, validation: 100, test: 0, whenShort: 'shrink' }).sizes).toEqual({
      train: 500,
      validation: 50,
      test: 0,
    });
    expect(chooseSizes(550, { train: 1000, validation: 100, test: 0, whenShort: 'fail' }).failure).toMatch(
      /only 550 eligible records/,
    );
  });
});

describe('selection by seeded hash', () => {
  it('does not depend on the order records arrive in, and puts no record in two sets', () => {
    const c = cands(1000);
    const a = selectSets(c, { train: 600, validation: 100, test: 50 }, 'seed');
    const b = selectSets([...c].reverse(), { train: 600, validation: 100, test: 50 }, 'seed');
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort());
    expect(a.size).toBe(750);
  });
  it('stratified: each set holds each stratum in its share, within one record', () => {
    const a = selectSets(cands(1000), { train: 600, validation: 100, test: 40 }, 'seed', (x) => x.category!);
    for (const [set, size] of [
      ['train', 600],
      ['validation', 100],
      ['test', 40],
    ] as const) {
      const inSet = [...a.entries()].filter(([, s]) => s === set).map(([k]) => Number(k.slice(4)));
      const share = inSet.filter((i) => i % 4 === 0).length;
      expect(Math.abs(share - size / 4)).toBeLessThanOrEqual(1);
    }
  });
});
